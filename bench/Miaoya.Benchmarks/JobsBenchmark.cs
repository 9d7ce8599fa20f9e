using System.Collections.Specialized;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Miaoya.Fleet;
using Miaoya.Jobs;
using Miaoya.MockWebUi;
using Miaoya.Pipeline;
using Miaoya.Runner;
using Miaoya.Runner.Engine;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Processing;
using WireMock.Logging;

namespace Miaoya.Benchmarks;

// Batch throughput end to end: JOBS V2 jobs (interrogate, mask, inpaint, img2img) through the durable job store (SQLite), one job
// worker and a fleet of BOXES mock WebUIs (each its own process), each taking a fixed 1 s per generation-type call (tagger, img2img;
// one at a time per box, as A1111's queue lock does). Half the jobs use a second checkpoint.
//   makespan: from the worker's start to the last job's end (queuing the jobs is timed separately);
//   ideal:    the boxes' busy time (calls × 1 s) ÷ boxes;  efficiency = ideal ÷ makespan (target ≥ 0.95);
//   model switches: the fleet's count (a call placed on a box whose loaded checkpoint differs), affinity on vs off.
//   orchestrator CPU: this process's CPU per job while the worker runs (submitting is reported apart), and the part the
//     runtime's tiered compilation thread used (a starting process's cost, gone in a long-running one);
//   store, instances: the job store (sqlite, a file; or postgres, a fresh schema in MIAOYA_TEST_POSTGRES, dropped after),
//     and how many orchestrators run its jobs (postgres only: a SQLite store's jobs are run by one process). Each instance
//     has its own fleet, pipeline, store connection and job engine (its own Quartz instance id), as separate orchestrator
//     processes would, in this process (their CPU is counted together); jobs are submitted through the first;
//   overlapping renders: calls that arrived at a box while another was at it, summed over the boxes (GET /__mock/renders):
//     a box renders one at a time, so each is a call the orchestrators should have held back (0 with one instance);
//   placement: placed (the engines are given their fleet's boxes: a step is placed on a box, booked across instances, before it
//     starts) or unplaced (as before placement: each step's calls wait in its own instance's fleet), or both, side by side;
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- jobs [JOBS] [BOXES] [on|off|both] [SIDE|WIDTHxHEIGHT] [WARMUP] [sqlite|postgres] [INSTANCES] [placed|unplaced|both]
//     (default 200 jobs, 4 boxes, both, 512, 4 per box, sqlite, 1, placed)
internal static class JobsBenchmark
{
    private static readonly TimeSpan CallTime = TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(string[] args)
    {
        var jobs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var boxes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        var modes = (args.Length > 2 ? args[2] : "both") switch
        {
            "on" => new[] { true },
            "off" => [false],
            _ => [true, false],
        };
        // An optional fourth argument sizes the template (default the 512 px fixture as it is): SIDE scales it to a square
        // (a smaller one shows what the CPU the mocks and the orchestrator share on a small machine costs the makespan);
        // WIDTHxHEIGHT (e.g. 768x1024, a portrait's size) scales it to fit the width and pads it to the height.
        var size = args.Length > 3 ? args[3] : "512";
        // An optional fifth argument: jobs run first, unmeasured, in the same process (default 4 per box), so that the
        // figures are a running orchestrator's rather than a starting one's (the JIT recompiles hot code for minutes).
        var warmup = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 4 * boxes;
        var storeKind = args.Length > 5 ? args[5] : "sqlite";
        var instances = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 1;
        var placements = (args.Length > 7 ? args[7] : "placed") switch
        {
            "placed" => new[] { true },
            "unplaced" => [false],
            "both" => [false, true],
            var other => [],
        };
        if (placements.Length == 0)
        {
            await Console.Error.WriteLineAsync($"jobs: placement is placed, unplaced or both, not '{args[7]}'.");
            return 2;
        }
        if (storeKind is not ("sqlite" or "postgres") || instances < 1)
        {
            await Console.Error.WriteLineAsync("jobs: the store is sqlite or postgres, and INSTANCES at least 1.");
            return 2;
        }

        if (storeKind == "sqlite" && instances > 1)
        {
            await Console.Error.WriteLineAsync($"jobs: {instances} instances need the postgres store: one process runs a SQLite store's jobs (serve and batch refuse a second runner).");
            return 2;
        }

        string? postgres = null;
        if (storeKind == "postgres" && string.IsNullOrEmpty(postgres = Environment.GetEnvironmentVariable("MIAOYA_TEST_POSTGRES")))
        {
            await Console.Error.WriteLineAsync("jobs: the postgres store needs MIAOYA_TEST_POSTGRES (an Npgsql connection string, as the tests use).");
            return 2;
        }

        var results = new List<Result>();
        foreach (var placed in placements)
        {
            foreach (var affinity in modes)
            {
                results.Add(await RunOnceAsync(jobs, boxes, affinity, size, warmup, postgres, instances, placed));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{jobs} V2 jobs (half on a second checkpoint) after {warmup} warm-up jobs, template {size}, {boxes} mock boxes, {CallTime.TotalSeconds:0} s per generation-type call, store {storeKind}, {instances} orchestrator instance(s), {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine("| store | instances | placement | affinity | calls | ideal s | makespan s | efficiency | model switches | overlapping renders | queueing s | submit CPU ms/job | orchestrator CPU ms/job | of which JIT thread | mock CPU ms/call | slots per instance |");
        Console.WriteLine("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {storeKind} | {instances} | {(r.Placed ? "placed" : "unplaced")} | {(r.Affinity ? "on" : "off")} | {r.Calls} | {r.Ideal:0.0} | {r.Makespan:0.0} | {r.Ideal / r.Makespan:0.000} | {r.Switches} | {r.Overlapping} | {r.Queueing:0.0} | {r.SubmitCpuPerJob:0} | {r.CpuPerJob:0} | {r.JitPerJob:0} | {r.MockCpuPerCall:0} | {r.Slots} |"));
        }

        Console.WriteLine();
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(r.Placed ? "placed" : "unplaced")}, affinity {(r.Affinity ? "on" : "off")}: efficiency {r.Ideal / r.Makespan:0.000} (target ≥ 0.95), {r.Switches} model switches, {r.Overlapping} overlapping renders; box busy {string.Join(", ", r.BusyShare.Select(b => b.ToString("0.00", CultureInfo.InvariantCulture)))} of the makespan; median local step (mask) {r.MaskMedian * 1000:0} ms"));
        }

        return 0;
    }

    // postgres: the PostgreSQL connection string (a fresh schema is used and dropped), null: a SQLite file; instanceCount:
    // the orchestrator instances running the store's jobs (1 with SQLite).
    private static async Task<Result> RunOnceAsync(int jobCount, int boxCount, bool affinity, string size, int warmupJobs, string? postgres, int instanceCount, bool placed)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "miaoya-bench-jobs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        var schemas = new List<string>();
        // Each box is its own process (as boxes are other machines): its CPU is not the orchestrator's, and is reported apart.
        var boxes = new List<MockBox>();
        var orchestrators = new List<Orchestrator>();
        try
        {
            for (var i = 0; i < boxCount; i++)
            {
                boxes.Add(await MockBox.StartAsync(CallTime));
            }

            for (var i = 0; i < instanceCount; i++)
            {
                orchestrators.Add(await Orchestrator.StartAsync(boxes, affinity));
            }

            // The store (SQLite: a file; PostgreSQL: a fresh schema) and another for the warm-up.
            (string Location, string? Schema) Store(string name)
            {
                if (postgres is null)
                {
                    return (Path.Combine(scratch, name + ".db"), null);
                }

                schemas.Add($"miaoya_bench_{name}_{Guid.NewGuid().ToString("N")[..12]}");
                return (postgres, schemas[^1]);
            }

            // The batch command's settings: 2 slots (scheduler threads) per box + 2, per instance.
            var options = new JobRunnerOptions
            {
                JobsDirectory = Path.Combine(scratch, "jobs"),
                Slots = (2 * boxCount) + 2,
            };
            var template = Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png");
            if (size != "512")
            {
                var sides = size.Split('x');
                var (width, height) = (int.Parse(sides[0], CultureInfo.InvariantCulture), int.Parse(sides[^1], CultureInfo.InvariantCulture));
                using var image = await SixLabors.ImageSharp.Image.LoadAsync<SixLabors.ImageSharp.PixelFormats.Rgb24>(template);
                var square = Math.Min(width, height);
                image.Mutate(x => x.Resize(square, square).Pad(width, height, SixLabors.ImageSharp.Color.Gray));
                template = Path.Combine(scratch, $"astronaut-{width}x{height}.png");
                await image.SaveAsPngAsync(template);
            }

            if (warmupJobs > 0)
            {
                // The same work in a store of its own, not measured.
                var warmOptions = options with { JobsDirectory = Path.Combine(scratch, "warmup") };
                await using var warm = await Cluster.OpenAsync(orchestrators, Store("warmup"), warmOptions, placed);
                await SubmitAsync(new JobSubmitter(warm.Store, warmOptions), warmupJobs, template);
                await Task.WhenAll(warm.Engines.Select(e => Task.Run(() => e.RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), CancellationToken.None))));
            }

            await using var cluster = await Cluster.OpenAsync(orchestrators, Store("jobs"), options, placed);
            var store = cluster.Store;
            var submitter = new JobSubmitter(store, options);
            var switchesBefore = orchestrators.Sum(o => o.Fleet.Status().Sum(b => b.ModelSwitches));
            var submitCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var queueing = Stopwatch.StartNew();
            await SubmitAsync(submitter, jobCount, template);
            queueing.Stop();
            var submitCpuUsed = Process.GetCurrentProcess().TotalProcessorTime - submitCpu;
            cluster.ResetCalls();
            var callsBefore = await Task.WhenAll(boxes.Select(b => b.CallsAsync()));
            await Task.WhenAll(boxes.Select(b => b.ResetRendersAsync()));
            var mockCpu = boxes.Sum(b => b.Cpu.TotalMilliseconds);
            var jit = new ThreadCpu();
            var jitBefore = jit.TieredCompilationMs;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var started = DateTimeOffset.UtcNow;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30));
            using var done = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            var work = Task.WhenAll(cluster.Engines.Select(e => e.RunAsync(done.Token)));
            // The makespan is read from the store (the last step's end), so this check can be rare: its own CPU counts
            // as the orchestrator's.
            while (true)
            {
                await Task.Delay(500, timeout.Token);
                jit.Sample();
                var open = await store.ListJobsAsync(JobState.Queued, 1, timeout.Token);
                if (open.Count == 0 && (await store.ListJobsAsync(JobState.Running, 1, timeout.Token)).Count == 0)
                {
                    break;
                }
            }

            var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var jitUsed = jit.TieredCompilationMs - jitBefore;
            var storeCalls = cluster.CallsSnapshot();
            var mockCpuUsed = boxes.Sum(b => b.Cpu.TotalMilliseconds) - mockCpu;
            var calls = (await Task.WhenAll(boxes.Select(b => b.CallsAsync()))).Select((c, i) => c - callsBefore[i]).ToArray();
            var overlapping = (await Task.WhenAll(boxes.Select(b => b.RendersAsync()))).Sum(r => r.OverlappingStarts);
            await done.CancelAsync();
            await work;
            var all = await store.ListJobsAsync(limit: jobCount + 10);
            var failed = all.Count(j => j.State != JobState.Succeeded);
            if (failed > 0)
            {
                await Console.Error.WriteLineAsync($"{failed} jobs did not succeed; first error: {all.First(j => j.State != JobState.Succeeded).Error}");
            }

            var makespan = (all.SelectMany(j => j.Steps).Max(s => s.FinishedAt ?? started) - started).TotalSeconds;
            var masks = all.SelectMany(j => j.Steps.Where(s => s.Name == "mask" && s.StartedAt is not null && s.FinishedAt is not null))
                .Select(s => (s.FinishedAt!.Value - s.StartedAt!.Value).TotalSeconds).Order().ToList();
            var total = calls.Sum();
            var switches = orchestrators.Sum(o => o.Fleet.Status().Sum(b => b.ModelSwitches)) - switchesBefore;
            var result = new Result(
                placed, affinity, total, total * CallTime.TotalSeconds / boxCount, makespan, switches, overlapping, queueing.Elapsed.TotalSeconds, submitCpuUsed.TotalMilliseconds / jobCount,
                cpuUsed.TotalMilliseconds / jobCount, jitUsed / jobCount, mockCpuUsed / Math.Max(1, total), options.Slots, calls.Select(c => c * CallTime.TotalSeconds / makespan).ToArray(),
                masks.Count > 0 ? masks[masks.Count / 2] : 0);
            // Steps per instance, by the instance id at the start of each step's worker ("<instance>/<firing>").
            var perInstance = cluster.Engines.Select(e => all.Sum(j => j.Steps.Count(s => s.Worker?.StartsWith(e.Name + "/", StringComparison.Ordinal) == true)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(placed ? "placed" : "unplaced")}, affinity {(affinity ? "on" : "off")}: {jobCount - failed}/{jobCount} jobs in {makespan:0.0} s, {total} calls (per box {string.Join("/", calls)}), ideal {result.Ideal:0.0} s, efficiency {result.Ideal / makespan:0.000}, {switches} model switches, {overlapping} overlapping renders; steps per instance {string.Join("/", perInstance)}"));
            Console.WriteLine("  store calls while running, all instances (the benchmark's own idle check included):");
            foreach (var (method, count, empty, ms) in storeCalls.OrderByDescending(c => c.Ms))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    {method,-22} {count,7} calls{(empty > 0 ? $" ({empty} found nothing)" : ""),-24} {ms / 1000:0.0} s wall, {ms / Math.Max(1, count):0.00} ms each"));
            }

            return result;
        }
        finally
        {
            foreach (var orchestrator in orchestrators)
            {
                await orchestrator.DisposeAsync();
            }

            foreach (var box in boxes)
            {
                box.Dispose();
            }

            if (postgres is not null && schemas.Count > 0)
            {
                await using var dataSource = Npgsql.NpgsqlDataSource.Create(postgres);
                foreach (var schema in schemas)
                {
                    await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    await drop.ExecuteNonQueryAsync();
                }
            }

            Directory.Delete(scratch, recursive: true);
        }
    }

    private static async Task SubmitAsync(JobSubmitter submitter, int jobs, string template)
    {
        for (var i = 0; i < jobs; i++)
        {
            await submitter.SubmitAsync(new JobSubmission
            {
                Recipe = "v2",
                TemplatePath = template,
                Lora = "miaoya_demo_face:0.9",
                Seed = i,
                Overrides = i % 2 == 0
                    ? ["img2img.skip_if_delta_e_below=0"]
                    : ["img2img.skip_if_delta_e_below=0", "base_model=v1-5-pruned-emaonly"],
            });
        }
    }

    private sealed record Result(
        bool Placed, bool Affinity, long Calls, double Ideal, double Makespan, long Switches, long Overlapping, double Queueing, double SubmitCpuPerJob, double CpuPerJob, double JitPerJob, double MockCpuPerCall, int Slots, double[] BusyShare, double MaskMedian);

    /// <summary>The mock box process (<see cref="MockBox"/>): <c>Miaoya.Benchmarks jobs-box LATENCY_MS</c> prints its URL and serves until killed.</summary>
    public static async Task ServeBoxAsync(string[] args)
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(int.Parse(args[0], CultureInfo.InvariantCulture)) });
        var calls = 0L;
        server.WireMock.LogEntriesChanged += (object? _, NotifyCollectionChangedEventArgs e) =>
            Interlocked.Add(ref calls, e.NewItems?.OfType<ILogEntry>().Count(x => x.RequestMessage?.Path is "/sdapi/v1/img2img" or "/tagger/v1/interrogate") ?? 0);
        await Console.Out.WriteLineAsync(server.Url.ToString());
        await Console.Out.FlushAsync();
        // Each line on stdin asks for the number of generation-type calls answered so far, or ("img2img") of img2img renders
        // that ran to the end (whether or not their caller was still there to read the answer).
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var count = line == "img2img" ? server.CompletedJobs("img2img") : Interlocked.Read(ref calls);
            await Console.Out.WriteLineAsync(count.ToString(CultureInfo.InvariantCulture));
            await Console.Out.FlushAsync();
        }
    }

    /// <summary>Counts the store's calls per method and their wall time (claims that found nothing apart).</summary>
    private class StoreCalls : System.Reflection.DispatchProxy
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Count, long Empty, double Ms)> _calls = new();
        private IJobStore _inner = null!;

        public IJobStore Store { get; private set; } = null!;

        public static StoreCalls Wrap(IJobStore inner)
        {
            var proxy = Create<IJobStore, StoreCalls>();
            var calls = (StoreCalls)(object)proxy;
            calls._inner = inner;
            calls.Store = proxy;
            return calls;
        }

        public void Reset() => _calls.Clear();

        public List<(string Method, long Count, long Empty, double Ms)> Snapshot() =>
            _calls.Select(kv => (kv.Key, kv.Value.Count, kv.Value.Empty, kv.Value.Ms)).ToList();

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
        {
            var clock = Stopwatch.StartNew();
            var result = targetMethod!.Invoke(_inner, args);
            if (result is Task task)
            {
                _ = task.ContinueWith(
                    t =>
                    {
#pragma warning disable VSTHRD002 // the task has completed
                        var empty = t.IsCompletedSuccessfully && targetMethod.Name == nameof(IJobStore.StartStepAsync) && ((Task<StepLease?>)t).Result is null;
#pragma warning restore VSTHRD002
                        _calls.AddOrUpdate(targetMethod.Name, (1, empty ? 1 : 0, clock.Elapsed.TotalMilliseconds),
                            (_, c) => (c.Count + 1, c.Empty + (empty ? 1 : 0), c.Ms + clock.Elapsed.TotalMilliseconds));
                    },
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            return result;
        }
    }

    /// <summary>One orchestrator instance's own services, as a process of its own has them: its fleet over the boxes (its own box bookings and counts) and its pipeline.</summary>
    private sealed class Orchestrator : IAsyncDisposable
    {
        private readonly ServiceProvider _provider;

        private Orchestrator(ServiceProvider provider)
        {
            _provider = provider;
            Fleet = provider.GetRequiredService<WebUiFleet>();
            Pipeline = provider.GetRequiredService<PortraitPipeline>();
        }

        public WebUiFleet Fleet { get; }

        public PortraitPipeline Pipeline { get; }

        public static async Task<Orchestrator> StartAsync(List<MockBox> boxes, bool affinity)
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddWebUiFleet(o =>
            {
                for (var i = 0; i < boxes.Count; i++)
                {
                    o.Boxes.Add(new BoxOptions { Name = $"box{i}", Url = boxes[i].Url });
                }

                o.Affinity = affinity;
            });
            services.AddPortraitPipeline();
            var orchestrator = new Orchestrator(services.BuildServiceProvider());
            await orchestrator.Fleet.StartAsync();
            return orchestrator;
        }

        public ValueTask DisposeAsync() => _provider.DisposeAsync();
    }

    /// <summary>The orchestrators' job engines over one store, each with its own connection to it, its calls counted (<see cref="StoreCalls"/>).</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly List<IJobStore> _stores = [];
        private readonly List<StoreCalls> _calls = [];
        private readonly List<JobEngine> _engines = [];

        public IReadOnlyList<JobEngine> Engines => _engines;

        /// <summary>The first instance's store (counted).</summary>
        public IJobStore Store => _calls[0].Store;

        /// <summary>Opens the store once per orchestrator and attaches an engine to each (PostgreSQL: Quartz instance ids bench-1, bench-2, ...).</summary>
        public static async Task<Cluster> OpenAsync(List<Orchestrator> orchestrators, (string Location, string? Schema) store, JobRunnerOptions options, bool placed)
        {
            var cluster = new Cluster();
            try
            {
                for (var i = 0; i < orchestrators.Count; i++)
                {
                    var opened = await JobStore.OpenAsync(store.Location, postgresSchema: store.Schema);
                    cluster._stores.Add(opened);
                    cluster._calls.Add(StoreCalls.Wrap(opened));
                    var own = JobStore.IsPostgres(store.Location) ? options with { WorkerName = $"bench-{i + 1}" } : options; // SQLite: one fixed id
                    var engine = new JobEngine(cluster._calls[i].Store, store.Location, orchestrators[i].Pipeline, own, NullLoggerFactory.Instance, postgresSchema: store.Schema,
                        boxes: placed ? orchestrators[i].Fleet : null);
                    cluster._engines.Add(engine);
                    await engine.AttachAsync();
                }
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }

            return cluster;
        }

        public void ResetCalls()
        {
            foreach (var calls in _calls)
            {
                calls.Reset();
            }
        }

        /// <summary>Every instance's store calls, summed per method.</summary>
        public List<(string Method, long Count, long Empty, double Ms)> CallsSnapshot() =>
            _calls.SelectMany(c => c.Snapshot()).GroupBy(c => c.Method).Select(g => (g.Key, g.Sum(c => c.Count), g.Sum(c => c.Empty), g.Sum(c => c.Ms))).ToList();

        public async ValueTask DisposeAsync()
        {
            foreach (var engine in _engines)
            {
                await engine.DisposeAsync();
            }

            foreach (var store in _stores)
            {
                await store.DisposeAsync();
            }
        }
    }
}
