namespace Miaoya.Fleet;

/// <summary>Health of a box as the fleet sees it.</summary>
public enum BoxHealth
{
    /// <summary>Not probed successfully yet.</summary>
    Unknown,
    Healthy,

    /// <summary>Taken out after repeated failures; a passing health check re-admits it.</summary>
    Quarantined,
}

/// <summary>A box's state for <c>/v1/backends</c> and the batch summary.</summary>
/// <param name="Name">As configured, or the URL's host:port.</param>
/// <param name="Url">The box's base URL.</param>
/// <param name="Labels">Free-form labels from the configuration.</param>
/// <param name="Health">Whether calls are sent to it.</param>
/// <param name="LoadedCheckpoint">The checkpoint title it has loaded, as far as the fleet knows (probe, then what was sent and answered).</param>
/// <param name="InFlight">Generation calls running on the box now (each takes one of its <see cref="MaxConcurrent"/> slots).</param>
/// <param name="Calls">Calls that ran on the box to an answer or a failure.</param>
/// <param name="Failures">Calls that failed because of the box (transport error, 5xx, unreadable answer).</param>
/// <param name="ModelSwitches">Generation calls sent to the box whose checkpoint was not the one it had loaded.</param>
/// <param name="LastError">The last failure of a call or health check on the box.</param>
public sealed record BoxStatus(
    string Name,
    Uri Url,
    IReadOnlyList<string> Labels,
    BoxHealth Health,
    string? LoadedCheckpoint,
    int InFlight,
    long Calls,
    long Failures,
    long ModelSwitches,
    string? LastError)
{
    /// <summary>Generation slots (the box's <see cref="BoxOptions.MaxConcurrent"/>).</summary>
    public int MaxConcurrent { get; init; } = 1;

    /// <summary>Calls that take no generation slot (tagger, rembg, ControlNet detect) running on the box now.</summary>
    public int OtherInFlight { get; init; }

    /// <summary>Waiting calls this box could run (it has what they need); the fleet's queue depth is <see cref="FleetStatus.QueueDepth"/>.</summary>
    public int Waiting { get; init; }

    /// <summary>Mean seconds of the calls that succeeded on the box (null before the first).</summary>
    public double? MeanCallSeconds { get; init; }

    /// <summary>When the box last answered a call or a health check (null: never).</summary>
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>Failed calls or failed health checks in a row, whichever is more (<see cref="FleetOptions.QuarantineAfterFailures"/> of either quarantines).</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>The backend the last probe found ("A1111", "Forge", "reForge", "SD.Next"); null before the first probe.</summary>
    public string? Backend { get; init; }

    /// <summary>The server as the last probe described it (e.g. "A1111 ≥ 1.10", "Forge"); null before the first probe.</summary>
    public string? Server { get; init; }

    /// <summary>Re-admitted after quarantine and not yet proven: it takes one generation call at a time, and one more failure quarantines it again.</summary>
    public bool OnTrial { get; init; }
}

/// <summary>The fleet at one moment: every box, and how many calls wait for one.</summary>
public sealed record FleetStatus(IReadOnlyList<BoxStatus> Boxes, int QueueDepth);
