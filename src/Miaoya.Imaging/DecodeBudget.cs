using Miaoya.Limits;

namespace Miaoya.Imaging;

/// <summary>
/// The process-wide budget for decoded pixels (<see cref="ImageLimits.DecodeBudgetBytes"/>): each decode takes its share
/// (width × height × 8 bytes, the decoders' working memory and the result) while it runs, and waits, first come first
/// served, while the budget is spent. However many uploads or steps decode at once, their pixels stay within the budget.
/// </summary>
public static class DecodeBudget
{
    private static readonly Lock Gate = new();
    private static readonly LinkedList<(long Bytes, TaskCompletionSource Ready)> Waiting = new();
    private static long available = InputLimits.Images.DecodeBudgetBytes;
    private static long finished;

    /// <summary>The bytes of budget a decode of <paramref name="width"/> × <paramref name="height"/> takes.</summary>
    public static long Cost(int width, int height)
    {
        var budget = InputLimits.Images.DecodeBudgetBytes;
        var pixels = (long)Math.Max(width, 0) * Math.Max(height, 0);
        return pixels > budget / 8 ? budget : pixels * 8;
    }

    /// <summary>Bytes of budget not taken right now.</summary>
    public static long Available
    {
        get
        {
            lock (Gate)
            {
                return available;
            }
        }
    }

    /// <summary>Decodes finished so far, and whether one is running or waiting (for <see cref="ImageMemory.GiveBackWhenIdleAsync"/>).</summary>
    public static (long Count, bool Busy) Activity()
    {
        lock (Gate)
        {
            return (finished, available < InputLimits.Images.DecodeBudgetBytes || Waiting.Count > 0);
        }
    }

    /// <summary>Waits for <paramref name="bytes"/> of budget; disposing the result gives them back.</summary>
    public static async ValueTask<IDisposable> AcquireAsync(long bytes, CancellationToken cancellationToken = default)
    {
        bytes = Math.Clamp(bytes, 0, InputLimits.Images.DecodeBudgetBytes);
        TaskCompletionSource ready;
        LinkedListNode<(long, TaskCompletionSource)> node;
        lock (Gate)
        {
            if (Waiting.Count == 0 && available >= bytes)
            {
                available -= bytes;
                return new Share(bytes);
            }

            ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = Waiting.AddLast((bytes, ready));
        }

        try
        {
            await ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new Share(bytes);
        }
        catch (OperationCanceledException)
        {
            lock (Gate)
            {
                if (node.List is not null)
                {
                    Waiting.Remove(node);
                    Grant();
                    throw;
                }
            }

            // Granted as the wait was cancelled: give the share back.
            Release(bytes);
            throw;
        }
    }

    /// <summary>The same, blocking the calling thread (for synchronous callers off the request path).</summary>
    public static IDisposable Acquire(long bytes)
    {
        var share = AcquireAsync(bytes);
        // No deadlock: a waiter is released by another decode's Dispose, and its continuation runs on the thread pool
        // (RunContinuationsAsynchronously), never on a context this thread holds.
#pragma warning disable VSTHRD002
        return share.IsCompletedSuccessfully ? share.Result : share.AsTask().GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
    }

    private static void Release(long bytes)
    {
        lock (Gate)
        {
            available += bytes;
            finished++;
            Grant();
        }
    }

    /// <summary>Hands budget to waiters in order while the first one fits (called under the lock).</summary>
    private static void Grant()
    {
        while (Waiting.First is { } first && available >= first.Value.Bytes)
        {
            Waiting.RemoveFirst();
            available -= first.Value.Bytes;
            first.Value.Ready.TrySetResult();
        }
    }

    private sealed class Share(long bytes) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Release(bytes);
            }
        }
    }
}
