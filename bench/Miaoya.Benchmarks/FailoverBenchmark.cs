using System.Globalization;
using System.Text.Json;
using Miaoya.Jobs;

namespace Miaoya.Benchmarks;

// Failover after kill -9: how long a step that was running on an orchestrator killed with SIGKILL takes to run again.
// Real processes throughout: miaoya serve (the built CLI, a child process), and one mock box (its own process, which
// outlives the kill) whose generation calls take LATENCY, so the step is mid-render when it is killed. One v1-face job
// (interrogate, mask, inpaint) per repeat; the orchestrator running its inpaint step is killed as soon as the render is at
// the box, and the step's next attempt is read from the store (its started_at; the store is polled every 50 ms).
//   postgres: two serve instances clustered on one fresh schema (check-in 5 s, misfire threshold 10 s); the one running the
//             step (its worker name holds the process id) is killed; kill -> the survivor starts the step.
//   sqlite:   one serve; killed, then the same command started at once; kill -> running again, and the restart's start ->
//             running again (the part that is recovery rather than process start).
//   renders:  img2img renders of the step that ran to the end at the box: the killed process's render is not stopped (no
//             one tells the box), so 2 is the cost of once after kill -9; overlapping: calls that arrived while another
//             was at the box (the re-run queued behind the dead process's render), from the box's GET /__mock/renders.
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- failover [REPEATS] [sqlite|postgres|both]   (default 5 repeats, both)
// PostgreSQL needs MIAOYA_TEST_POSTGRES (an Npgsql connection string, as the tests use); each repeat works in a schema of
// its own and drops it.
internal static class FailoverBenchmark
{
    /// <summary>Longer than the store's failover, so that the killed render is still at the box when the step runs again.</summary>
    private static readonly Dictionary<string, TimeSpan> Latency = new()
    {
        ["postgres"] = TimeSpan.FromSeconds(20),
        ["sqlite"] = TimeSpan.FromSeconds(10),
    };

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task<int> RunAsync(string[] args)
    {
        var repeats = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var which = args.Length > 1 ? args[1] : "both";
        if (which is not ("sqlite" or "postgres" or "both") || repeats < 1)
        {
            await Console.Error.WriteLineAsync("usage: failover [REPEATS ≥ 1] [sqlite|postgres|both]");
            return 2;
        }

        var connection = Environment.GetEnvironmentVariable("MIAOYA_TEST_POSTGRES");
        var stores = new List<string>();
        if (which is "sqlite" or "both")
        {
            stores.Add("sqlite");
        }

        if (which is "postgres" or "both")
        {
            if (string.IsNullOrEmpty(connection))
            {
                Console.WriteLine("postgres: skipped (set MIAOYA_TEST_POSTGRES)");
            }
            else
            {
                stores.Add("postgres");
            }
        }

        var template = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png"));
        var results = new List<(string Store, List<Sample> Samples)>();
        foreach (var store in stores)
        {
            var samples = new List<Sample>();
            for (var i = 0; i < repeats; i++)
            {
                var sample = store == "postgres" ? await PostgresOnceAsync(connection!, template) : await SqliteOnceAsync(template);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{store} #{i + 1}: kill -> running again {sample.KillToRunning:0.00} s{(sample.RestartToRunning is { } r ? $" (restart -> running {r:0.00} s)" : "")}, {sample.Renders} renders of the step at the box, {sample.Overlapping} overlapping; {sample.Route}"));
                samples.Add(sample);
            }

            results.Add((store, samples));
        }

        Console.WriteLine();
        Console.WriteLine($"kill -9 of the orchestrator running a v1-face job's inpaint step (mid-render), {repeats} repeats per store, {Environment.ProcessorCount} cores; seconds");
        Console.WriteLine();
        Console.WriteLine("| store | box latency s | kill → running again, median | min | max | restart → running again, median | min | max | renders of the step at the box | overlapping starts at the box |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (store, samples) in results)
        {
            var kill = Stats(samples.Select(s => s.KillToRunning));
            (double Median, double Min, double Max)? restart = samples.All(s => s.RestartToRunning is not null) ? Stats(samples.Select(s => s.RestartToRunning!.Value)) : null;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {store} | {Latency[store].TotalSeconds:0} | {kill.Median:0.00} | {kill.Min:0.00} | {kill.Max:0.00} | {(restart is { } r ? $"{r.Median:0.00} | {r.Min:0.00} | {r.Max:0.00}" : "– | – | –")} | {Range(samples.Select(s => s.Renders))} | {Range(samples.Select(s => s.Overlapping))} |"));
        }

        return 0;
    }

    /// <summary>Two clustered serve instances; the one running the step is killed, the other picks it up.</summary>
    private static async Task<Sample> PostgresOnceAsync(string connection, byte[] template)
    {
        var scratch = Directory.CreateTempSubdirectory("miaoya-bench-failover-").FullName;
        var schema = "miaoya_bench_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            // The serve instances take the schema as their connection's search path (created here: they would not create it).
            var location = await PostgresSchema.UseAsync(connection, schema, CancellationToken.None);
            using var box = await MockBox.StartAsync(Latency["postgres"]);
            var ports = new[] { MiaoyaProcess.FreePort(), MiaoyaProcess.FreePort() };
            using var first = StartServe(scratch, ports[0], box, location);
            using var second = StartServe(scratch, ports[1], box, location);
            using var client = MiaoyaProcess.Client(ports[0]);
            using var secondClient = MiaoyaProcess.Client(ports[1]);
            await first.WaitHealthyAsync(client);
            await second.WaitHealthyAsync(secondClient);
            await using var observer = await JobStore.OpenAsync(location);
            var id = await SubmitAsync(client, template);
            var running = await WaitForRenderAsync(observer, id, box, first, second);
            var (victim, survivor) = running.Worker!.Contains($":{first.Id}:", StringComparison.Ordinal) ? (first, second) : (second, first);
            var killedAt = DateTimeOffset.UtcNow;
            await victim.KillHardAsync();
            var again = await WaitForAttemptAsync(observer, id, running.Attempts + 1, survivor);
            if (again.Worker?.Contains($":{survivor.Id}:", StringComparison.Ordinal) != true)
            {
                throw new InvalidOperationException($"the step ran again on {again.Worker}, not on the survivor (process {survivor.Id})");
            }

            await WaitSucceededAsync(observer, id, survivor);
            var route = $"{Name(running.Worker, first, second)} killed, {Name(again.Worker, first, second)} ran it (attempt {again.Attempts})";
            return await SampleAsync(box, (again.StartedAt!.Value - killedAt).TotalSeconds, null, route);
        }
        finally
        {
            await using (var dataSource = Npgsql.NpgsqlDataSource.Create(connection))
            await using (var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            {
                await drop.ExecuteNonQueryAsync();
            }

            Directory.Delete(scratch, recursive: true);
        }

        static string Name(string? worker, MiaoyaProcess first, MiaoyaProcess second) =>
            worker?.Contains($":{first.Id}:", StringComparison.Ordinal) == true ? "instance 1" : worker?.Contains($":{second.Id}:", StringComparison.Ordinal) == true ? "instance 2" : worker ?? "?";
    }

    /// <summary>One serve on a SQLite file, killed, then the same command again.</summary>
    private static async Task<Sample> SqliteOnceAsync(byte[] template)
    {
        var scratch = Directory.CreateTempSubdirectory("miaoya-bench-failover-").FullName;
        try
        {
            using var box = await MockBox.StartAsync(Latency["sqlite"]);
            var port = MiaoyaProcess.FreePort();
            using var client = MiaoyaProcess.Client(port);
            var location = Path.Combine(scratch, "jobs", "jobs.db");
            Sample sample;
            using (var killed = StartServe(scratch, port, box, location))
            {
                await killed.WaitHealthyAsync(client);
                await using var observer = await JobStore.OpenAsync(location);
                var id = await SubmitAsync(client, template);
                var running = await WaitForRenderAsync(observer, id, box, killed);
                var killedAt = DateTimeOffset.UtcNow;
                await killed.KillHardAsync();
                var restartedAt = DateTimeOffset.UtcNow;
                using var restarted = StartServe(scratch, port, box, location);
                var again = await WaitForAttemptAsync(observer, id, running.Attempts + 1, restarted);
                await WaitSucceededAsync(observer, id, restarted);
                sample = await SampleAsync(
                    box, (again.StartedAt!.Value - killedAt).TotalSeconds, (again.StartedAt!.Value - restartedAt).TotalSeconds, $"restarted, attempt {again.Attempts}");
            }

            return sample;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static MiaoyaProcess StartServe(string scratch, int port, MockBox box, string store) =>
        MiaoyaProcess.Start(scratch, "serve", "--urls", $"http://127.0.0.1:{port}", "--webui", box.Url.ToString(), "--store", store, "--jobs-dir", Path.Combine(scratch, "jobs"));

    private static async Task<string> SubmitAsync(HttpClient client, byte[] template)
    {
        using var form = MiaoyaProcess.JobForm(template, "v1-face");
        using var response = await client.PostAsync("/v1/jobs", form);
        response.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
        return json.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The inpaint step once its render is at the box (the step running, its call at the box: the job's only one then).</summary>
    private static async Task<JobStep> WaitForRenderAsync(IJobStore observer, string id, MockBox box, params MiaoyaProcess[] processes)
    {
        while (true)
        {
            var step = await WaitForStepAsync(observer, id, s => s.State == StepState.Running && s.Worker is not null, processes);
            if ((await box.RendersAsync()).InFlight > 0)
            {
                return step;
            }

            await Task.Delay(Poll);
        }
    }

    /// <summary>The inpaint step once attempt <paramref name="attempt"/> has started (or already ended).</summary>
    private static Task<JobStep> WaitForAttemptAsync(IJobStore observer, string id, int attempt, params MiaoyaProcess[] processes) =>
        WaitForStepAsync(observer, id, s => s.Attempts >= attempt && s.StartedAt is not null && s.State is StepState.Running or StepState.Succeeded, processes);

    private static async Task WaitSucceededAsync(IJobStore observer, string id, MiaoyaProcess process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (true)
        {
            var job = (await observer.GetJobAsync(id, timeout.Token))!;
            if (job.State == JobState.Succeeded)
            {
                return;
            }

            if (job.IsFinished)
            {
                throw new InvalidOperationException($"job {id} ended {job.State}: {job.Error}");
            }

            process.ThrowIfExited();
            await Task.Delay(Poll, timeout.Token);
        }
    }

    private static async Task<JobStep> WaitForStepAsync(IJobStore observer, string id, Func<JobStep, bool> condition, MiaoyaProcess[] processes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var job = await observer.GetJobAsync(id, timeout.Token) ?? throw new InvalidOperationException($"job {id} is not in the store");
            if (job.Steps.Single(s => s.Name == "inpaint") is var step && condition(step))
            {
                return step;
            }

            if (job.IsFinished)
            {
                throw new InvalidOperationException($"job {id} ended {job.State} before the benchmark saw its step: {job.Error}");
            }

            foreach (var process in processes)
            {
                process.ThrowIfExited();
            }

            await Task.Delay(Poll, timeout.Token);
        }
    }

    /// <summary>The sample, with the box's counts once the job has succeeded (the dead process's render has ended by then: the box renders one at a time).</summary>
    private static async Task<Sample> SampleAsync(MockBox box, double killToRunning, double? restartToRunning, string route)
    {
        var renders = await box.Img2ImgRendersAsync();
        return new Sample(killToRunning, restartToRunning, renders, (await box.RendersAsync()).OverlappingStarts, route);
    }

    private static (double Median, double Min, double Max) Stats(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return (sorted[sorted.Count / 2], sorted[0], sorted[^1]);
    }

    private static string Range(IEnumerable<long> values)
    {
        var sorted = values.Order().ToList();
        return sorted[0] == sorted[^1] ? sorted[0].ToString(CultureInfo.InvariantCulture) : $"{sorted[0]}–{sorted[^1]}";
    }

    private sealed record Sample(double KillToRunning, double? RestartToRunning, long Renders, long Overlapping, string Route);
}
