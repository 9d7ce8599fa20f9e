using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Miaoya.Jobs;

/// <summary>
/// The default store: one SQLite file, no server. WAL journal (readers never block the writer), a 30 s busy timeout, and
/// every write in BEGIN IMMEDIATE so concurrent writers — threads or processes sharing the file — queue for the write lock
/// instead of failing with SQLITE_BUSY halfway through a transaction. A writer waits for that lock asynchronously (up to
/// 30 s, see <see cref="BeginWriteAsync"/>), so writers queued behind another process hold no thread while they wait.
/// synchronous=FULL: a committed start or completion survives a crash of the process or the machine.
/// </summary>
public sealed class SqliteJobStore : SqlJobStore
{
    private const int BusyTimeoutMs = 30_000;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromMilliseconds(50);

    private readonly string _connectionString;

    private SqliteJobStore(string connectionString, JobStoreOptions? options, TimeProvider? time)
        : base(options, time) => _connectionString = connectionString;

    /// <summary>The database file.</summary>
    public string Path => new SqliteConnectionStringBuilder(_connectionString).DataSource;

    /// <summary>How long a write waits for SQLite's write lock before it gives up (tests shorten it).</summary>
    internal TimeSpan WriteLockTimeout { get; set; } = TimeSpan.FromMilliseconds(BusyTimeoutMs);

    /// <summary>Opens (creating if needed) the database file at <paramref name="path"/> and brings its schema up to date.</summary>
    public static async Task<SqliteJobStore> OpenAsync(string path, JobStoreOptions? options = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        CreatePrivately(directory, path);

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        };
        var store = new SqliteJobStore(builder.ToString(), options, time);
        var connection = new SqliteConnection(store._connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                // WAL is a property of the file: set once, kept by every later connection.
                command.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL;";
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>
    /// The folder (0700) and an empty database file (0600) when they do not exist yet: the store holds people's job inputs,
    /// and SQLite gives its -wal and -shm files the database file's permissions.
    /// </summary>
    private static void CreatePrivately(string? directory, string path)
    {
        if (OperatingSystem.IsWindows())
        {
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            return;
        }

        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (!File.Exists(path))
        {
            try
            {
                using var file = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another instance created it first.
            }
        }
    }

    private protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// BEGIN IMMEDIATE (deferred: false): the write lock is taken before the first read, so a start's SELECT and UPDATE are
    /// atomic. While another connection holds the lock, each try fails at once and the wait between tries is a
    /// <see cref="Task.Delay(TimeSpan, CancellationToken)"/> (1 ms doubling to 50 ms, jittered), for at most
    /// <see cref="WriteLockTimeout"/> and never past <paramref name="cancellationToken"/>; then a <see cref="SqliteException"/>
    /// SQLITE_BUSY that says so. Before, SQLite's busy handler slept inside BEGIN, holding a pool thread up to 30 s per writer.
    /// </summary>
    private protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var sqlite = (SqliteConnection)connection;
        var started = Stopwatch.GetTimestamp(); // not the store's TimeProvider: that is the jobs' clock, which tests stop
        var backoff = FirstBackoff;
        SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, 0);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (TryBeginImmediate(sqlite) is { } transaction)
                {
                    return transaction;
                }

                var left = WriteLockTimeout - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    throw new SqliteException(
                        $"The job database {Path} stayed locked by another writer for {WriteLockTimeout.TotalSeconds:0.###} s; " +
                        "gave up waiting for its write lock (BEGIN IMMEDIATE). Another process may hold a write transaction open on the file.",
                        SqliteBusy, SqliteBusy);
                }

                var wait = backoff * (0.5 + Random.Shared.NextDouble()); // jitter: waiters do not retry in step
                await Task.Delay(wait < left ? wait : left, cancellationToken).ConfigureAwait(false);
                backoff = backoff * 2 < LastBackoff ? backoff * 2 : LastBackoff;
            }
        }
        finally
        {
            // The statements inside the transaction (and a COMMIT that must wait out readers in a rollback journal) keep
            // SQLite's usual busy wait.
            SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, BusyTimeoutMs);
        }
    }

    private protected override Task<DbTransaction?> TryBeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var sqlite = (SqliteConnection)connection;
        SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, 0);
        try
        {
            return Task.FromResult<DbTransaction?>(TryBeginImmediate(sqlite));
        }
        finally
        {
            SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, BusyTimeoutMs);
        }
    }

    /// <summary>One BEGIN IMMEDIATE; null when another connection holds the write lock (SQLITE_BUSY or SQLITE_LOCKED).</summary>
    private static SqliteTransaction? TryBeginImmediate(SqliteConnection connection)
    {
        // With busy_timeout 0 SQLite answers BUSY at once, but Microsoft.Data.Sqlite (10.0) retries a busy statement itself,
        // sleeping 150 ms at a time, until the command timeout BeginTransaction takes from DefaultTimeout has passed (0 = for
        // ever). A negative timeout is already past at the first BUSY, so the exception comes after one try.
        var timeout = connection.DefaultTimeout;
        connection.DefaultTimeout = -1;
        try
        {
            return connection.BeginTransaction(deferred: false);
        }
        catch (SqliteException e) when ((e.SqliteErrorCode & 0xFF) is SqliteBusy or SqliteLocked)
        {
            return null;
        }
        finally
        {
            connection.DefaultTimeout = timeout;
        }
    }

    private protected override Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken cancellationToken) =>
        // A deferred transaction reads one WAL snapshot and takes no write lock.
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: true));


    private protected override string RowLockClause => string.Empty;

    private protected override Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;

    private protected override IReadOnlyList<SchemaMigration> Migrations { get; } = [new(1, SchemaV1), new(2, SchemaV2), new(3, SchemaV3)];

    /// <summary>Version 1: the tables as the first release created them (never edit: databases in use were made by it).</summary>
    private static IReadOnlyList<string> SchemaV1 { get; } =
    [
        """
        CREATE TABLE jobs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            recipe TEXT NOT NULL,
            recipe_inline INTEGER NOT NULL,
            inputs TEXT NOT NULL,
            output_folder TEXT NOT NULL,
            state TEXT NOT NULL,
            error TEXT,
            max_attempts INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)
        """,
        "CREATE INDEX jobs_state ON jobs (state, seq)",
        """
        CREATE TABLE steps (
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            name TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_error TEXT,
            started_at INTEGER,
            finished_at INTEGER,
            box TEXT,
            worker TEXT,
            lease_until INTEGER,
            next_attempt_at INTEGER NOT NULL,
            cancel_requested INTEGER NOT NULL,
            outputs TEXT NOT NULL,
            PRIMARY KEY (job_id, idx))
        """,
        "CREATE INDEX steps_state ON steps (state)",
        """
        CREATE TABLE events (
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            step TEXT,
            data TEXT,
            PRIMARY KEY (job_id, seq))
        """,
    ];

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file (and its -wal/-shm) open; let go of them so the file can be moved or deleted.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }
}
