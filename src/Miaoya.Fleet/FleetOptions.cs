namespace Miaoya.Fleet;

/// <summary>The WebUI boxes of a fleet (configuration section <c>Fleet</c>, e.g. <c>MIAOYA_Fleet__Boxes__0__Url</c>).</summary>
public sealed class FleetOptions
{
    public const string SectionName = "Fleet";

    public IList<BoxOptions> Boxes { get; } = [];

    /// <summary>Prefer the box whose loaded checkpoint already matches a call's (no model switch).</summary>
    public bool Affinity { get; set; } = true;

    /// <summary>How often boxes are health-checked (quarantined ones: whether to re-admit them).</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Consecutive failed calls (transport errors, 5xx) after which a box is quarantined until a health check passes.</summary>
    public int QuarantineAfterFailures { get; set; } = 3;
}

/// <summary>One box.</summary>
public sealed class BoxOptions
{
    /// <summary>Name in logs, job records and <c>/v1/backends</c>; default: the URL's host:port.</summary>
    public string? Name { get; set; }

    public Uri? Url { get; set; }

    /// <summary>Basic auth (the WebUI's <c>--api-auth</c>).</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Free-form labels (e.g. <c>gpu=4090</c>, <c>site=sh</c>).</summary>
    public IList<string> Labels { get; } = [];

    /// <summary>Generation calls in flight at once; A1111 renders one at a time per process.</summary>
    public int MaxConcurrent { get; set; } = 1;
}
