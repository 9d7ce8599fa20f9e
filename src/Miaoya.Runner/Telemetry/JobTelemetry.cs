namespace Miaoya.Runner.Telemetry;

/// <summary>
/// The names to subscribe to for the job engine's telemetry: the <c>Miaoya.Jobs</c> meter (<see cref="JobMetrics"/>) and
/// the <c>Miaoya.Jobs</c> activity source (a span per job, a child span per step attempt; the fleet's box-call spans nest
/// under the step's).
/// </summary>
public static class JobTelemetry
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Miaoya.Jobs";

    /// <summary>The activity source's name.</summary>
    public const string ActivitySourceName = "Miaoya.Jobs";
}
