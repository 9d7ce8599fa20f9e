using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Miaoya.Fleet;
using Miaoya.MockWebUi;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;

namespace Miaoya.Benchmarks;

// The fleet's dispatch alone: JOBS two-call jobs (a V2 run's inpaint then img2img, each call MS on the box) over 4 mock
// boxes, half the jobs on one checkpoint and half on another (shuffled with a fixed seed), all queued at once; a model
// switch on a box costs SWITCH_MS more. Efficiency = ideal makespan (total generation time ÷ boxes) ÷ measured
// makespan; model switches are counted by the mocks. A short warm-up run comes first (JIT, connections), then affinity
// on and off. No local work: this measures the scheduler, not the pipeline.
//
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- fleet [JOBS] [MS] [SWITCH_MS]     (default 200 1000 0)
internal static class FleetBenchmark
{
    private const int Boxes = 4;
    private static readonly string[] Checkpoints = ["chilloutmix_NiPrunedFp32Fix", "v1-5-pruned-emaonly"];

    public static async Task RunAsync(string[] args)
    {
        var jobs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var latency = TimeSpan.FromMilliseconds(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000);
        var switchLatency = TimeSpan.FromMilliseconds(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0);
        var ideal = latency * (2.0 * jobs / Boxes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fleet: {jobs} jobs × 2 calls of {latency.TotalMilliseconds} ms on {Boxes} mock boxes, two checkpoints, {switchLatency.TotalMilliseconds} ms per model switch; ideal makespan {ideal.TotalSeconds:F1} s"));
        await RunOnceAsync(Plan(Boxes * 4), TimeSpan.FromMilliseconds(20), TimeSpan.Zero, affinity: true);
        foreach (var affinity in new[] { true, false })
        {
            var (makespan, switches, dispatch) = await RunOnceAsync(Plan(jobs), latency, switchLatency, affinity);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  affinity {(affinity ? "on " : "off")}: makespan {makespan.TotalSeconds:F1} s, efficiency {ideal / makespan:F3}, model switches {switches}, dispatch CPU {dispatch.TotalMilliseconds:F0} ms"));
        }
    }

    private static string[] Plan(int jobs)
    {
        var random = new Random(5);
        return [.. Enumerable.Range(0, jobs).Select(i => Checkpoints[i % 2]).OrderBy(_ => random.Next())];
    }

    private static async Task<(TimeSpan Makespan, int Switches, TimeSpan Dispatch)> RunOnceAsync(string[] plan, TimeSpan latency, TimeSpan switchLatency, bool affinity)
    {
        var servers = Enumerable.Range(0, Boxes)
            .Select(i => MockWebUiServer.Start(new MockWebUiOptions { Latency = latency, ModelSwitchLatency = switchLatency, Seed = i }))
            .ToArray();
        try
        {
            var services = new ServiceCollection();
            services.AddWebUiFleet(o =>
            {
                for (var i = 0; i < Boxes; i++)
                {
                    o.Boxes.Add(new BoxOptions { Name = $"box{i}", Url = servers[i].Url });
                }

                o.Affinity = affinity;
            });
            await using var provider = services.BuildServiceProvider();
            var fleet = provider.GetRequiredService<WebUiFleet>();
            await fleet.StartAsync();

            var clock = Stopwatch.StartNew();
            await Task.WhenAll(plan.Select(async checkpoint =>
            {
                await CallAsync(fleet, checkpoint);
                await CallAsync(fleet, checkpoint);
            }));
            return (clock.Elapsed, servers.Sum(s => s.ModelSwitches), fleet.DispatchTime);
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Dispose();
            }
        }
    }

    /// <summary>A 64×64 txt2img on <paramref name="checkpoint"/> through the fleet (also the scale benchmark's call).</summary>
    internal static Task<GenerationResponse> CallAsync(WebUiFleet fleet, string checkpoint) =>
        fleet.RunAsync(new BoxNeeds { Purpose = "render", Checkpoint = checkpoint }, (box, ct) => box.Client.Txt2ImgAsync(
            new Txt2ImgRequest
            {
                Prompt = "portrait",
                Seed = 1,
                Steps = 2,
                Width = 64,
                Height = 64,
                SamplerName = "Euler",
                OverrideSettings = new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["sd_model_checkpoint"] = box.Capabilities.FindCheckpoint(checkpoint)?.Title ?? checkpoint },
                OverrideSettingsRestoreAfterwards = false,
            },
            ct));
}
