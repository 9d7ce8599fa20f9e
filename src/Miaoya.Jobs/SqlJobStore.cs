using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Miaoya.Jobs.SqlCommands;

namespace Miaoya.Jobs;

/// <summary>
/// The store's logic over ADO.NET, shared by <see cref="SqliteJobStore"/> and <see cref="PostgresJobStore"/>; the two differ
/// only in how a connection is opened, how a write transaction starts and how rows are locked. Times are stored as Unix
/// milliseconds (BIGINT) so both databases compare them the same way. Every mutation of a job first locks the job row
/// (PostgreSQL) or runs inside BEGIN IMMEDIATE (SQLite), so reports about one job are serialised; a start locks the job row
/// before its step, like every other writer, so there is no lock cycle.
/// </summary>
public abstract partial class SqlJobStore : IJobStore
{
    /// <summary>The schema version this code writes: the version of the last of <see cref="Migrations"/>.</summary>
    internal const int SchemaVersion = 3;

    private static readonly string[] FinishedStates = ["succeeded", "failed", "cancelled"];

    /// <summary>Most jobs one call of <see cref="DeleteFinishedJobsAsync"/> removes.</summary>
    public const int MaxDeleteBatch = 1000;

    internal static readonly JsonSerializerOptions OutputsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private protected SqlJobStore(JobStoreOptions? options, TimeProvider? time)
    {
        Options = options ?? new JobStoreOptions();
        Time = time ?? TimeProvider.System;
        if (Options.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), Options.MaxAttempts, "MaxAttempts must be at least 1.");
        }
    }

    public JobStoreOptions Options { get; }

    private IStepScheduler? _scheduler;

    /// <inheritdoc/>
    public void AttachScheduler(IStepScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        if (Interlocked.CompareExchange(ref _scheduler, scheduler, null) is not null)
        {
            throw new InvalidOperationException("The store already hands its steps to an engine.");
        }
    }

    private protected TimeProvider Time { get; }

    /// <summary>An open connection with the session settings applied.</summary>
    private protected abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Starts a transaction that may write (SQLite: BEGIN IMMEDIATE, which takes the write lock up front).</summary>
    private protected abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a write transaction if the write lock is free right now, else null (PostgreSQL locks rows, not the database:
    /// it always starts one).
    /// </summary>
    private protected virtual async Task<DbTransaction?> TryBeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// A write transaction that will hand steps to <paramref name="scheduler"/>: its turn first (SQLite: the file's write
    /// gate, which Quartz takes before its own transactions), then the write lock. The turn is never held while waiting for
    /// the write lock: some of Quartz's transactions take SQLite's write lock before they ask for the gate, so a turn that
    /// waited would wait for a transaction that waits for it. When the lock is taken the turn is given back, and both are
    /// tried again after a short, growing pause.
    /// </summary>
    private async Task<(IAsyncDisposable Turn, DbTransaction Transaction)> BeginSchedulingWriteAsync(
        IStepScheduler? scheduler, DbConnection connection, CancellationToken cancellationToken)
    {
        if (scheduler is null)
        {
            return (NoTurn.Instance, await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false));
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            var turn = await scheduler.EnterAsync(cancellationToken).ConfigureAwait(false);
            DbTransaction? transaction;
            try
            {
                transaction = await TryBeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await turn.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (transaction is not null)
            {
                return (turn, transaction);
            }

            await turn.DisposeAsync().ConfigureAwait(false);
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > SchedulingWriteTimeout)
            {
                // What BeginWriteAsync says when the lock stays taken: wait for it once more, without the turn, and fail the same way.
                await (await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
                continue;
            }

            await Task.Delay(pause * (0.5 + Random.Shared.NextDouble()), cancellationToken).ConfigureAwait(false);
            pause = pause * 2 < MaxSchedulingPause ? pause * 2 : MaxSchedulingPause;
        }
    }

    private static readonly TimeSpan SchedulingWriteTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MaxSchedulingPause = TimeSpan.FromMilliseconds(50);

    /// <summary>Starts a read-only transaction with one snapshot for all its statements (a job and its steps agree).</summary>
    private protected abstract Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Appended to a single-job SELECT to lock the job row for the transaction (PostgreSQL: FOR UPDATE).</summary>
    private protected abstract string RowLockClause { get; }

    /// <summary>
    /// The schema's history in this database's dialect, in order: migration N takes a database from version N - 1 to N
    /// (1 creates the tables). The last one's version is <see cref="SchemaVersion"/>. A released migration is never edited;
    /// a change to the schema is a new migration at the end of the list, in both dialects.
    /// </summary>
    private protected abstract IReadOnlyList<SchemaMigration> Migrations { get; }

    /// <summary>Serialises schema creation between processes (PostgreSQL: an advisory lock); runs inside the transaction.</summary>
    private protected abstract Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    private long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Creates or upgrades the schema: every migration above the database's version, in order, in one transaction under
    /// the schema lock (a failed upgrade leaves the database as it was); refuses a database written by a newer version.
    /// </summary>
    private protected async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var migrations = Migrations;
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Schema migration {i + 1} is listed as version {migrations[i].Version}.");
            }
        }

        if (migrations.Count != SchemaVersion)
        {
            throw new InvalidOperationException($"The schema has {migrations.Count} migrations but version {SchemaVersion}.");
        }

        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                await LockSchemaAsync(connection, tx, cancellationToken).ConfigureAwait(false);
                await ExecAsync(connection, tx, "CREATE TABLE IF NOT EXISTS miaoya_schema (version BIGINT NOT NULL)", cancellationToken).ConfigureAwait(false);
                var current = await ScalarAsync(connection, tx, "SELECT MAX(version) FROM miaoya_schema", cancellationToken).ConfigureAwait(false);
                var version = current is null or DBNull ? 0 : Convert.ToInt64(current, CultureInfo.InvariantCulture);
                if (version > SchemaVersion)
                {
                    throw new InvalidOperationException(
                        $"The job database has schema version {version}; this Miaoya understands up to {SchemaVersion}. Upgrade Miaoya.");
                }

                foreach (var migration in migrations.Where(m => m.Version > version))
                {
                    foreach (var statement in migration.Statements)
                    {
                        await ExecAsync(connection, tx, statement, cancellationToken).ConfigureAwait(false);
                    }

                    await ExecAsync(connection, tx, "INSERT INTO miaoya_schema (version) VALUES (@version)", cancellationToken, ("version", (long)migration.Version))
                        .ConfigureAwait(false);
                }

                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Migration 2, the same in both dialects. Newest-first paging needs no index of its own: it walks the primary key
    /// (seq) and jobs_state (state, seq) backwards. The two indexes lead with state, an equality, so SQLite picks them
    /// without statistics (it has none unless ANALYZE runs; a partial index lost to steps_state/jobs_state there).
    /// </summary>
    private protected static IReadOnlyList<string> SchemaV2 { get; } =
    [
        // Retention: finished jobs by finish time, per state. A finished job's updated_at is when it finished (nothing
        // changes a finished job's row afterwards), so no new column is needed.
        "CREATE INDEX jobs_finished ON jobs (state, updated_at, seq)",
        // Typical step durations: the newest successful steps, without reading the rest of the history.
        "CREATE INDEX steps_finished ON steps (state, finished_at)",
    ];

    /// <summary>
    /// Migration 3, the same in both dialects: the boxes as the instances of a store share them for placing steps (what
    /// each has loaded and whether it takes calls, as the last instance to see a change reported it); the steps' lease
    /// column goes, Quartz.NET holding the leases now.
    /// </summary>
    private protected static IReadOnlyList<string> SchemaV3 { get; } =
    [
        "CREATE TABLE boxes (name TEXT PRIMARY KEY, loaded TEXT, health TEXT NOT NULL, reported_by TEXT NOT NULL, updated_at BIGINT NOT NULL)",
        "ALTER TABLE steps DROP COLUMN lease_until",
    ];

    public async Task<JobRecord> CreateJobAsync(NewJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Steps.Count == 0)
        {
            throw new ArgumentException("A job needs at least one step.", nameof(job));
        }

        if (job.Steps.Distinct(StringComparer.Ordinal).Count() != job.Steps.Count || job.Steps.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"Step names must be non-empty and unique: {string.Join(", ", job.Steps)}.", nameof(job));
        }

        if (job.Id is { } given && !NewJob.IsValidId(given))
        {
            throw new ArgumentException($"A job id must be 1-64 ASCII letters, digits, '-' or '_': \"{given}\".", nameof(job));
        }

        if (job.MaxAttempts is < 1)
        {
            throw new ArgumentException("MaxAttempts must be at least 1.", nameof(job));
        }

        var now = Time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var id = job.Id ?? Guid.CreateVersion7(now).ToString("D", CultureInfo.InvariantCulture);
        var scheduler = _scheduler;
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var (turn, tx) = await BeginSchedulingWriteAsync(scheduler, connection, cancellationToken).ConfigureAwait(false);
            await using (turn.ConfigureAwait(false))
            await using (tx.ConfigureAwait(false))
            {
                await ExecAsync(connection, tx,
                    "INSERT INTO jobs (id, recipe, recipe_inline, inputs, output_folder, state, error, max_attempts, created_at, updated_at) " +
                    "VALUES (@id, @recipe, @inline, @inputs, @folder, 'queued', NULL, @max, @now, @now)",
                    cancellationToken,
                    ("id", id), ("recipe", job.Recipe), ("inline", job.RecipeIsInline ? 1L : 0L), ("inputs", job.InputsJson),
                    ("folder", job.OutputFolder), ("max", (long)(job.MaxAttempts ?? Options.MaxAttempts)), ("now", nowMs)).ConfigureAwait(false);
                for (var i = 0; i < job.Steps.Count; i++)
                {
                    await ExecAsync(connection, tx,
                        "INSERT INTO steps (job_id, idx, name, state, attempts, next_attempt_at, cancel_requested, outputs) " +
                        "VALUES (@id, @idx, @name, 'pending', 0, 0, 0, '[]')",
                        cancellationToken, ("id", id), ("idx", (long)i), ("name", job.Steps[i])).ConfigureAwait(false);
                }

                await InsertEventAsync(connection, tx, id, JobEventKind.JobCreated, null,
                    new JsonObject { ["steps"] = new JsonArray([.. job.Steps.Select(s => JsonValue.Create(s))]) }.ToJsonString(), nowMs, cancellationToken)
                    .ConfigureAwait(false);
                using var joined = scheduler?.Join(tx);
                if (joined is not null)
                {
                    await joined.ScheduleAsync(new StepTicket(id, 0, job.Steps[0], 1, now), cancellationToken).ConfigureAwait(false);
                }

                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            return (await JobRows.ReadJobAsync(connection, null, id, cancellationToken).ConfigureAwait(false))!;
        }
    }

    public async Task<JobRecord?> GetJobAsync(string id, CancellationToken cancellationToken = default)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginReadAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                return await JobRows.ReadJobAsync(connection, tx, id, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async Task<IReadOnlyList<JobRecord>> ListJobsAsync(JobState? state = null, int limit = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginReadAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                return (await JobRows.ReadJobsAsync(connection, tx, new JobQuery { State = state, Order = JobOrder.OldestFirst, Limit = limit }, cancellationToken).ConfigureAwait(false)).Jobs;
            }
        }
    }

    public async Task<JobPage> ListJobsPageAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > JobQuery.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"Limit must be between 1 and {JobQuery.MaxLimit}.");
        }

        if (query.After is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.After, "After must not be negative.");
        }

        if (query.Kind is { } kind && (kind.Length is 0 or > 64 || !kind.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_')))
        {
            throw new ArgumentException($"Kind '{kind}' must be 1-64 lower-case letters, digits, '-' or '_'.", nameof(query));
        }

        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginReadAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                return await JobRows.ReadJobsAsync(connection, tx, query, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async Task<long> CountJobsAsync(JobState? state = null, CancellationToken cancellationToken = default)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var count = state is null
                ? await ScalarAsync(connection, null, "SELECT COUNT(*) FROM jobs", cancellationToken).ConfigureAwait(false)
                : await ScalarAsync(connection, null, "SELECT COUNT(*) FROM jobs WHERE state = @state", cancellationToken, ("state", Name(state.Value))).ConfigureAwait(false);
            return Convert.ToInt64(count, CultureInfo.InvariantCulture);
        }
    }

    public async Task<IReadOnlyList<FinishedStep>> ReadRecentStepsAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var steps = new List<FinishedStep>(Math.Min(limit, 1024));
            // steps_finished (state, finished_at), read backwards from the newest success.
            await ReadRowsAsync(connection, null,
                "SELECT job_id, name, box, started_at, finished_at FROM steps " +
                "WHERE state = 'succeeded' AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT @limit",
                r =>
                {
                    if (r.GetValue(3) is not DBNull)
                    {
                        steps.Add(new FinishedStep(
                            r.GetString(0), r.GetString(1), Str(r, 2),
                            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))));
                    }
                },
                cancellationToken, ("limit", (long)limit)).ConfigureAwait(false);
            return steps;
        }
    }

    public async Task<IReadOnlyList<DeletedJob>> DeleteFinishedJobsAsync(DateTimeOffset finishedBefore, int max, CancellationToken cancellationToken = default)
    {
        if (max is < 1 or > MaxDeleteBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"Delete 1 to {MaxDeleteBatch} jobs at a time.");
        }

        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                // The oldest finished jobs: the first @max of each finished state on jobs_finished (state, updated_at, seq), then
                // the first @max of those. A finished job never becomes unfinished, so the state read here still holds when
                // the rows go; two instances pruning at once delete the same rows once.
                var victims = new List<(string Id, string Folder)>();
                var perState = string.Join(" UNION ALL ", FinishedStates.Select(state =>
                    "SELECT seq, id, output_folder, updated_at FROM (SELECT seq, id, output_folder, updated_at FROM jobs " +
                    $"WHERE state = '{state}' AND updated_at < @before ORDER BY updated_at, seq LIMIT @max) {state}_jobs"));
                var command = Command(connection, tx, perState + " ORDER BY updated_at, seq LIMIT @max",
                    ("before", finishedBefore.ToUnixTimeMilliseconds()), ("max", (long)max));
                await using (command.ConfigureAwait(false))
                {
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            victims.Add((reader.GetString(1), reader.GetString(2)));
                        }
                    }
                }

                if (victims.Count == 0)
                {
                    await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return [];
                }

                var ids = victims.Select((v, i) => ($"j{i}", (object?)v.Id)).ToArray();
                var list = string.Join(", ", ids.Select(p => "@" + p.Item1));
                await ExecAsync(connection, tx, $"DELETE FROM events WHERE job_id IN ({list})", cancellationToken, ids).ConfigureAwait(false);
                await ExecAsync(connection, tx, $"DELETE FROM steps WHERE job_id IN ({list})", cancellationToken, ids).ConfigureAwait(false);
                await ExecAsync(connection, tx, $"DELETE FROM jobs WHERE id IN ({list}) AND state IN ('succeeded', 'failed', 'cancelled')", cancellationToken, ids)
                    .ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return victims.Select(v => new DeletedJob(v.Id, v.Folder, null)).ToArray();
            }
        }
    }

    public async Task<JobRecord?> CancelJobAsync(string id, string? reason = null, CancellationToken cancellationToken = default)
    {
        var now = NowMs;
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                var state = await ScalarAsync(connection, tx, "SELECT state FROM jobs WHERE id = @job " + RowLockClause, cancellationToken, ("job", id))
                    .ConfigureAwait(false) as string;
                if (state is null)
                {
                    return null;
                }

                if (state is "queued" or "running")
                {
                    await ExecAsync(connection, tx,
                        "UPDATE steps SET cancel_requested = 1, finished_at = @now, state = 'cancelled' WHERE job_id = @job AND state = 'running'",
                        cancellationToken, ("now", now), ("job", id)).ConfigureAwait(false);
                    await ExecAsync(connection, tx, "UPDATE steps SET state = 'cancelled' WHERE job_id = @job AND state = 'pending'",
                        cancellationToken, ("job", id)).ConfigureAwait(false);
                    await ExecAsync(connection, tx, "UPDATE jobs SET state = 'cancelled', error = @reason, updated_at = @now WHERE id = @job",
                        cancellationToken, ("reason", reason ?? "cancelled"), ("now", now), ("job", id)).ConfigureAwait(false);
                    await InsertEventAsync(connection, tx, id, JobEventKind.JobCancelled, null,
                        reason is null ? null : new JsonObject { ["reason"] = reason }.ToJsonString(), now, cancellationToken).ConfigureAwait(false);
                }

                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            return await JobRows.ReadJobAsync(connection, null, id, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<DeletedJob?> DeleteJobAsync(string id, CancellationToken cancellationToken = default)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                var folder = await ScalarAsync(connection, tx, "SELECT output_folder FROM jobs WHERE id = @job " + RowLockClause, cancellationToken, ("job", id))
                    .ConfigureAwait(false) as string;
                if (folder is null)
                {
                    return null;
                }

                var box = await ScalarAsync(connection, tx,
                    "SELECT box FROM steps WHERE job_id = @job AND (state = 'running' OR cancel_requested = 1) AND box IS NOT NULL ORDER BY idx LIMIT 1",
                    cancellationToken, ("job", id)).ConfigureAwait(false) as string;
                await ExecAsync(connection, tx, "DELETE FROM events WHERE job_id = @job", cancellationToken, ("job", id)).ConfigureAwait(false);
                await ExecAsync(connection, tx, "DELETE FROM steps WHERE job_id = @job", cancellationToken, ("job", id)).ConfigureAwait(false);
                await ExecAsync(connection, tx, "DELETE FROM jobs WHERE id = @job", cancellationToken, ("job", id)).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new DeletedJob(id, folder, box);
            }
        }
    }

    public async Task<long> AppendEventAsync(string jobId, JobEventKind kind, string? stepName = null, string? data = null, CancellationToken cancellationToken = default)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                if (!await LockJobAsync(connection, tx, jobId, cancellationToken).ConfigureAwait(false))
                {
                    throw new KeyNotFoundException($"No job '{jobId}'.");
                }

                var sequence = await InsertEventAsync(connection, tx, jobId, kind, stepName, data, NowMs, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return sequence;
            }
        }
    }

    public async Task<IReadOnlyList<JobEvent>> ReadEventsAsync(string jobId, long afterSequence = 0, int max = 1000, CancellationToken cancellationToken = default)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var events = new List<JobEvent>();
            var command = Command(connection, null,
                "SELECT seq, at, kind, step, data FROM events WHERE job_id = @job AND seq > @after ORDER BY seq LIMIT @max",
                ("job", jobId), ("after", afterSequence), ("max", (long)max));
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        events.Add(new JobEvent(
                            reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), Parse<JobEventKind>(reader.GetString(2)),
                            Str(reader, 3), Str(reader, 4)));
                    }
                }
            }

            return events;
        }
    }

    // ---- helpers ----

    /// <summary>One entry of <see cref="Migrations"/>: the statements that take the schema from <c>Version - 1</c> to <c>Version</c>.</summary>
    private protected sealed record SchemaMigration(int Version, IReadOnlyList<string> Statements);

    private async Task<bool> LockJobAsync(DbConnection connection, DbTransaction tx, string jobId, CancellationToken cancellationToken) =>
        await ScalarAsync(connection, tx, "SELECT 1 FROM jobs WHERE id = @job " + RowLockClause, cancellationToken, ("job", jobId)).ConfigureAwait(false) is not null;

    private static Task<int> TouchJobAsync(DbConnection connection, DbTransaction tx, string jobId, long now, CancellationToken cancellationToken) =>
        ExecAsync(connection, tx, "UPDATE jobs SET updated_at = @now WHERE id = @job", cancellationToken, ("now", now), ("job", jobId));

    private static async Task<long> InsertEventAsync(
        DbConnection connection, DbTransaction tx, string jobId, JobEventKind kind, string? step, string? data, long now, CancellationToken cancellationToken)
    {
        // Callers hold the job's lock (or SQLite's write lock), so MAX + 1 cannot race.
        var sequence = Convert.ToInt64(
            await ScalarAsync(connection, tx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE job_id = @job", cancellationToken, ("job", jobId)).ConfigureAwait(false),
            CultureInfo.InvariantCulture);
        await ExecAsync(connection, tx,
            "INSERT INTO events (job_id, seq, at, kind, step, data) VALUES (@job, @seq, @at, @kind, @step, @data)",
            cancellationToken, ("job", jobId), ("seq", sequence), ("at", now), ("kind", Name(kind)), ("step", step), ("data", data)).ConfigureAwait(false);
        return sequence;
    }
}
