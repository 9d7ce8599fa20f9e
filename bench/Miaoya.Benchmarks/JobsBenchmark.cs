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
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- jobs [JOBS] [BOXES] [on|off|both] [SIDE|WIDTHxHEIGHT] [WARMUP]   (default 200 jobs, 4 boxes, both, 512, 4 per box)
internal static class JobsBenchmark
{
    private static readonly TimeSpan CallTime = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(string[] args)
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
        var results = new List<Result>();
        foreach (var affinity in modes)
        {
            results.Add(await RunOnceAsync(jobs, boxes, affinity, size, warmup));
        }

        Console.WriteLine();
        Console.WriteLine($"{jobs} V2 jobs (half on a second checkpoint) after {warmup} warm-up jobs, template {size}, {boxes} mock boxes, {CallTime.TotalSeconds:0} s per generation-type call, {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine("| affinity | calls | ideal s | makespan s | efficiency | model switches | queueing s | submit CPU ms/job | orchestrator CPU ms/job | of which JIT thread | mock CPU ms/call | slots |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(r.Affinity ? "on" : "off")} | {r.Calls} | {r.Ideal:0.0} | {r.Makespan:0.0} | {r.Ideal / r.Makespan:0.000} | {r.Switches} | {r.Queueing:0.0} | {r.SubmitCpuPerJob:0} | {r.CpuPerJob:0} | {r.JitPerJob:0} | {r.MockCpuPerCall:0} | {r.Slots} |"));
        }

        Console.WriteLine();
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"affinity {(r.Affinity ? "on" : "off")}: efficiency {r.Ideal / r.Makespan:0.000} (target ≥ 0.95), {r.Switches} model switches; box busy {string.Join(", ", r.BusyShare.Select(b => b.ToString("0.00", CultureInfo.InvariantCulture)))} of the makespan; median local step (mask) {r.MaskMedian * 1000:0} ms"));
        }
    }

    private static async Task<Result> RunOnceAsync(int jobCount, int boxCount, bool affinity, string size, int warmupJobs)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "miaoya-bench-jobs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        // Each box is its own process (as boxes are other machines): its CPU is not the orchestrator's, and is reported apart.
        var boxes = new List<MockBox>();
        try
        {
            for (var i = 0; i < boxCount; i++)
            {
                boxes.Add(await MockBox.StartAsync(CallTime));
            }

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
            await using var provider = services.BuildServiceProvider();
            var fleet = provider.GetRequiredService<WebUiFleet>();
            await fleet.StartAsync();
            var location = Path.Combine(scratch, "jobs.db");
            await using var sqlite = await JobStore.OpenAsync(location);
            var counting = StoreCalls.Wrap(sqlite);
            var store = counting.Store;
            // The batch command's settings: 2 slots (scheduler threads) per box + 2.
            var options = new JobRunnerOptions
            {
                JobsDirectory = Path.Combine(scratch, "jobs"),
                Slots = (2 * boxCount) + 2,
            };
            await using var engine = new JobEngine(store, location, provider.GetRequiredService<PortraitPipeline>(), options, NullLoggerFactory.Instance);
            await engine.AttachAsync();
            var submitter = new JobSubmitter(store, options);
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
                var warmLocation = Path.Combine(scratch, "warmup.db");
                await using var warmStore = await JobStore.OpenAsync(warmLocation);
                var warmOptions = options with { JobsDirectory = Path.Combine(scratch, "warmup") };
                await using var warmEngine = new JobEngine(warmStore, warmLocation, provider.GetRequiredService<PortraitPipeline>(), warmOptions, NullLoggerFactory.Instance);
                await warmEngine.AttachAsync();
                await SubmitAsync(new JobSubmitter(warmStore, warmOptions), warmupJobs, template);
                await warmEngine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), CancellationToken.None);
            }

            var switchesBefore = fleet.Status().Sum(b => b.ModelSwitches);
            var submitCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var queueing = Stopwatch.StartNew();
            await SubmitAsync(submitter, jobCount, template);
            queueing.Stop();
            var submitCpuUsed = Process.GetCurrentProcess().TotalProcessorTime - submitCpu;
            counting.Reset();
            var callsBefore = await Task.WhenAll(boxes.Select(b => b.CallsAsync()));
            var mockCpu = boxes.Sum(b => b.Cpu.TotalMilliseconds);
            var jit = new ThreadCpu();
            var jitBefore = jit.TieredCompilationMs;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var started = DateTimeOffset.UtcNow;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30));
            using var done = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            var work = engine.RunAsync(done.Token);
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
            var storeCalls = counting.Snapshot();
            var mockCpuUsed = boxes.Sum(b => b.Cpu.TotalMilliseconds) - mockCpu;
            var calls = (await Task.WhenAll(boxes.Select(b => b.CallsAsync()))).Select((c, i) => c - callsBefore[i]).ToArray();
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
            var switches = fleet.Status().Sum(b => b.ModelSwitches) - switchesBefore;
            var result = new Result(
                affinity, total, total * CallTime.TotalSeconds / boxCount, makespan, switches, queueing.Elapsed.TotalSeconds, submitCpuUsed.TotalMilliseconds / jobCount,
                cpuUsed.TotalMilliseconds / jobCount, jitUsed / jobCount, mockCpuUsed / Math.Max(1, total), options.Slots, calls.Select(c => c * CallTime.TotalSeconds / makespan).ToArray(),
                masks.Count > 0 ? masks[masks.Count / 2] : 0);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"affinity {(affinity ? "on" : "off")}: {jobCount - failed}/{jobCount} jobs in {makespan:0.0} s, {total} calls (per box {string.Join("/", calls)}), ideal {result.Ideal:0.0} s, efficiency {result.Ideal / makespan:0.000}, {switches} model switches"));
            Console.WriteLine("  store calls while running (the benchmark's own idle check included):");
            foreach (var (method, count, empty, ms) in storeCalls.OrderByDescending(c => c.Ms))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    {method,-22} {count,7} calls{(empty > 0 ? $" ({empty} found nothing)" : ""),-24} {ms / 1000:0.0} s wall, {ms / Math.Max(1, count):0.00} ms each"));
            }

            return result;
        }
        finally
        {
            foreach (var box in boxes)
            {
                box.Dispose();
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
        bool Affinity, long Calls, double Ideal, double Makespan, long Switches, double Queueing, double SubmitCpuPerJob, double CpuPerJob, double JitPerJob, double MockCpuPerCall, int Slots, double[] BusyShare, double MaskMedian);

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
}
