namespace Miaoya.MockWebUi;

/// <summary>How an injected fault shows itself to the client.</summary>
public enum MockFaultKind
{
    /// <summary>Answer with <see cref="MockFault.StatusCode"/> (default 500) and a webui error body.</summary>
    Status,

    /// <summary>Close the TCP connection without an HTTP response.</summary>
    DropConnection,

    /// <summary>HTTP 200 whose body is not valid JSON.</summary>
    MalformedJson,

    /// <summary>HTTP 200 with a normal body whose first image's base64 is cut short.</summary>
    TruncatedBase64,

    /// <summary>Wait <see cref="MockFault.Latency"/>, then answer normally.</summary>
    Latency,
}

/// <summary>A fault injected on one path (e.g. "/sdapi/v1/img2img"), any method.</summary>
/// <param name="Path">Absolute request path, compared case-sensitively, ignoring a trailing slash.</param>
public sealed record MockFault(string Path)
{
    /// <summary>Delay before the fault (or, for <see cref="MockFaultKind.Latency"/>, before the normal answer).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Status for <see cref="MockFaultKind.Status"/>; null means 500.</summary>
    public int? StatusCode { get; init; }

    /// <summary>What the fault does.</summary>
    public MockFaultKind Kind { get; init; } = MockFaultKind.Status;

    /// <summary>Probability (0..1) that a matching request is hit.</summary>
    public double Rate { get; init; } = 1.0;

    /// <summary>Hit only the first N matching requests (that pass <see cref="Rate"/>); null = unlimited.</summary>
    public int? Times { get; init; }
}
