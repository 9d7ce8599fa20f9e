using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// Waiting for SQLite's write lock while another connection (another process, as far as the store can tell) holds it: the
/// waiting writers hold no thread, go on once the lock is free, and give up with a clear error at the deadline.
/// </summary>
public sealed class SqliteWriteLockTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-writelock-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static NewJob Job(string id) => new() { Id = id, Recipe = "v1", InputsJson = "{}", OutputFolder = "/runs/" + id, Steps = ["inpaint"] };

    /// <summary>A connection of its own (no pool) in BEGIN IMMEDIATE: the write lock, held until disposed.</summary>
    private static async Task<(SqliteConnection Connection, SqliteTransaction Transaction)> HoldWriteLockAsync(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        return (connection, connection.BeginTransaction(deferred: false));
    }

    [Fact]
    public async Task Write_WhileAnotherConnectionHoldsTheLock_WaitsWithoutAThread_ThenGoesOnWhenItIsReleased()
    {
        await using var store = await SqliteJobStore.OpenAsync(Path.Combine(_directory, "jobs.db"));
        store.WriteLockTimeout = TimeSpan.FromMinutes(5);
        var (holder, held) = await HoldWriteLockAsync(store.Path);

        // Each call comes back at once with a task still waiting: had BEGIN blocked, the call itself would not return
        // until the lock was free or the deadline passed (and 64 blocked writers would each hold a thread).
        var waiting = Enumerable.Range(0, 64).Select(i => store.CreateJobAsync(Job($"job-{i}"))).ToList();
        var incompleteWhileHeld = waiting.Count(t => !t.IsCompleted);
        using var cancel = new CancellationTokenSource();
        var cancelled = store.CreateJobAsync(Job("cancelled"), cancel.Token);
        await cancel.CancelAsync();
        var cancelledError = await Record.ExceptionAsync(() => cancelled.WaitAsync(Patience));
        var stillWaiting = waiting.Count(t => !t.IsCompleted);

        held.Dispose(); // ROLLBACK: the lock is free
        await holder.DisposeAsync();
        var created = await Task.WhenAll(waiting).WaitAsync(Patience);

        Assert.Equal(64, incompleteWhileHeld);
        Assert.IsAssignableFrom<OperationCanceledException>(cancelledError); // cancelled at once, not after the deadline
        Assert.Equal(64, stillWaiting);
        Assert.Equal(64, created.Select(j => j.Id).Distinct().Count());
        Assert.Null(await store.GetJobAsync("cancelled"));
    }

    [Fact]
    public async Task StartStep_ThatWaitedForTheWriteLock_RecordsTheTimeItGotTheLock_NotTheTimeItAsked()
    {
        // Defect 2: the start time was read before the write lock, so a start that queued behind another writer was stale
        // on arrival. The jobs' clock is fake: it moves only here, while the store is known to be waiting.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 6, 0, 0, TimeSpan.Zero));
        await using var store = await SqliteJobStore.OpenAsync(Path.Combine(_directory, "jobs.db"), time: clock);
        store.WriteLockTimeout = TimeSpan.FromMinutes(5);
        var job = await store.CreateJobAsync(Job("job-1"));
        var asked = clock.GetUtcNow();
        var (holder, held) = await HoldWriteLockAsync(store.Path);

        var starting = store.StartStepAsync(job.Id, 0, "w1", takeOver: false);
        await Task.Delay(TimeSpan.FromSeconds(1)); // lets it reach the lock (if it has not, it reads the clock later still)
        var waitedForTheLock = !starting.IsCompleted;
        clock.Advance(TimeSpan.FromMinutes(2)); // the other writer kept the lock that long
        var released = clock.GetUtcNow();
        held.Dispose();
        await holder.DisposeAsync();
        var lease = await starting.WaitAsync(Patience);

        Assert.True(waitedForTheLock);
        Assert.NotNull(lease);
        var step = (await store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal(released, step.StartedAt);
        Assert.NotEqual(asked, step.StartedAt);
        var started = (await store.ReadEventsAsync(job.Id)).Single(e => e.Kind == JobEventKind.StepStarted);
        Assert.Equal(released, started.At);
        Assert.Equal(released, (await store.GetJobAsync(job.Id))!.UpdatedAt);
    }

    [Fact]
    public async Task Write_LockHeldPastTheDeadline_GivesUpWithSqliteBusyThatSaysWhy()
    {
        await using var store = await SqliteJobStore.OpenAsync(Path.Combine(_directory, "jobs.db"));
        store.WriteLockTimeout = TimeSpan.FromSeconds(1);
        var (holder, held) = await HoldWriteLockAsync(store.Path);
        await using var ownedHolder = holder;
        using var ownedHeld = held;

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<SqliteException>(() => store.CreateJobAsync(Job("late")).WaitAsync(Patience));
        var waited = clock.Elapsed;

        Assert.Equal(5, error.SqliteErrorCode);
        Assert.Contains("gave up waiting for its write lock", error.Message, StringComparison.Ordinal);
        Assert.Contains(store.Path, error.Message, StringComparison.Ordinal);
        Assert.InRange(waited, TimeSpan.FromSeconds(1), Patience);
    }
}
