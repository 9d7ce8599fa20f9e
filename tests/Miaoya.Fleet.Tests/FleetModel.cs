using Microsoft.Extensions.Time.Testing;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;

namespace Miaoya.Fleet.Tests;

/// <summary>Boxes and calls for the fleet's parts without HTTP: capabilities built in memory, time on a fake clock.</summary>
internal sealed class FleetModel
{
    public FleetModel(int boxes, int slots = 1, bool affinity = true, int quarantineAfter = 3, params string[] checkpoints)
    {
        Options = new FleetOptions { Affinity = affinity, QuarantineAfterFailures = quarantineAfter };
        string[] models = checkpoints.Length == 0 ? ["chilloutmix", "realistic"] : checkpoints;
        Boxes = Enumerable.Range(0, boxes).Select(i =>
        {
            var options = new BoxOptions { Name = $"box{i}", Url = new Uri($"http://box{i}:7860"), MaxConcurrent = slots };
            var box = new FleetBox($"box{i}", options, i, quarantineAfter, Time) { Capabilities = Capabilities(models) };
            box.Health.CheckPassed();
            return box;
        }).ToList();
        Metrics = new FleetMetrics(() => Dispatcher!.QueueDepth);
        Dispatcher = new FleetDispatcher(Boxes, Options, Metrics);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));

    public FleetOptions Options { get; }

    public List<FleetBox> Boxes { get; }

    public FleetMetrics Metrics { get; }

    public FleetDispatcher Dispatcher { get; }

    private long _sequence;

    public static WebUiCapabilities Capabilities(params string[] checkpoints) => new()
    {
        BaseUrl = new Uri("http://box:7860"),
        SamplerDialect = SamplerDialect.Split,
        Samplers = [],
        Schedulers = [],
        Checkpoints = checkpoints.Select(c => new SdModel($"{c}.safetensors [0123456789]", c, "0123456789", null, $"/models/{c}.safetensors", null)).ToArray(),
        Loras = [],
        Embeddings = [],
        AlwaysOnScripts = [],
        Extensions = [],
    };

    public static string Title(string checkpoint) => $"{checkpoint}.safetensors [0123456789]";

    /// <summary>A generation call for <paramref name="checkpoint"/>, queued and placed if a box is free.</summary>
    public FleetCall Submit(string? checkpoint = "chilloutmix", bool generation = true, Func<WebUiCapabilities, IReadOnlyList<BoxProblem>>? check = null)
    {
        var call = new FleetCall(new BoxNeeds { Purpose = "render", Checkpoint = checkpoint, IsGeneration = generation, Check = check }, ++_sequence);
        Dispatcher.Enqueue(call);
        Dispatcher.Dispatch();
        return call;
    }

    /// <summary>The box a call was placed on, or null while it waits.</summary>
    public static string? Placed(FleetCall call) =>
        call.Assigned.Task.IsCompletedSuccessfully ? call.Assigned.Task.Result.Box.Name : null;

    /// <summary>The call ends on its box: its slot is freed and waiting calls are placed.</summary>
    public void Finish(FleetCall call)
    {
        FleetDispatcher.Free(call.Given!, call.Needs);
        Dispatcher.Dispatch();
    }
}
