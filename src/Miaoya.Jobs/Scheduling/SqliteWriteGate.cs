using System.Diagnostics.CodeAnalysis;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// One gate per SQLite database file in this process, taken before SQLite's write lock by everyone who writes and may
/// wait for the other: Quartz's own transactions (through <see cref="GatedSqliteProvider"/>) and our transactions that
/// schedule through Quartz. Without it an enlisted <c>ScheduleJob</c> inside our <c>BEGIN IMMEDIATE</c> waits for Quartz's
/// in-process lock while the scheduler thread holds that lock and waits for our write lock: a deadlock until SQLite's
/// 30 s busy timeout. With it the order is "gate, then write lock" for everyone, and Quartz, which takes its own lock
/// first, never waits for the gate: it only tries it, and retries its operation when the gate is taken.
/// </summary>
/// <remarks>
/// A transaction that calls Quartz: <c>await using (await gate.EnterAsync(ct))</c>, then <c>BEGIN IMMEDIATE</c>, then
/// <c>using (gate.HoldForThisFlow())</c> and <c>using (scheduler.EnlistTransaction(tx))</c> around the Quartz calls. The mark
/// is not what prevents the deadlock (the enlisted calls run on our connection, and Quartz only tries the gate); it turns a
/// Quartz call that forgot the enlistment, which would wait for the gate this flow holds, into an immediate error. A
/// transaction that never calls Quartz need not take the gate: it only makes Quartz wait for SQLite's write lock, as any
/// other writer does. The gate orders this process only; another process waits for SQLite's write lock alone, which
/// cannot form a cycle with this process's gates.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "One gate per database file for the life of the process; its semaphore never allocates a wait handle (WaitAsync only).")]
public sealed class SqliteWriteGate
{
    private static readonly Dictionary<string, SqliteWriteGate> Gates = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly AsyncLocal<Lease?> _heldByFlow = new();
    private readonly Lock _sync = new();
    private Lease? _holder;

    private SqliteWriteGate(string databasePath) => DatabasePath = databasePath;

    /// <summary>The full path of the database file this gate orders.</summary>
    public string DatabasePath { get; }

    /// <summary>The gate of the database file at <paramref name="databasePath"/> (relative to the current directory), the same object for every caller in this process.</summary>
    public static SqliteWriteGate For(string databasePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        var fullPath = Path.GetFullPath(databasePath);
        lock (Gates)
        {
            if (!Gates.TryGetValue(fullPath, out var gate))
            {
                gate = new SqliteWriteGate(fullPath);
                Gates.Add(fullPath, gate);
            }

            return gate;
        }
    }

    /// <summary>
    /// Waits for the gate; disposing the result opens it again. Await it <em>before</em> <c>BEGIN IMMEDIATE</c>, and keep
    /// it until the transaction has committed or rolled back. Not re-entrant: a flow that holds the gate and enters again waits forever.
    /// </summary>
    public async Task<IAsyncDisposable> EnterAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var lease = new Lease(this);
        lock (_sync)
        {
            _holder = lease;
        }

        return lease;
    }

    /// <summary>Takes the gate if it is free at this moment, or returns null; disposing the result opens it again.</summary>
    internal IDisposable? TryEnterNow()
    {
        if (!_gate.Wait(0))
        {
            return null;
        }

        var lease = new Lease(this);
        lock (_sync)
        {
            _holder = lease;
        }

        return lease;
    }

    /// <summary>
    /// Marks the calling asynchronous flow as holding the gate it entered with <see cref="EnterAsync"/>, until the result is
    /// disposed: Quartz's lock asked for on this flow (an enlisted <c>ScheduleJob</c>) is then granted at once instead of
    /// waiting for the gate this flow holds. Synchronous on purpose: the mark is set in the caller's own frame, so it
    /// reaches the awaits that follow in the caller. Throws when the gate is not held. Inside the mark, call Quartz only with
    /// this flow's transaction enlisted (<c>scheduler.EnlistTransaction</c>): a Quartz call on a connection of its own waits
    /// for the gate this flow holds, and gives up after Quartz's retries.
    /// </summary>
    public IDisposable HoldForThisFlow()
    {
        Lease holder;
        lock (_sync)
        {
            holder = _holder ?? throw new InvalidOperationException(
                $"HoldForThisFlow needs the gate of {DatabasePath} held: await EnterAsync first, and keep its result until the transaction ends.");
        }

        var previous = _heldByFlow.Value;
        _heldByFlow.Value = holder;
        return new FlowMark(this, previous);
    }

    /// <summary>Whether the calling flow marked itself (<see cref="HoldForThisFlow"/>) with the lease that holds the gate now.</summary>
    internal bool IsHeldByThisFlow
    {
        get
        {
            var mark = _heldByFlow.Value;
            if (mark is null)
            {
                return false;
            }

            lock (_sync)
            {
                return ReferenceEquals(mark, _holder);
            }
        }
    }

    private void Release(Lease lease)
    {
        lock (_sync)
        {
            if (!ReferenceEquals(_holder, lease))
            {
                return; // disposed twice
            }

            _holder = null;
        }

        _gate.Release();
    }

    private sealed class Lease(SqliteWriteGate gate) : IAsyncDisposable, IDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.Release(this);
            return ValueTask.CompletedTask;
        }

        public void Dispose() => gate.Release(this);
    }

    private sealed class FlowMark(SqliteWriteGate gate, Lease? previous) : IDisposable
    {
        public void Dispose() => gate._heldByFlow.Value = previous;
    }
}
