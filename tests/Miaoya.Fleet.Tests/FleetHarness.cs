using Microsoft.Extensions.DependencyInjection;
using Miaoya.MockWebUi;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;

namespace Miaoya.Fleet.Tests;

/// <summary>In-process mock boxes and a started fleet over them, wired as the service wires them (AddWebUiFleet).</summary>
internal sealed class FleetHarness : IAsyncDisposable
{
    /// <summary>The mock's first checkpoint (loaded at start) and a second one (Catalog.Checkpoints).</summary>
    public const string Chilloutmix = "chilloutmix_NiPrunedFp32Fix";
    public const string Sd15 = "v1-5-pruned-emaonly";

    /// <summary>A hang guard, never a speed expectation.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private readonly ServiceProvider _provider;

    private FleetHarness(IReadOnlyList<MockWebUiServer> servers, ServiceProvider provider, WebUiFleet fleet)
    {
        Servers = servers;
        _provider = provider;
        Fleet = fleet;
    }

    public IReadOnlyList<MockWebUiServer> Servers { get; }

    public WebUiFleet Fleet { get; }

    /// <summary>Starts <paramref name="boxes"/> mocks (box0, box1, ...) and a fleet with fast health checks.</summary>
    public static async Task<FleetHarness> StartAsync(
        int boxes,
        Action<int, MockWebUiOptions>? mock = null,
        Action<FleetOptions>? fleet = null,
        Action<int, MockWebUiServer>? beforeStart = null)
    {
        var servers = Enumerable.Range(0, boxes).Select(i =>
        {
            var options = new MockWebUiOptions { Seed = i };
            mock?.Invoke(i, options);
            return MockWebUiServer.Start(options);
        }).ToArray();
        for (var i = 0; i < servers.Length; i++)
        {
            beforeStart?.Invoke(i, servers[i]);
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddWebUiFleet(o =>
        {
            for (var i = 0; i < servers.Length; i++)
            {
                o.Boxes.Add(new BoxOptions { Name = $"box{i}", Url = servers[i].Url });
            }

            o.HealthInterval = TimeSpan.FromMilliseconds(100);
            o.QuarantineAfterFailures = 2;
            fleet?.Invoke(o);
        });
        services.Configure<WebUiOptions>(o =>
        {
            // Fast failure so a dead box is noticed at once; the fleet, not the client, moves calls elsewhere.
            o.ControlRetries = 0;
            o.ControlAttemptTimeout = TimeSpan.FromSeconds(5);
            o.BreakerSamplingDuration = TimeSpan.FromSeconds(10);
            o.BreakerBreakDuration = TimeSpan.FromMilliseconds(500);
        });
        var provider = services.BuildServiceProvider();
        var instance = provider.GetRequiredService<WebUiFleet>();
        await instance.StartAsync();
        return new FleetHarness(servers, provider, instance);
    }

    /// <summary>A tiny txt2img through the box's client, rendered with <paramref name="checkpoint"/> (per request).</summary>
    public static Task<GenerationResponse> RenderAsync(WebUiBox box, string checkpoint, CancellationToken cancellationToken) =>
        box.Client.Txt2ImgAsync(
            new Txt2ImgRequest
            {
                Prompt = "portrait",
                Seed = 7,
                Steps = 2,
                Width = 64,
                Height = 64,
                SamplerName = "Euler",
                OverrideSettings = new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["sd_model_checkpoint"] = box.Capabilities.FindCheckpoint(checkpoint)?.Title ?? checkpoint },
                OverrideSettingsRestoreAfterwards = false,
            },
            cancellationToken);

    /// <summary>Needs of a generation call with <paramref name="checkpoint"/>, which a box must list.</summary>
    public static BoxNeeds Generation(string checkpoint) => new()
    {
        Purpose = "render",
        Checkpoint = checkpoint,
        Check = caps => caps.FindCheckpoint(checkpoint) is null ? [new BoxProblem("base_model", $"checkpoint {checkpoint} is not installed")] : [],
    };

    /// <summary>Renders on whichever box the fleet picks; returns that box's name.</summary>
    public Task<string> RenderOnFleetAsync(string checkpoint, CancellationToken cancellationToken = default) =>
        Fleet.RunAsync(Generation(checkpoint), async (box, ct) =>
        {
            await RenderAsync(box, checkpoint, ct);
            return box.Name;
        }, cancellationToken);

    public BoxStatus Box(string name) => Fleet.Status().Single(b => b.Name == name);

    /// <summary>Polls until <paramref name="condition"/> holds; fails after <see cref="Guard"/> (a hang guard).</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    /// <summary>Polls until <paramref name="condition"/> holds; fails after <see cref="Guard"/> (a hang guard).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        using var guard = new CancellationTokenSource(Guard);
        while (!await condition())
        {
            try
            {
                await Task.Delay(20, guard.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting until {what}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        foreach (var server in Servers)
        {
            server.Dispose();
        }
    }
}
