using System.Diagnostics.Metrics;

namespace Miaoya.Fleet;

/// <summary>How a call on a box ended.</summary>
internal enum CallOutcome
{
    Success,

    /// <summary>The box failed it (transport, 5xx, an unreadable answer, its credentials).</summary>
    BoxFailure,

    /// <summary>The box answered that the request is wrong (a 4xx of the request's own).</summary>
    RequestFailure,

    /// <summary>The caller gave it up (cancelled) or its own code threw: says nothing about the box.</summary>
    Abandoned,
}

/// <summary>One box's counts, for <see cref="BoxStatus"/>.</summary>
internal sealed class BoxCounts
{
    public long Calls { get; set; }

    public long Failures { get; set; }

    public long Succeeded { get; set; }

    public double SucceededSeconds { get; set; }

    public long ModelSwitches { get; set; }

    public double? MeanCallSeconds => Succeeded == 0 ? null : SucceededSeconds / Succeeded;
}

/// <summary>
/// The fleet's measurements: per-box counts for <see cref="WebUiFleet.Snapshot"/>, and the same as instruments of the
/// <c>Miaoya.Fleet</c> meter (calls by box and outcome, call duration, model switches, time spent placing calls, queue
/// depth) for any <see cref="MeterListener"/> or OpenTelemetry exporter. Not thread-safe: the fleet records under its lock.
/// </summary>
internal sealed class FleetMetrics : IDisposable
{
    /// <summary>The meter's name, to listen to.</summary>
    public const string MeterName = "Miaoya.Fleet";

    private readonly Meter _meter;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _callDuration;
    private readonly Counter<long> _switches;
    private readonly Histogram<double> _dispatchDuration;

    public FleetMetrics(Func<int> queueDepth)
    {
        _meter = new Meter(MeterName);
        _calls = _meter.CreateCounter<long>("miaoya.fleet.calls", "{call}", "Calls that ran on a box, by box and outcome");
        _callDuration = _meter.CreateHistogram<double>(
            "miaoya.fleet.call.duration", "s", "How long calls ran on their box",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300] });
        _switches = _meter.CreateCounter<long>("miaoya.fleet.model_switches", "{switch}", "Generation calls sent to a box with another checkpoint loaded");
        _dispatchDuration = _meter.CreateHistogram<double>(
            "miaoya.fleet.dispatch.duration", "s", "Time spent placing waiting calls on boxes, per placement round",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05] });
        _meter.CreateObservableGauge("miaoya.fleet.queue.depth", queueDepth, "{call}", "Calls waiting for a box");
    }

    /// <summary>This fleet's meter (every fleet has its own, all named <see cref="MeterName"/>).</summary>
    public Meter Meter => _meter;

    /// <summary>CPU time spent placing calls, in all (the dispatch overhead the scale benchmark reports).</summary>
    public TimeSpan DispatchTime { get; private set; }

    /// <summary>Placement rounds so far (each <see cref="Dispatched"/>).</summary>
    public long DispatchRounds { get; private set; }

    public void CallEnded(FleetBox box, CallOutcome outcome, TimeSpan elapsed)
    {
        if (outcome == CallOutcome.Abandoned)
        {
            return;
        }

        var counts = box.Counts;
        counts.Calls++;
        var tag = new KeyValuePair<string, object?>("box", box.Name);
        _calls.Add(1, tag, new KeyValuePair<string, object?>("outcome", OutcomeName(outcome)));
        _callDuration.Record(elapsed.TotalSeconds, tag);
        switch (outcome)
        {
            case CallOutcome.Success:
                counts.Succeeded++;
                counts.SucceededSeconds += elapsed.TotalSeconds;
                break;
            case CallOutcome.BoxFailure:
                counts.Failures++;
                break;
        }
    }

    /// <summary>An outcome as the metrics and spans name it.</summary>
    public static string OutcomeName(CallOutcome outcome) => outcome switch
    {
        CallOutcome.Success => "success",
        CallOutcome.BoxFailure => "box_failure",
        CallOutcome.RequestFailure => "request_failure",
        _ => "abandoned",
    };

    public void ModelSwitched(FleetBox box)
    {
        box.Counts.ModelSwitches++;
        _switches.Add(1, new KeyValuePair<string, object?>("box", box.Name));
    }

    public void Dispatched(TimeSpan elapsed)
    {
        DispatchTime += elapsed;
        DispatchRounds++;
        _dispatchDuration.Record(elapsed.TotalSeconds);
    }

    public void Dispose() => _meter.Dispose();
}
