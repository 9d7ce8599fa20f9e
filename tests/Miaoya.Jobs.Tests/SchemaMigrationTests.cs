using Microsoft.Data.Sqlite;
using Npgsql;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// Upgrading the databases the release before schema migrations wrote (version 1, Fixtures/): opening one with this code
/// migrates it to <see cref="SqlJobStore.SchemaVersion"/> and keeps every job, step and event.
/// </summary>
public sealed class SchemaMigrationTests : IDisposable
{
    private const string Succeeded = "0196a000-0000-7000-8000-000000000001";
    private const string Failed = "0196a000-0000-7000-8000-000000000002";
    private const string Cancelled = "0196a000-0000-7000-8000-000000000003";
    private const string Running = "0196a000-0000-7000-8000-000000000004";
    private const string Queued = "0196a000-0000-7000-8000-000000000005";

    internal static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-migrate-").FullName;

    [Fact]
    public async Task Sqlite_Version1Database_IsUpgradedWithEverythingIntact()
    {
        var path = Path.Combine(_directory, "jobs.db");
        File.Copy(Path.Combine(Fixtures, "jobs-v1.sqlite.db"), path);
        Assert.Equal(1L, await SqliteScalarAsync(path, "SELECT MAX(version) FROM miaoya_schema"));

        await using (var store = await SqliteJobStore.OpenAsync(path))
        {
            await AssertIntactAsync(store);
        }

        Assert.Equal((long)SqlJobStore.SchemaVersion, await SqliteScalarAsync(path, "SELECT MAX(version) FROM miaoya_schema"));
        Assert.Equal(2L, await SqliteScalarAsync(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('jobs_finished', 'steps_finished')"));
        // Migration 3: the shared box state for placing steps; the lease column is gone (Quartz.NET holds leases).
        Assert.Equal(1L, await SqliteScalarAsync(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'boxes'"));
        Assert.Equal(0L, await SqliteScalarAsync(path, "SELECT COUNT(*) FROM pragma_table_info('steps') WHERE name = 'lease_until'"));

        // Opened again: nothing more to do.
        await using (var again = await SqliteJobStore.OpenAsync(path))
        {
            Assert.Equal(5, await again.CountJobsAsync());
        }

        Assert.Equal((long)SqlJobStore.SchemaVersion, await SqliteScalarAsync(path, "SELECT COUNT(*) FROM miaoya_schema"));
    }

    /// <summary>What the fixture holds, read through the upgraded store's reads, old and new.</summary>
    internal static async Task AssertIntactAsync(IJobStore store)
    {
        var oldest = await store.ListJobsAsync();
        Assert.Equal([Succeeded, Failed, Cancelled, Running, Queued], oldest.Select(j => j.Id));
        Assert.Equal(
            [JobState.Succeeded, JobState.Failed, JobState.Cancelled, JobState.Running, JobState.Queued],
            oldest.Select(j => j.State));

        var page = await store.ListJobsPageAsync(new JobQuery { Limit = 2 });
        Assert.Equal([Queued, Running], page.Jobs.Select(j => j.Id));
        var rest = await store.ListJobsPageAsync(new JobQuery { Limit = 10, After = page.Next });
        Assert.Equal([Cancelled, Failed, Succeeded], rest.Jobs.Select(j => j.Id));
        Assert.Null(rest.Next);

        var succeeded = (await store.GetJobAsync(Succeeded))!;
        Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], succeeded.Steps.Select(s => s.Name));
        Assert.Equal(["box-1", "local", "box-1", "box-1"], succeeded.Steps.Select(s => s.Box));
        Assert.Equal(TimeSpan.FromSeconds(20), succeeded.Steps[2].FinishedAt - succeeded.Steps[2].StartedAt);
        Assert.Equal([new StepOutput("02-inpaint.png", new string('a', 64))], succeeded.Steps[2].Outputs);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero), succeeded.CreatedAt);

        var failed = (await store.GetJobAsync(Failed))!;
        Assert.Contains("LoRA 'bob_v1' is not installed", failed.Error, StringComparison.Ordinal);
        Assert.Equal((StepState.Failed, 2), (failed.Steps[2].State, failed.Steps[2].Attempts));

        var running = (await store.GetJobAsync(Running))!;
        Assert.Equal((StepState.Running, "host-b/1", "box-1"), (running.Steps[1].State, running.Steps[1].Worker, running.Steps[1].Box));
        var queued = (await store.GetJobAsync(Queued))!;
        Assert.Equal(("pipeline: v1\n", true, 5), (queued.Recipe, queued.RecipeIsInline, queued.MaxAttempts));

        var events = await store.ReadEventsAsync(Succeeded);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.Equal(JobEventKind.JobCreated, events[0].Kind);
        Assert.Equal(JobEventKind.JobSucceeded, events[^1].Kind);
        Assert.Contains(events, e => e.Kind == JobEventKind.StepProgress && e.Data == """{"fraction":0.5,"eta_s":5}""");
        Assert.Equal(JobEventKind.JobFailed, (await store.ReadEventsAsync(Failed))[^1].Kind);
        Assert.Equal(JobEventKind.JobCancelled, (await store.ReadEventsAsync(Cancelled))[^1].Kind);

        Assert.Equal(5, await store.CountJobsAsync());
        Assert.Equal(1, await store.CountJobsAsync(JobState.Running));
        var recent = await store.ReadRecentStepsAsync(3);
        Assert.Equal([(Running, "interrogate"), (Failed, "mask"), (Failed, "interrogate")], recent.Select(s => (s.JobId, s.Name)));

        // The job still in the queue runs on.
        var due = Assert.Single(await store.ListDueStepsAsync(), t => t.JobId == Queued);
        var job = await store.StartStepAsync(due.JobId, due.StepIndex, "after-upgrade", takeOver: false);
        Assert.NotNull(job);
    }

    private static async Task<long?> SqliteScalarAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long?)await command.ExecuteScalarAsync();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>The PostgreSQL upgrade (skipped like the contract when MIAOYA_TEST_POSTGRES is unset): the fixture script, then this code.</summary>
public sealed class PostgresSchemaMigrationTests
{
    private static readonly string Fixtures = SchemaMigrationTests.Fixtures;

    [ContractFact]
    public async Task Postgres_Version1Database_IsUpgradedWithEverythingIntact()
    {
        var schema = PostgresTestDatabase.NewSchema();
        var connectionString = PostgresTestDatabase.RequireConnectionString();
        try
        {
            var script = await File.ReadAllTextAsync(Path.Combine(Fixtures, "jobs-v1.postgres.sql"));
            await using (var setup = NpgsqlDataSource.Create(connectionString))
            {
                await using var create = setup.CreateCommand($"CREATE SCHEMA \"{schema}\"");
                await create.ExecuteNonQueryAsync();
            }

            var inSchema = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema }.ConnectionString;
            await using (var load = NpgsqlDataSource.Create(inSchema))
            {
                await using var command = load.CreateCommand(script);
                await command.ExecuteNonQueryAsync();
            }

            await using (var store = await PostgresJobStore.OpenAsync(connectionString, schema))
            {
                await SchemaMigrationTests.AssertIntactAsync(store);

                // The identity sequence goes on after the fixture's rows.
                var next = await store.CreateJobAsync(new NewJob { Recipe = "v1", InputsJson = "{}", OutputFolder = "/runs/next", Steps = ["inpaint"] });
                Assert.Equal(next.Id, (await store.ListJobsPageAsync(new JobQuery { Limit = 1 })).Jobs.Single().Id);
            }

            await using var check = NpgsqlDataSource.Create(inSchema);
            await using var version = check.CreateCommand("SELECT MAX(version) FROM miaoya_schema");
            Assert.Equal((long)SqlJobStore.SchemaVersion, (long?)await version.ExecuteScalarAsync());
            await using var indexes = check.CreateCommand($"SELECT COUNT(*) FROM pg_indexes WHERE schemaname = '{schema}' AND indexname IN ('jobs_finished', 'steps_finished')");
            Assert.Equal(2L, (long?)await indexes.ExecuteScalarAsync());
            await using var columns = check.CreateCommand(
                $"SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '{schema}' AND ((table_name = 'boxes' AND column_name = 'loaded') OR (table_name = 'steps' AND column_name = 'lease_until'))");
            Assert.Equal(1L, (long?)await columns.ExecuteScalarAsync()); // boxes.loaded is there, steps.lease_until is not
        }
        finally
        {
            await PostgresTestDatabase.DropSchemaAsync(schema);
        }
    }
}
