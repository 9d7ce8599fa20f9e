using System.Diagnostics;

namespace Miaoya.Fleet;

/// <summary>
/// The names to subscribe to for the fleet's telemetry: the <c>Miaoya.Fleet</c> meter (calls by box and outcome, call
/// duration, model switches, placement time, queue depth) and the <c>Miaoya.Fleet</c> activity source (one span per call
/// on a box, a child of whatever activity is current where the call was made: a job's step span under <c>miaoya serve</c>).
/// </summary>
public static class FleetTelemetry
{
    /// <summary>The meter's name (every fleet has its own meter of this name).</summary>
    public const string MeterName = FleetMetrics.MeterName;

    /// <summary>The activity source's name.</summary>
    public const string ActivitySourceName = "Miaoya.Fleet";

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>
    /// A span for one attempt of a call on <paramref name="box"/>, or null when nobody listens. Its parent is the current
    /// activity: the call's work runs in the caller's asynchronous flow, so the span nests under the caller's span.
    /// </summary>
    internal static Activity? StartCall(FleetBox box, string purpose, int attempt, TimeSpan waited)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity($"box call {purpose}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            var url = box.Options.Url!;
            activity.SetTag("miaoya.box", box.Name);
            // Authority leaves out any user:password a URL carries.
            activity.SetTag("miaoya.box.endpoint", $"{url.Scheme}://{url.Authority}{url.AbsolutePath}");
            activity.SetTag("server.address", url.Host);
            activity.SetTag("server.port", url.Port);
            activity.SetTag("miaoya.call.purpose", purpose);
            activity.SetTag("miaoya.call.attempt", attempt);
            activity.SetTag("miaoya.call.wait_s", Math.Round(waited.TotalSeconds, 3));
        }

        return activity;
    }

    /// <summary>Ends a call's span with how the call ended (an error status for a failure).</summary>
    internal static void EndCall(Activity? activity, CallOutcome outcome, Exception? error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("miaoya.call.outcome", FleetMetrics.OutcomeName(outcome));
        if (outcome is CallOutcome.BoxFailure or CallOutcome.RequestFailure)
        {
            activity.SetStatus(ActivityStatusCode.Error, error?.Message);
            activity.SetTag("error.type", error?.GetType().Name);
        }

        activity.Dispose();
    }
}
