using Npgsql;

namespace Miaoya.Jobs.Tests;

/// <summary>PostgreSQL-only behaviour (skipped like the contract when MIAOYA_TEST_POSTGRES is unset).</summary>
public sealed class PostgresJobStoreTests
{
    [ContractFact]
    public async Task OpenAsync_SeveralInstancesAtOnceOnAnEmptySchema_AllOpenOneSchema()
    {
        var schema = PostgresTestDatabase.NewSchema();
        try
        {
            var stores = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
                Task.Run(() => PostgresJobStore.OpenAsync(PostgresTestDatabase.RequireConnectionString(), schema))));
            try
            {
                await stores[0].CreateJobAsync(new NewJob { Recipe = "v1", InputsJson = "{}", OutputFolder = "/runs/a", Steps = ["inpaint"] });
                foreach (var store in stores)
                {
                    Assert.Single(await store.ListJobsAsync());
                }
            }
            finally
            {
                foreach (var store in stores)
                {
                    await store.DisposeAsync();
                }
            }
        }
        finally
        {
            await PostgresTestDatabase.DropSchemaAsync(schema);
        }
    }

    private static NewJob Job(string name, params string[] steps) => new() { Recipe = "v1", InputsJson = "{}", OutputFolder = "/runs/" + name, Steps = steps };

    /// <summary>Another session on the schema, as another instance of the store would have, in a transaction of its own.</summary>
    private static async Task<(NpgsqlConnection Connection, NpgsqlTransaction Transaction)> OtherWriterAsync(string schema)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PostgresTestDatabase.RequireConnectionString()) { SearchPath = schema, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return (connection, await connection.BeginTransactionAsync());
    }

    private static async Task ExecAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, string jobId)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue("job", jobId);
        await command.ExecuteNonQueryAsync();
    }

    [ContractFact]
    public async Task StartStep_WhileAnotherWriterHoldsTheJob_LocksTheJobRowFirst_SoItCannotDeadlock()
    {
        // Every writer (create, complete, fail, cancel, delete, append) locks the job row and then its steps. StartStep locked
        // the step row first (FOR UPDATE over steps JOIN jobs takes the rows in that order): a cancel, a delete or the old
        // worker's report arriving as a firing starts the step deadlocked with it (40P01).
        var schema = PostgresTestDatabase.NewSchema();
        try
        {
            await using var store = await PostgresJobStore.OpenAsync(PostgresTestDatabase.RequireConnectionString(), schema);
            var job = await store.CreateJobAsync(Job("a", "inpaint", "img2img"));
            var (connection, transaction) = await OtherWriterAsync(schema);
            await using var ownedConnection = connection;
            await using var ownedTransaction = transaction;
            await ExecAsync(connection, transaction, "SELECT 1 FROM jobs WHERE id = @job FOR UPDATE", job.Id);

            var starting = store.StartStepAsync(job.Id, 0, "w1", takeOver: false);
            await Task.Delay(TimeSpan.FromSeconds(1)); // lets it queue for its locks (if it has not, it takes them later still)
            await ExecAsync(connection, transaction, "UPDATE steps SET box = 'box-a' WHERE job_id = @job AND idx = 0", job.Id);
            await transaction.CommitAsync();
            var lease = await starting.WaitAsync(TimeSpan.FromMinutes(1));

            Assert.NotNull(lease);
            var step = (await store.GetJobAsync(job.Id))!.Steps[0];
            Assert.Equal((StepState.Running, "w1", 1), (step.State, step.Worker, step.Attempts));
        }
        finally
        {
            await PostgresTestDatabase.DropSchemaAsync(schema);
        }
    }

    [ContractFact]
    public async Task ReturnStep_WhileAnotherWriterAppendsAnEvent_WaitsForTheJobRow_AndNumbersItsEventAfterIt()
    {
        // Event numbers are MAX(seq) + 1 under the job row's lock. ReturnStep did not take it: an event appended meanwhile
        // (a progress report, a cancel) got the same number and one of the two failed on the primary key.
        var schema = PostgresTestDatabase.NewSchema();
        try
        {
            await using var store = await PostgresJobStore.OpenAsync(PostgresTestDatabase.RequireConnectionString(), schema);
            var job = await store.CreateJobAsync(Job("a", "inpaint"));
            var lease = (await store.StartStepAsync(job.Id, 0, "w1", takeOver: false))!;
            var (connection, transaction) = await OtherWriterAsync(schema);
            await using var ownedConnection = connection;
            await using var ownedTransaction = transaction;
            await ExecAsync(connection, transaction, "SELECT 1 FROM jobs WHERE id = @job FOR UPDATE", job.Id);
            await ExecAsync(connection, transaction,
                "INSERT INTO events (job_id, seq, at, kind, step, data) " +
                "SELECT @job, COALESCE(MAX(seq), 0) + 1, 0, 'step_progress', 'inpaint', NULL FROM events WHERE job_id = @job", job.Id);

            var returning = store.ReturnStepAsync(lease, "the instance running it shut down");
            await Task.Delay(TimeSpan.FromSeconds(1));
            await transaction.CommitAsync();

            Assert.True(await returning.WaitAsync(TimeSpan.FromMinutes(1)));
            var events = await store.ReadEventsAsync(job.Id);
            Assert.Equal([JobEventKind.JobCreated, JobEventKind.StepStarted, JobEventKind.StepProgress, JobEventKind.StepReturned], events.Select(e => e.Kind));
            Assert.Equal([1L, 2, 3, 4], events.Select(e => e.Sequence));
        }
        finally
        {
            await PostgresTestDatabase.DropSchemaAsync(schema);
        }
    }
}
