using System.Text.Json.Serialization;

namespace Miaoya.Cli.Conformance;

/// <summary>Outcome of one conformance check.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CheckStatus>))]
internal enum CheckStatus
{
    [JsonStringEnumMemberName("pass")]
    Pass,

    [JsonStringEnumMemberName("fail")]
    Fail,

    [JsonStringEnumMemberName("skip")]
    Skip,
}

/// <summary>One rule the client relies on, as checked on the box: <c>id</c> is stable (e.g. <c>txt2img.seed</c>), <c>detail</c> says what was seen.</summary>
internal sealed record ConformanceCheck(string Id, string Title, CheckStatus Status, string Detail);

/// <summary>What <c>conformance.json</c> holds.</summary>
internal sealed record ConformanceReport
{
    public required string WebUi { get; init; }

    public string? Backend { get; init; }

    public string? Version { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required double Seconds { get; init; }

    /// <summary>"pass" when no check failed (skips allowed), else "fail".</summary>
    public string Result => Checks.Any(c => c.Status == CheckStatus.Fail) ? "fail" : "pass";

    public required IReadOnlyList<ConformanceCheck> Checks { get; init; }

    /// <summary>The recording of every exchange, relative to the report (credentials stripped).</summary>
    public string Recording { get; init; } = "recording/";

    public int Exchanges { get; init; }
}
