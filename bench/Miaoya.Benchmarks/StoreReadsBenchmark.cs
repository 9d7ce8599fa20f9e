using System.Diagnostics;
using System.Globalization;
using Miaoya.Jobs;
using Miaoya.Server;

namespace Miaoya.Benchmarks;

// The job store's reads that the server repeats (issue 15, defect 7), over a store holding JOBS jobs of 4 steps each
// (about 95% succeeded, 2.5% failed, the rest queued or running):
//   eta history:  what the ETA estimator reads to refresh the typical step durations (a fresh estimator each time, so
//                 every sample reads the store; the server refreshes up to every 30 s and after each success);
//   queue counts: what GET /v1/backends reads for its queued and running numbers;
//   first page:   GET /v1/jobs's read of its first 100 jobs.
// Each is run REPEATS times after one unmeasured run; the medians are printed in milliseconds.
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- store-reads [JOBS] [REPEATS] [sqlite|postgres|both]   (default 2000 jobs, 15 repeats, both)
// PostgreSQL needs MIAOYA_TEST_POSTGRES (an Npgsql connection string, as the tests use); the benchmark works in a schema of
// its own and drops it. The SQLite file lies in /dev/shm when it exists (filling the store is then not bound by fsync).
// With "#define BASELINE" as its first line the same file measures the code before issue 15 (no CountJobsAsync or
// ListJobsPageAsync): copy it and Program.cs into an export of that commit (git archive 39faa64) for the "before" figures.
internal static class StoreReadsBenchmark
{
    private static readonly string[] Steps = ["interrogate", "mask", "inpaint", "img2img"];

    public static async Task RunAsync(string[] args)
    {
        var jobs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
        var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
        var which = args.Length > 2 ? args[2] : "both";
        if (which is "sqlite" or "both")
        {
            var folder = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
            var path = Path.Combine(folder, $"miaoya-store-reads-{Environment.ProcessId}.db");
            try
            {
                await using var store = await SqliteJobStore.OpenAsync(path);
                await MeasureAsync("sqlite", store, jobs, repeats);
            }
            finally
            {
                foreach (var file in new[] { path, path + "-wal", path + "-shm" })
                {
                    File.Delete(file);
                }
            }
        }

        if (which is "postgres" or "both")
        {
            var connection = Environment.GetEnvironmentVariable("MIAOYA_TEST_POSTGRES");
            if (string.IsNullOrEmpty(connection))
            {
                Console.WriteLine("postgres: skipped (set MIAOYA_TEST_POSTGRES)");
                return;
            }

            var schema = "miaoya_bench_" + Guid.NewGuid().ToString("N")[..12];
            try
            {
                await using var store = await PostgresJobStore.OpenAsync(connection, schema);
                await MeasureAsync("postgres", store, jobs, repeats);
            }
            finally
            {
                await using var dataSource = Npgsql.NpgsqlDataSource.Create(connection);
                await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                await drop.ExecuteNonQueryAsync();
            }
        }
    }

    private static async Task MeasureAsync(string name, IJobStore store, int jobs, int repeats)
    {
        var fill = Stopwatch.StartNew();
        await FillAsync(store, jobs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {jobs} jobs written in {fill.Elapsed.TotalSeconds:0.0} s"));

        var eta = await TimeAsync(repeats, async () =>
        {
            using var estimator = new EtaEstimator(store, TimeProvider.System);
            var typical = await estimator.TypicalAsync(Steps, CancellationToken.None);
            return typical.Count;
        });
        var counts = await TimeAsync(repeats, async () =>
        {
#if BASELINE
            var queued = (await store.ListJobsAsync(JobState.Queued, int.MaxValue)).Count;
            var running = (await store.ListJobsAsync(JobState.Running, int.MaxValue)).Count;
#else
            var queued = await store.CountJobsAsync(JobState.Queued);
            var running = await store.CountJobsAsync(JobState.Running);
#endif
            return (int)(queued + running);
        });
        var page = await TimeAsync(repeats, async () =>
        {
#if BASELINE
            return (await store.ListJobsAsync(null, 100)).Count;
#else
            return (await store.ListJobsPageAsync(new JobQuery { Limit = 100 })).Jobs.Count;
#endif
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: median ms over {repeats}: eta history {eta.Median:0.00} ({eta.Result} step names), queue counts {counts.Median:0.00} ({counts.Result} jobs), first page of 100 {page.Median:0.00}"));
    }

    private static async Task FillAsync(IJobStore store, int jobs)
    {
        var open = Math.Max(2, jobs / 40);
        for (var i = 0; i < jobs - open; i++)
        {
            var job = await store.CreateJobAsync(Job(i));
            var fail = i % 40 == 39;
            // The engine's firings, one step after another (the job has no scheduler attached).
            for (var step = 0; await store.StartStepAsync(job.Id, step, "bench", takeOver: false) is { } lease; step++)
            {
                await store.SetStepBoxAsync(lease, $"box-{i % 4}");
                if (fail && lease.StepIndex == 2)
                {
                    await store.FailStepAsync(lease, "bench failure", permanent: true);
                    continue;
                }

                await store.CompleteStepAsync(lease, [new StepOutput($"{lease.StepIndex:00}-{lease.StepName}.png", new string('0', 64))]);
            }

            _ = job;
        }

        for (var i = jobs - open; i < jobs; i++)
        {
            await store.CreateJobAsync(Job(i));
        }

        // Half of the open jobs are running (their first step started), the rest queued.
        foreach (var due in (await store.ListDueStepsAsync()).Take(open / 2))
        {
            _ = await store.StartStepAsync(due.JobId, due.StepIndex, "bench-open", takeOver: false);
        }
    }

    private static NewJob Job(int i) => new()
    {
        Recipe = "v2",
        InputsJson = $$"""{"template":"template.png","identity":"person-{{i}}","lora":"person_{{i}}"}""",
        OutputFolder = $"/srv/miaoya/jobs/bench-{i}",
        Steps = Steps,
    };

    private static async Task<(double Median, int Result)> TimeAsync(int repeats, Func<Task<int>> action)
    {
        var result = await action();
        var times = new List<double>(repeats);
        for (var i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            result = await action();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return (times[times.Count / 2], result);
    }
}
