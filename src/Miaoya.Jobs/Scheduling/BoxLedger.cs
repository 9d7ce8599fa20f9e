using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using static Miaoya.Jobs.SqlCommands;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// What placing steps on boxes reads and writes in the store's database, shared by every instance: the steps waiting for a
/// box and the ones booked on each box (Quartz's own trigger and firing rows, by execution group), and each box's state as
/// the last instance to see a change reported it (the <c>boxes</c> table: what it has loaded, whether it takes calls).
/// <see cref="LockAsync"/> lets one instance place at a time.
/// </summary>
public sealed class BoxLedger : IAsyncDisposable
{
    /// <summary>The box state a box is in when it takes calls.</summary>
    public const string Healthy = "healthy";

    /// <summary>The box state of a quarantined box.</summary>
    public const string Quarantined = "quarantined";

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> FileLocks = new(StringComparer.Ordinal);

    private readonly Func<CancellationToken, Task<DbConnection>> _open;
    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqlitePath;
    private readonly string _schedulerName;
    private readonly string _triggerGroup;
    private readonly long _lockKey;

    private BoxLedger(Func<CancellationToken, Task<DbConnection>> open, NpgsqlDataSource? postgres, string? sqlitePath, string schedulerName, string triggerGroup, long lockKey)
    {
        _open = open;
        _postgres = postgres;
        _sqlitePath = sqlitePath;
        _schedulerName = schedulerName;
        _triggerGroup = triggerGroup;
        _lockKey = lockKey;
    }

    /// <summary>Opens the ledger of the store at <paramref name="location"/> (the job store and its scheduler exist there already).</summary>
    /// <param name="location">A SQLite path or a PostgreSQL connection string, as the job store's.</param>
    /// <param name="postgresSchema">PostgreSQL: the store's schema (null: the search path).</param>
    /// <param name="schedulerName">The Quartz scheduler's name (<see cref="StepSchedulerSettings.SchedulerName"/>).</param>
    /// <param name="triggerGroup">The trigger group the steps' triggers are in.</param>
    /// <param name="cancellationToken">Stops the opening.</param>
    public static async Task<BoxLedger> OpenAsync(
        string location, string? postgresSchema, string schedulerName, string triggerGroup, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        ArgumentException.ThrowIfNullOrWhiteSpace(schedulerName);
        ArgumentException.ThrowIfNullOrWhiteSpace(triggerGroup);
        if (JobStore.IsPostgres(location))
        {
            var connectionString = await PostgresSchema.UseAsync(location, postgresSchema, cancellationToken).ConfigureAwait(false);
            var dataSource = NpgsqlDataSource.Create(connectionString);
            // One advisory lock per store: the schema and the scheduler name (FNV-1a, stable across processes).
            var key = unchecked((long)Fnv1a($"miaoya-placement/{postgresSchema}/{schedulerName}"));
            return new BoxLedger(async ct => await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false), dataSource, null, schedulerName, triggerGroup, key);
        }

        var path = Path.GetFullPath(location);
        var sqlite = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ConnectionString;
        return new BoxLedger(
            async ct =>
            {
                var connection = new SqliteConnection(sqlite);
                await connection.OpenAsync(ct).ConfigureAwait(false);
                return connection;
            },
            null, path, schedulerName, triggerGroup, 0);
    }

    /// <summary>
    /// Holds the placement lock of the store until disposed, so that two instances never book the same free slot
    /// (PostgreSQL: a session advisory lock, released also when the connection dies; SQLite: one process runs the file's jobs,
    /// so a lock in this process).
    /// </summary>
    public async Task<IAsyncDisposable> LockAsync(CancellationToken cancellationToken = default)
    {
        if (_sqlitePath is not null)
        {
            var gate = FileLocks.GetOrAdd(_sqlitePath, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new Release(() =>
            {
                gate.Release();
                return ValueTask.CompletedTask;
            });
        }

        var connection = await _open(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecAsync(connection, null, "SELECT pg_advisory_lock(@key)", cancellationToken, ("key", _lockKey)).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new Release(async () =>
        {
            await using (connection.ConfigureAwait(false))
            {
                await ExecAsync(connection, null, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", _lockKey)).ConfigureAwait(false);
            }
        });
    }

    /// <summary>
    /// The ledger now: up to <paramref name="maxWaiting"/> steps due by <paramref name="now"/> (the scheduler's clock) that
    /// wait in <paramref name="waitingGroup"/> for a box, oldest first; the steps placed on a box that have not fired yet;
    /// the firings on each box (acquired or running, on any instance); and every box's shared state.
    /// </summary>
    public async Task<LedgerView> ReadAsync(string waitingGroup, DateTimeOffset now, int maxWaiting, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(waitingGroup);
        var connection = await _open(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Quartz.NET's ADO.NET store keeps fire times as UTC ticks. Trigger states and columns: its tables_*.sql.
            var waiting = new List<WaitingStep>();
            await ReadRowsAsync(connection, null,
                "SELECT TRIGGER_NAME, JOB_NAME, NEXT_FIRE_TIME FROM QRTZ_TRIGGERS WHERE SCHED_NAME = @sched AND TRIGGER_GROUP = @group " +
                "AND EXECUTION_GROUP = @waiting AND TRIGGER_STATE = 'WAITING' AND NEXT_FIRE_TIME <= @now ORDER BY NEXT_FIRE_TIME, TRIGGER_NAME LIMIT @max",
                r => waiting.Add(new WaitingStep(r.GetString(0), r.GetString(1), new DateTimeOffset(r.GetInt64(2), TimeSpan.Zero))), cancellationToken,
                ("sched", _schedulerName), ("group", _triggerGroup), ("waiting", waitingGroup), ("now", now.UtcTicks), ("max", (long)maxWaiting)).ConfigureAwait(false);

            var placed = new List<PlacedStep>();
            await ReadRowsAsync(connection, null,
                "SELECT TRIGGER_NAME, JOB_NAME, EXECUTION_GROUP FROM QRTZ_TRIGGERS WHERE SCHED_NAME = @sched AND TRIGGER_GROUP = @group " +
                "AND EXECUTION_GROUP LIKE @prefix AND TRIGGER_STATE IN ('WAITING', 'BLOCKED', 'PAUSED')",
                r => placed.Add(new PlacedStep(r.GetString(0), r.GetString(1), r.GetString(2)[StepSchedulerFactory.BoxGroupPrefix.Length..])), cancellationToken,
                ("sched", _schedulerName), ("group", _triggerGroup), ("prefix", StepSchedulerFactory.BoxGroupPrefix + "%")).ConfigureAwait(false);

            var firing = new List<FiringStep>();
            await ReadRowsAsync(connection, null,
                "SELECT TRIGGER_NAME, EXECUTION_GROUP FROM QRTZ_FIRED_TRIGGERS WHERE SCHED_NAME = @sched AND EXECUTION_GROUP LIKE @prefix",
                r => firing.Add(new FiringStep(r.GetString(0), r.GetString(1)[StepSchedulerFactory.BoxGroupPrefix.Length..])), cancellationToken,
                ("sched", _schedulerName), ("prefix", StepSchedulerFactory.BoxGroupPrefix + "%")).ConfigureAwait(false);

            var boxes = new Dictionary<string, SharedBox>(StringComparer.Ordinal);
            await ReadRowsAsync(connection, null, "SELECT name, loaded, health, reported_by, updated_at FROM boxes",
                r => boxes[r.GetString(0)] = new SharedBox(r.GetString(0), Str(r, 1), r.GetString(2), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))),
                cancellationToken).ConfigureAwait(false);
            return new LedgerView(waiting, placed, firing, boxes);
        }
    }

    /// <summary>Records what <paramref name="reportedBy"/> saw change on a box: what it has loaded, whether it takes calls.</summary>
    public async Task ReportBoxAsync(string name, string? loaded, string health, string reportedBy, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(health);
        ArgumentException.ThrowIfNullOrWhiteSpace(reportedBy);
        var connection = await _open(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await ExecAsync(connection, null,
                "INSERT INTO boxes (name, loaded, health, reported_by, updated_at) VALUES (@name, @loaded, @health, @by, @at) " +
                "ON CONFLICT (name) DO UPDATE SET loaded = excluded.loaded, health = excluded.health, reported_by = excluded.reported_by, updated_at = excluded.updated_at",
                cancellationToken, ("name", name), ("loaded", loaded), ("health", health), ("by", reportedBy), ("at", at.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static ulong Fnv1a(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    private sealed class Release(Func<ValueTask> release) : IAsyncDisposable
    {
        private int _done;

        public ValueTask DisposeAsync() => Interlocked.Exchange(ref _done, 1) == 0 ? release() : ValueTask.CompletedTask;
    }
}

/// <summary>The ledger at one moment (<see cref="BoxLedger.ReadAsync"/>).</summary>
/// <param name="Waiting">Due steps waiting for a box, oldest first.</param>
/// <param name="Placed">Steps placed on a box that have not fired yet.</param>
/// <param name="Firing">The steps acquired or running on a box, on any instance (Quartz's firings).</param>
/// <param name="Boxes">Per box, its state as last reported.</param>
public sealed record LedgerView(
    IReadOnlyList<WaitingStep> Waiting, IReadOnlyList<PlacedStep> Placed, IReadOnlyList<FiringStep> Firing, IReadOnlyDictionary<string, SharedBox> Boxes)
{
    /// <summary>The slots booked on <paramref name="box"/>: its placed steps and its firings.</summary>
    public int Booked(string box) => Placed.Count(p => p.Box == box) + Firing.Count(f => f.Box == box);
}

/// <summary>A firing on <paramref name="Box"/>: its trigger's name.</summary>
public sealed record FiringStep(string Trigger, string Box);

/// <summary>A step waiting for a box: its trigger's and its Quartz job's names, and when it became due (its job's queue time, or its retry's).</summary>
public sealed record WaitingStep(string Trigger, string Job, DateTimeOffset Due);

/// <summary>A step placed on <paramref name="Box"/> that has not fired yet: its trigger's and its Quartz job's names.</summary>
public sealed record PlacedStep(string Trigger, string Job, string Box);

/// <summary>A box as the instances share it.</summary>
public sealed record SharedBox(string Name, string? Loaded, string Health, string ReportedBy, DateTimeOffset UpdatedAt);
