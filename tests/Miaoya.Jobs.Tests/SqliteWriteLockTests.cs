using System.Diagnostics;
using Microsoft.Data.Sqlite;

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
