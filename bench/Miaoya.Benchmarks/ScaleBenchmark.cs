using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Miaoya.Fleet;
using Miaoya.MockWebUi;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;

namespace Miaoya.Benchmarks;

// The fleet's scale curve: the real WebUiFleet (dispatcher, health checks, affinity) and the real WebUiClient (Refit,
// resilience pipelines per box, name checks) over 4, 16, 64 and 128 simulated boxes. A simulated box is the cheapest
// honest stand-in for a WebUI: a stub HttpMessageHandler (the primary handler of the client's two named HttpClients, so
// everything above the socket is real) that answers each box's probe with the answers recorded once from the mock
// WebUI, and each txt2img after a fixed latency, one at a time per box (A1111's queue lock). Each box gets CALLS calls on
// average: CALLS × BOXES ÷ 2 two-call jobs, half on each of two checkpoints (shuffled with a fixed seed), all queued at
// once, so the queue a placement scans grows with the fleet. Printed per fleet size:
//   dispatch overhead per call: the time spent placing calls under the fleet's lock (WebUiFleet.DispatchTime, every
//     placement round: on enqueue, on every release and on every health check) ÷ calls; it must stay flat as boxes grow;
//   makespan efficiency: ideal (calls × latency ÷ boxes) ÷ measured makespan;
//   the process's CPU during the run (client, resilience, stub, timers and dispatch together), and the fleet's model switches.
//
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- scale [CALLS] [MS] [BOXES,...] [REPEATS]    (default 16 250 4,16,64,128 3; medians)
internal static class ScaleBenchmark
{
    private static readonly string[] Checkpoints = ["chilloutmix_NiPrunedFp32Fix", "v1-5-pruned-emaonly"];

    public static async Task RunAsync(string[] args)
    {
        var perBox = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 16;
        var latency = TimeSpan.FromMilliseconds(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 250);
        var sizes = args.Length > 2 ? args[2].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [4, 16, 64, 128];
        var repeats = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        var tape = await RecordAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scale: {perBox} calls per box of {latency.TotalMilliseconds} ms (two-call jobs, two checkpoints, affinity on, all queued at once), simulated boxes, {Environment.ProcessorCount} cores; medians of {repeats} runs per size"));
        for (var i = 0; i < 3; i++)
        {
            await RunOnceAsync(tape, 16, 16, TimeSpan.FromMilliseconds(10)); // warm-up: JIT, pools
        }

        Console.WriteLine();
        Console.WriteLine("| boxes | calls | ideal s | makespan s | efficiency | dispatch µs/call | placement rounds | process CPU s | model switches |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var boxes in sizes)
        {
            var runs = new List<Result>();
            for (var i = 0; i < repeats; i++)
            {
                runs.Add(await RunOnceAsync(tape, boxes, perBox, latency));
            }

            var r = runs[0];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {boxes} | {r.Calls} | {r.Ideal.TotalSeconds:0.00} | {Median(runs, x => x.Makespan.TotalSeconds):0.00} | {Median(runs, x => x.Ideal / x.Makespan):0.000} | {Median(runs, x => x.Dispatch.TotalMicroseconds / x.Calls):0.0} | {Median(runs, x => x.Rounds):0} | {Median(runs, x => x.Cpu.TotalSeconds):0.00} | {Median(runs, x => x.Switches):0} |"));
        }
    }

    private static double Median(List<Result> runs, Func<Result, double> value)
    {
        var sorted = runs.Select(value).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record Result(int Calls, TimeSpan Ideal, TimeSpan Makespan, TimeSpan Dispatch, long Rounds, TimeSpan Cpu, long Switches);

    private static async Task<Result> RunOnceAsync(Tape tape, int boxCount, int perBox, TimeSpan latency)
    {
        var sim = new SimulatedBoxes(tape, latency);
        var services = new ServiceCollection();
        services.AddWebUiFleet(o =>
        {
            for (var i = 0; i < boxCount; i++)
            {
                o.Boxes.Add(new BoxOptions { Name = $"box{i}", Url = new Uri($"http://box{i}.sim:7860/") });
            }
        });
        services.AddHttpClient(WebUiClientFactory.ControlClientName).ConfigurePrimaryHttpMessageHandler(() => new SimulatedBoxHandler(sim));
        services.AddHttpClient(WebUiClientFactory.GenerationClientName).ConfigurePrimaryHttpMessageHandler(() => new SimulatedBoxHandler(sim));
        await using var provider = services.BuildServiceProvider();
        var fleet = provider.GetRequiredService<WebUiFleet>();
        await fleet.StartAsync();

        var random = new Random(5);
        var jobs = Math.Max(1, boxCount * perBox / 2);
        var plan = Enumerable.Range(0, jobs).Select(i => Checkpoints[i % 2]).OrderBy(_ => random.Next()).ToArray();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var dispatch = fleet.DispatchTime;
        var rounds = fleet.DispatchRounds;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(plan.Select(async checkpoint =>
        {
            await CallAsync(fleet, checkpoint);
            await CallAsync(fleet, checkpoint);
        }));
        var makespan = clock.Elapsed;
        process.Refresh();
        var calls = jobs * 2;
        return new Result(
            calls, latency * calls / boxCount, makespan, fleet.DispatchTime - dispatch, fleet.DispatchRounds - rounds, process.TotalProcessorTime - cpu,
            fleet.Status().Sum(b => b.ModelSwitches));
    }

    // The same call as the fleet benchmark's.
    private static Task<GenerationResponse> CallAsync(WebUiFleet fleet, string checkpoint) => FleetBenchmark.CallAsync(fleet, checkpoint);

    /// <summary>Every answer a box gives the fleet (probe, options, progress, a 64×64 txt2img), recorded once from the in-process mock.</summary>
    private static async Task<Tape> RecordAsync()
    {
        var tape = new Tape();
        using var mock = MockWebUiServer.Start();
        var services = new ServiceCollection();
        services.AddWebUiFleet(o => o.Boxes.Add(new BoxOptions { Name = "mock", Url = mock.Url }));
        services.AddHttpClient(WebUiClientFactory.ControlClientName).ConfigurePrimaryHttpMessageHandler(() => new Recorder(tape) { InnerHandler = new SocketsHttpHandler() });
        services.AddHttpClient(WebUiClientFactory.GenerationClientName).ConfigurePrimaryHttpMessageHandler(() => new Recorder(tape) { InnerHandler = new SocketsHttpHandler() });
        await using var provider = services.BuildServiceProvider();
        var fleet = provider.GetRequiredService<WebUiFleet>();
        await fleet.StartAsync();
        await CallAsync(fleet, Checkpoints[0]);
        await fleet.RunAsync(new BoxNeeds { Purpose = "progress", IsGeneration = false }, (box, ct) => box.Client.GetProgressAsync(cancellationToken: ct));
        return tape;
    }

    /// <summary>The recorded answers by method, path and query.</summary>
    private sealed class Tape
    {
        private readonly ConcurrentDictionary<string, (HttpStatusCode Status, byte[] Body)> _answers = new();

        public static string Key(HttpRequestMessage request) => $"{request.Method} {request.RequestUri!.PathAndQuery}";

        public void Add(string key, HttpStatusCode status, byte[] body) => _answers[key] = (status, body);

        public (HttpStatusCode Status, byte[] Body) Get(string key) =>
            _answers.TryGetValue(key, out var answer) ? answer : (HttpStatusCode.NotFound, """{"detail":"Not Found"}"""u8.ToArray());
    }

    /// <summary>The boxes' own state: one render at a time per box.</summary>
    private sealed class SimulatedBoxes(Tape tape, TimeSpan latency)
    {
        private readonly ConcurrentDictionary<string, SemaphoreSlim> _queueLocks = new();

        public Tape Tape { get; } = tape;

        public TimeSpan Latency { get; } = latency;

        public SemaphoreSlim QueueLock(string box) => _queueLocks.GetOrAdd(box, _ => new SemaphoreSlim(1, 1));
    }

    private sealed class SimulatedBoxHandler(SimulatedBoxes boxes) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null)
            {
                await request.Content.CopyToAsync(Stream.Null, cancellationToken);
            }

            var key = Tape.Key(request);
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath == "/sdapi/v1/txt2img")
            {
                var gate = boxes.QueueLock(request.RequestUri.Authority);
                await gate.WaitAsync(cancellationToken);
                try
                {
                    await Task.Delay(boxes.Latency, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }

            var (status, body) = boxes.Tape.Get(key);
            return new HttpResponseMessage(status) { Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } } };
        }
    }

    private sealed class Recorder(Tape tape) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            tape.Add(Tape.Key(request), response.StatusCode, body);
            response.Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } };
            return response;
        }
    }
}
