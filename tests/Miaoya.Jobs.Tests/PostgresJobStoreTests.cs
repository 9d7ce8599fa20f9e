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
}
