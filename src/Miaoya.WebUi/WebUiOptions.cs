using System.ComponentModel.DataAnnotations;

namespace Miaoya.WebUi;

/// <summary>
/// How the client talks to a WebUI box. Durations are <see cref="TimeSpan"/>s; the whole object is validated
/// at start-up and every problem is reported at once (<see cref="WebUiOptionsValidator"/>).
/// </summary>
public sealed class WebUiOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "WebUi";

    /// <summary>Base URL of the box, e.g. <c>http://127.0.0.1:7860</c> (A1111 with <c>--api</c>; 7861 with <c>--nowebui</c>).</summary>
    [Required]
    public Uri? BaseUrl { get; set; } = new("http://127.0.0.1:7860");

    /// <summary>User for <c>--api-auth</c>; both or neither of user and password.</summary>
    public string? Username { get; set; }

    /// <summary>Password for <c>--api-auth</c>. Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Timeout of one attempt of a control call (lists, options, progress, interrupt).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan ControlAttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Retries of a control call after a transient failure (connection, timeout, 408/429/502/503/504).</summary>
    [Range(0, 10)]
    public int ControlRetries { get; set; } = 3;

    /// <summary>First retry delay; grows exponentially with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ControlRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Timeout of a generation call (txt2img, img2img, interrogate, tagger, detect, rembg). A generation is never
    /// retried after it was sent: the box may still be rendering. On timeout the client sends an interrupt.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "06:00:00")]
    public TimeSpan GenerationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Failure ratio over <see cref="BreakerSamplingDuration"/> that opens the box's circuit.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed in the sampling window before the breaker may open.</summary>
    [Range(2, 10_000)]
    public int BreakerMinimumThroughput { get; set; } = 6;

    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an open circuit refuses calls before letting one through to test the box.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Check sampler, scheduler, checkpoint, LoRA and ControlNet names against the server before generating.</summary>
    public bool ValidateNames { get; set; } = true;

    /// <summary>How long a capability probe is reused before the server is asked again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CapabilitiesLifetime { get; set; } = TimeSpan.FromMinutes(5);
}
