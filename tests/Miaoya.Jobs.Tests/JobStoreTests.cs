using Microsoft.Data.Sqlite;

namespace Miaoya.Jobs.Tests;

/// <summary>Store-specific behaviour outside the shared contract: choosing a store, the schema version table.</summary>
public sealed class JobStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-jobstore-").FullName;

    [Theory]
    [InlineData("Host=127.0.0.1;Username=miaoya;Password=x;Database=miaoya", true)]
    [InlineData("server = db.internal ; Database=miaoya", true)]
    [InlineData("/var/lib/miaoya/jobs.db", false)]
    [InlineData("jobs;v2.db", false)]
    public void IsPostgres_RecognisesAConnectionString(string location, bool expected) =>
        Assert.Equal(expected, JobStore.IsPostgres(location));

    [Theory]
    [InlineData("Host=db;Username=miaoya;Password=s3cret;Database=miaoya", "Host=db;Username=miaoya;Password=***;Database=miaoya")]
    [InlineData("Server=db;User Id=miaoya;Pwd=s3cret;Database=miaoya", "Host=db;Username=miaoya;Password=***;Database=miaoya")]
    [InlineData("host=db; PWD = 's3;cret' ;database=miaoya", "Host=db;Password=***;Database=miaoya")]
    [InlineData("Host=db;Username=miaoya;Database=miaoya", "Host=db;Username=miaoya;Database=miaoya")]
    [InlineData("Host=db;No Such Keyword=1;Pwd=s3cret", "host=db;no such keyword=1;pwd=***")]
    [InlineData("/var/lib/miaoya/jobs.db", "/var/lib/miaoya/jobs.db")]
    public void Redact_MasksThePasswordUnderEitherName(string location, string expected)
    {
        var redacted = JobStore.Redact(location);

        Assert.Equal(expected, redacted);
        Assert.DoesNotContain("s3", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_WithAPath_CreatesASqliteFileInWalMode()
    {
        var path = Path.Combine(_directory, "nested", "jobs.db");

        await using (var store = await JobStore.OpenAsync(path))
        {
            Assert.IsType<SqliteJobStore>(store);
            await store.CreateJobAsync(new NewJob { Recipe = "v1", InputsJson = "{}", OutputFolder = "/runs/a", Steps = ["inpaint"] });
        }

        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        command.CommandText = "SELECT MAX(version) FROM miaoya_schema";
        Assert.Equal((long)SqlJobStore.SchemaVersion, (long?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task OpenAsync_TwiceOnOneFile_MigratesOnceAndKeepsTheData()
    {
        var path = Path.Combine(_directory, "jobs.db");
        await using (var first = await SqliteJobStore.OpenAsync(path))
        {
            await first.CreateJobAsync(new NewJob { Recipe = "v1", InputsJson = "{}", OutputFolder = "/runs/a", Steps = ["inpaint"] });
        }

        await using var second = await SqliteJobStore.OpenAsync(path);

        Assert.Single(await second.ListJobsAsync());
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        // One row per migration applied, each once.
        command.CommandText = "SELECT COUNT(*) FROM miaoya_schema";
        Assert.Equal((long)SqlJobStore.SchemaVersion, (long?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task OpenAsync_ADatabaseFromANewerVersion_IsRefused()
    {
        var path = Path.Combine(_directory, "future.db");
        await using (var store = await SqliteJobStore.OpenAsync(path))
        {
        }

        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO miaoya_schema (version) VALUES (99)";
            await command.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SqliteJobStore.OpenAsync(path));
        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
