namespace Miaoya.Jobs.Tests;

/// <summary>The contract against the embedded SQLite store: one database file per test.</summary>
public sealed class SqliteJobStoreContract : JobStoreContract, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-jobs-").FullName;

    private int _instances;

    protected override async Task<IJobStore> OpenAsync(TimeProvider time, JobStoreOptions options)
    {
        // Each instance spells the path differently so it gets its own connection pool, as another process would.
        var path = Path.Combine(_directory, string.Concat(Enumerable.Repeat("." + Path.DirectorySeparatorChar, _instances++)) + "jobs.db");
        return await SqliteJobStore.OpenAsync(path, options, time);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

/// <summary>The contract against PostgreSQL (MIAOYA_TEST_POSTGRES): one schema per test, dropped afterwards.</summary>
public sealed class PostgresJobStoreContract : JobStoreContract
{
    private readonly string _schema = PostgresTestDatabase.NewSchema();

    protected override async Task<IJobStore> OpenAsync(TimeProvider time, JobStoreOptions options) =>
        await PostgresJobStore.OpenAsync(PostgresTestDatabase.RequireConnectionString(), _schema, options, time);

    protected override Task CleanUpAsync() =>
        PostgresTestDatabase.ConnectionString is null ? Task.CompletedTask : PostgresTestDatabase.DropSchemaAsync(_schema);
}
