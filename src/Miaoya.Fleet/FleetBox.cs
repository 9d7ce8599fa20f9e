using Miaoya.WebUi;

namespace Miaoya.Fleet;

/// <summary>
/// One box as the fleet knows it: what it can do (probed capabilities), what it has loaded, its slots in use, its health
/// and its counts. No HTTP: the fleet keeps the box's client beside it. Not thread-safe: changed under the fleet's lock.
/// </summary>
internal sealed class FleetBox(string name, BoxOptions options, int index, int quarantineAfter, TimeProvider time)
{
    public string Name { get; } = name;

    public BoxOptions Options { get; } = options;

    /// <summary>Its place in the configuration (ties go to the first).</summary>
    public int Index { get; } = index;

    /// <summary>Generation slots as configured (<see cref="BoxOptions.MaxConcurrent"/>).</summary>
    public int ConfiguredSlots { get; } = Math.Max(1, options.MaxConcurrent);

    /// <summary>Generation slots it may use now (one while on trial).</summary>
    public int Slots => Health.Slots(ConfiguredSlots);

    public WebUiCapabilities? Capabilities { get; set; }

    /// <summary>When it was last probed (a <see cref="TimeProvider"/> timestamp).</summary>
    public long? ProbedAt { get; set; }

    /// <summary>The checkpoint title it has loaded, as far as the fleet knows.</summary>
    public string? Loaded { get; set; }

    public int GenerationInFlight { get; set; }

    public int OtherInFlight { get; set; }

    /// <summary>Generation calls handed to it so far (a later one supersedes what an earlier one saw loaded).</summary>
    public long Dispatches { get; set; }

    public BoxHealthState Health { get; } = new(quarantineAfter, time);

    public BoxCounts Counts { get; } = new();

    /// <summary>How busy it is, for choosing among free boxes: its share of slots in use, other calls weighing little.</summary>
    public double Busy => ((double)GenerationInFlight / Slots) + (OtherInFlight * 0.01);

    /// <summary>The box's title of the checkpoint a generation answer names (<c>info.sd_model_name</c>), if it knows it.</summary>
    public string? TitleOf(string? modelName) =>
        modelName is null || Capabilities is not { } caps ? null : caps.Checkpoints.FirstOrDefault(c => c.ModelName == modelName)?.Title;
}
