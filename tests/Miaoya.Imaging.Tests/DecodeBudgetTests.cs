using CsCheck;
using Miaoya.Limits;

namespace Miaoya.Imaging.Tests;

/// <summary>The budget is process-wide: these tests run alone (no other test decodes meanwhile).</summary>
[CollectionDefinition(nameof(DecodeBudgetTests), DisableParallelization = true)]
public sealed class DecodeBudgetTestGroup;

[Collection(nameof(DecodeBudgetTests))]
public sealed class DecodeBudgetTests
{
    private const long MiB = 1024 * 1024;

    private static readonly long Budget = InputLimits.Images.DecodeBudgetBytes;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    /// <summary>Gives a waiter that should stay waiting a moment to be (wrongly) served.</summary>
    private static async Task AssertWaiting(Task task, string what)
    {
        await Task.Delay(50);
        Assert.False(task.IsCompleted, $"{what} should be waiting");
    }

    [Fact]
    public void Budget_IsWholeWhenNothingDecodes()
    {
        Assert.Equal(512 * MiB, Budget);
        Assert.Equal(Budget, DecodeBudget.Available);
        Assert.False(DecodeBudget.Activity().Busy);
    }

    [Fact]
    public void Cost_IsEightBytesAPixel_AndNeverMoreThanTheBudget()
    {
        Assert.Equal(64L * 32 * 8, DecodeBudget.Cost(64, 32));
        Assert.Equal(8192L * 8192 * 8, DecodeBudget.Cost(8192, 8192));
        Assert.Equal(Budget, DecodeBudget.Cost(100_000, 100_000));
    }

    [Theory]
    [InlineData(int.MaxValue, int.MaxValue)]
    [InlineData(1_500_000_000, 1_000_000_000)]
    public void Cost_OfSidesPastWhatLongHolds_IsTheWholeBudget(int width, int height)
    {
        // width × height × 8 passes long.MaxValue: the cost must not wrap to a negative (a decode that takes nothing).
        Assert.Equal(Budget, DecodeBudget.Cost(width, height));
    }

    [Fact]
    public async Task AcquireAsync_MoreThanIsFree_WaitsUntilAShareIsDisposed()
    {
        var first = await DecodeBudget.AcquireAsync(400 * MiB);
        Assert.Equal(112 * MiB, DecodeBudget.Available);

        var second = DecodeBudget.AcquireAsync(200 * MiB).AsTask();
        await AssertWaiting(second, "a waiter for 200 MiB with 112 MiB free");
        Assert.True(DecodeBudget.Activity().Busy);

        first.Dispose();
        var share = await second.WaitAsync(Patience);
        Assert.Equal(312 * MiB, DecodeBudget.Available);

        share.Dispose();
        Assert.Equal(Budget, DecodeBudget.Available);
        Assert.False(DecodeBudget.Activity().Busy);
    }

    [Fact]
    public async Task AcquireAsync_Waiters_AreServedFirstComeFirstServed()
    {
        var holder = await DecodeBudget.AcquireAsync(500 * MiB);

        // The second waiter would fit in the 12 MiB free, but the first came before it: it waits its turn.
        var first = DecodeBudget.AcquireAsync(300 * MiB).AsTask();
        var second = DecodeBudget.AcquireAsync(10 * MiB).AsTask();
        var third = DecodeBudget.AcquireAsync(300 * MiB).AsTask();
        await AssertWaiting(second, "a small waiter behind a large one");

        holder.Dispose();
        var firstShare = await first.WaitAsync(Patience);
        var secondShare = await second.WaitAsync(Patience);
        await AssertWaiting(third, "the third waiter while the first holds 300 MiB");

        firstShare.Dispose();
        var thirdShare = await third.WaitAsync(Patience);

        secondShare.Dispose();
        thirdShare.Dispose();
        Assert.Equal(Budget, DecodeBudget.Available);
    }

    [Fact]
    public async Task AcquireAsync_CancelledWaiter_LeavesTheBudgetIntact_AndLetsTheNextOneIn()
    {
        var holder = await DecodeBudget.AcquireAsync(500 * MiB);
        using var cancel = new CancellationTokenSource();
        var cancelled = DecodeBudget.AcquireAsync(300 * MiB, cancel.Token).AsTask();
        var behind = DecodeBudget.AcquireAsync(10 * MiB).AsTask();
        await AssertWaiting(behind, "a waiter behind one that is not yet cancelled");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        var share = await behind.WaitAsync(Patience);
        Assert.Equal(2 * MiB, DecodeBudget.Available);
        share.Dispose();
        holder.Dispose();
        Assert.Equal(Budget, DecodeBudget.Available);
        Assert.False(DecodeBudget.Activity().Busy);
    }

    [Fact]
    public async Task AcquireAsync_AlreadyCancelled_TakesNothing()
    {
        var holder = await DecodeBudget.AcquireAsync(Budget);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DecodeBudget.AcquireAsync(MiB, new CancellationToken(canceled: true)).AsTask());

        holder.Dispose();
        Assert.Equal(Budget, DecodeBudget.Available);
    }

    [Fact]
    public async Task AcquireAsync_MoreThanTheWholeBudget_IsTheWholeBudget_NotAWaitForever()
    {
        using (var share = await DecodeBudget.AcquireAsync(10 * Budget).AsTask().WaitAsync(Patience))
        {
            Assert.Equal(0, DecodeBudget.Available);
        }

        using (await DecodeBudget.AcquireAsync(-5).AsTask().WaitAsync(Patience))
        {
            Assert.Equal(Budget, DecodeBudget.Available);
        }

        Assert.Equal(Budget, DecodeBudget.Available);
    }

    [Fact]
    public void Share_DisposedTwice_GivesBackOnce()
    {
        var share = DecodeBudget.Acquire(100 * MiB);
        var other = DecodeBudget.Acquire(100 * MiB);

        share.Dispose();
        share.Dispose();

        Assert.Equal(Budget - (100 * MiB), DecodeBudget.Available);
        other.Dispose();
        Assert.Equal(Budget, DecodeBudget.Available);
    }

    [Fact]
    public async Task Acquire_Blocking_WaitsForADisposeOnAnotherThread()
    {
        var holder = await DecodeBudget.AcquireAsync(Budget);
        var blocked = Task.Run(() => DecodeBudget.Acquire(MiB));
        await AssertWaiting(blocked, "a blocking Acquire with nothing free");

        holder.Dispose();

        (await blocked.WaitAsync(Patience)).Dispose();
        Assert.Equal(Budget, DecodeBudget.Available);
    }

    /// <summary>One client of the budget: how much it asks, whether and when it gives up waiting, how long it holds its share.</summary>
    public sealed record Client(long Bytes, int? CancelAfterMs, int HoldMs);

    [Fact]
    public async Task AcquireAsync_RandomClientsThatCancelOrHold_AlwaysGiveTheWholeBudgetBack()
    {
        // Many clients at once, some cancelling while they wait (some exactly as they are served): at the end every
        // byte is back, nobody is still waiting, and no share was granted past the budget.
        var client = Gen.Select(Gen.Long[0, 600 * MiB], Gen.Int[0, 6].Nullable(0.5), Gen.Int[0, 3], (b, c, h) => new Client(b, c, h));
        await client.Array[1, 12].SampleAsync(
            async clients =>
            {
                var peak = 0L;
                var held = 0L;
                var gate = new Lock();
                var runs = clients.Select(async c =>
                {
                    using var cancel = c.CancelAfterMs is { } ms ? new CancellationTokenSource(ms) : new CancellationTokenSource();
                    IDisposable share;
                    try
                    {
                        share = await DecodeBudget.AcquireAsync(c.Bytes, cancel.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    var bytes = Math.Min(c.Bytes, Budget);
                    lock (gate)
                    {
                        held += bytes;
                        peak = Math.Max(peak, held);
                    }

                    await Task.Delay(c.HoldMs);
                    lock (gate)
                    {
                        held -= bytes;
                    }

                    share.Dispose();
                }).ToArray();

                await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(10));

                Assert.True(peak <= Budget, $"{peak} bytes held at once");
                Assert.Equal(Budget, DecodeBudget.Available);
                Assert.False(DecodeBudget.Activity().Busy);
            },
            iter: 200,
            threads: 1);
    }

    [Fact]
    public async Task DecodeAsync_ManyAtOnce_StayWithinTheBudget_AndGiveItBack()
    {
        var png = new EncodedImage(TestImages.Png(256, 256));
        var before = DecodeBudget.Activity().Count;

        var images = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => png.DecodeAsync()));

        foreach (var image in images)
        {
            Assert.Equal(256, image.Width);
            image.Dispose();
        }

        Assert.Equal(Budget, DecodeBudget.Available);
        Assert.Equal(before + 16, DecodeBudget.Activity().Count);
    }
}
