using Quartz.Impl.AdoJobStore;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// Quartz's lock on a SQLite store, taken through the database's <see cref="SqliteWriteGate"/> instead of Quartz's own
/// in-process gate, so Quartz and our transactions queue in one line. One hold covers both of Quartz's lock kinds (SQLite
/// has one writer anyway). A requestor that asks again while it holds the gate is counted, and released on its last
/// release; a flow that holds the gate for its own transaction (<see cref="SqliteWriteGate.HoldForThisFlow"/>) is answered
/// "already held" (<see langword="false"/>: nothing to release), so its enlisted Quartz calls run inside that transaction.
/// </summary>
internal sealed class SqliteGateLockHandler(SqliteWriteGate gate) : ILockHandler
{
    private readonly Dictionary<Guid, Hold> _holds = [];

    public bool RequiresConnection => false;

    public async ValueTask<bool> AcquireLock(
        Guid requestorId, ConnectionAndTransactionHolder? conn, SchedulerLock lockName, CancellationToken cancellationToken = default)
    {
        if (gate.IsHeldByThisFlow)
        {
            return false;
        }

        lock (_holds)
        {
            if (_holds.TryGetValue(requestorId, out var held))
            {
                held.Count++;
                return true;
            }
        }

        var lease = await gate.EnterAsync(cancellationToken).ConfigureAwait(false);
        lock (_holds)
        {
            _holds.Add(requestorId, new Hold(lease));
        }

        return true;
    }

    public async ValueTask ReleaseLock(Guid requestorId, SchedulerLock lockName, CancellationToken cancellationToken = default)
    {
        IAsyncDisposable lease;
        lock (_holds)
        {
            if (!_holds.TryGetValue(requestorId, out var held) || --held.Count > 0)
            {
                return;
            }

            _holds.Remove(requestorId);
            lease = held.Lease;
        }

        await lease.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Hold(IAsyncDisposable lease)
    {
        public IAsyncDisposable Lease { get; } = lease;

        public int Count { get; set; } = 1;
    }
}
