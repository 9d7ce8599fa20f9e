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

    /// <summary>
    /// Consecutive failures of a box (calls that failed with a transport error or a 5xx, or failed health checks) after
    /// which it is quarantined until a health check passes. A refused connection quarantines at once.
    /// </summary>
    public int QuarantineAfterFailures { get; set; } = 3;

    /// <summary>How often a healthy box is probed again in full (checkpoints, LoRAs, ControlNet models); the checks between are a cheap <c>GET /sdapi/v1/progress</c>.</summary>
    public TimeSpan CapabilitiesRefresh { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Attempts of one call that failed because of a box (transport error, 5xx, unreadable answer) before the call fails with
    /// the last error; each retry prefers a box it has not failed on. Waiting while every box is down uses no attempt.
    /// </summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>With <see cref="Affinity"/>: how many waiting calls past the oldest one are searched for a call whose checkpoint a free box has loaded.</summary>
    public int AffinityLookahead { get; set; } = 32;

    /// <summary>With <see cref="Affinity"/>: how many times a waiting call may be passed over for a younger one that needs no model switch; then it goes first.</summary>
    public int AffinityMaxSkips { get; set; } = 8;

    /// <summary>
    /// Every problem of these options at once (empty: valid). Without <paramref name="requireBoxes"/> no boxes is fine (a
    /// configuration checked before the command line adds its boxes).
    /// </summary>
    public IReadOnlyList<string> Validate(bool requireBoxes = true)
    {
        var problems = new List<string>();
        if (requireBoxes && Boxes.Count == 0)
        {
            problems.Add($"{SectionName}:Boxes: no boxes configured (e.g. {SectionName}:Boxes:0:Url, or MIAOYA_{SectionName}__Boxes__0__Url).");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Boxes.Count; i++)
        {
            var box = Boxes[i];
            if (box.Url is null || !box.Url.IsAbsoluteUri || (box.Url.Scheme != Uri.UriSchemeHttp && box.Url.Scheme != Uri.UriSchemeHttps))
            {
                problems.Add($"{SectionName}:Boxes:{i}:Url: an absolute http(s) URL is required (got \"{box.Url}\").");
            }
            else if (!names.Add(box.Name ?? box.Url.Authority))
            {
                problems.Add($"{SectionName}:Boxes:{i}: the name \"{box.Name ?? box.Url.Authority}\" is used twice; set Name.");
            }

            if (box.MaxConcurrent < 1)
            {
                problems.Add($"{SectionName}:Boxes:{i}:MaxConcurrent: {box.MaxConcurrent} must be at least 1.");
            }

            if ((box.Username is null) != (box.Password is null))
            {
                problems.Add($"{SectionName}:Boxes:{i}: set both Username and Password, or neither.");
            }
        }

        if (HealthInterval <= TimeSpan.Zero)
        {
            problems.Add($"{SectionName}:HealthInterval: {HealthInterval} must be positive.");
        }

        if (CapabilitiesRefresh <= TimeSpan.Zero)
        {
            problems.Add($"{SectionName}:CapabilitiesRefresh: {CapabilitiesRefresh} must be positive.");
        }

        if (QuarantineAfterFailures < 1)
        {
            problems.Add($"{SectionName}:QuarantineAfterFailures: {QuarantineAfterFailures} must be at least 1.");
        }

        if (MaxAttempts < 1)
        {
            problems.Add($"{SectionName}:MaxAttempts: {MaxAttempts} must be at least 1.");
        }

        if (AffinityLookahead < 0 || AffinityMaxSkips < 0)
        {
            problems.Add($"{SectionName}:AffinityLookahead and AffinityMaxSkips must not be negative.");
        }

        return problems;
    }
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
