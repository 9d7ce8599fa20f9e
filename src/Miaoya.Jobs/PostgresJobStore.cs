using System.Data;
using System.Data.Common;
using Npgsql;

namespace Miaoya.Jobs;

/// <summary>
/// The store for several orchestrator instances sharing one database (their Quartz schedulers clustered on it). Every
/// write about a job locks the job row first (<c>SELECT ... FOR UPDATE</c>, PostgreSQL docs, "The Locking Clause"), so
/// reports, starts, cancels and deletes of one job are serialised and cannot deadlock each other.
/// </summary>
public sealed class PostgresJobStore : SqlJobStore
{
    private readonly NpgsqlDataSource _dataSource;

    private PostgresJobStore(NpgsqlDataSource dataSource, JobStoreOptions? options, TimeProvider? time)
        : base(options, time) => _dataSource = dataSource;

    /// <summary>
    /// Connects with <paramref name="connectionString"/> (Npgsql keywords, e.g. <c>Host=127.0.0.1;Username=miaoya;Password=...;Database=miaoya</c>)
    /// and creates or upgrades the tables in <paramref name="schema"/> (created if missing; null: the connection's search path).
    /// </summary>
    public static async Task<PostgresJobStore> OpenAsync(
        string connectionString, string? schema = null, JobStoreOptions? options = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var located = await PostgresSchema.UseAsync(connectionString, schema, cancellationToken).ConfigureAwait(false);
        var store = new PostgresJobStore(NpgsqlDataSource.Create(located), options, time);
        try
        {
            await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return store;
    }

    private protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    private protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await ((NpgsqlConnection)connection).BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);

    private protected override async Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await ((NpgsqlConnection)connection).BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);


    private protected override string RowLockClause => "FOR UPDATE";

    private protected override async Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        // Two instances opening an empty database at once would race on CREATE TABLE; one waits for the other here.
        var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7264917305)", (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private protected override IReadOnlyList<SchemaMigration> Migrations { get; } = [new(1, SchemaV1), new(2, SchemaV2), new(3, SchemaV3)];

    /// <summary>Version 1: the tables as the first release created them (never edit: databases in use were made by it).</summary>
    private static IReadOnlyList<string> SchemaV1 { get; } =
    [
        """
        CREATE TABLE jobs (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            recipe TEXT NOT NULL,
            recipe_inline BIGINT NOT NULL,
            inputs TEXT NOT NULL,
            output_folder TEXT NOT NULL,
            state TEXT NOT NULL,
            error TEXT,
            max_attempts BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)
        """,
        "CREATE INDEX jobs_state ON jobs (state, seq)",
        """
        CREATE TABLE steps (
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            idx BIGINT NOT NULL,
            name TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL,
            last_error TEXT,
            started_at BIGINT,
            finished_at BIGINT,
            box TEXT,
            worker TEXT,
            lease_until BIGINT,
            next_attempt_at BIGINT NOT NULL,
            cancel_requested BIGINT NOT NULL,
            outputs TEXT NOT NULL,
            PRIMARY KEY (job_id, idx))
        """,
        "CREATE INDEX steps_state ON steps (state)",
        """
        CREATE TABLE events (
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            seq BIGINT NOT NULL,
            at BIGINT NOT NULL,
            kind TEXT NOT NULL,
            step TEXT,
            data TEXT,
            PRIMARY KEY (job_id, seq))
        """,
    ];

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
