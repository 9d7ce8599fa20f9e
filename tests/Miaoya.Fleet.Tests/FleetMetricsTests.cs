using System.Diagnostics.Metrics;

namespace Miaoya.Fleet.Tests;

/// <summary>The fleet's counts and its Miaoya.Fleet meter, without HTTP.</summary>
public sealed class FleetMetricsTests
{
    [Fact]
    public void Calls_are_counted_per_box_and_outcome_and_published_on_the_meter()
    {
        var m = new FleetModel(boxes: 2);
        var seen = new List<(string Instrument, double Value, string? Box, string? Outcome)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This fleet's meter only: fleets of the tests running beside this one publish under the same name.
            if (instrument.Meter.Name == FleetMetrics.MeterName && ReferenceEquals(instrument.Meter, m.Metrics.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? box = null, outcome = null;
            foreach (var tag in tags)
            {
                box = tag.Key == "box" ? (string?)tag.Value : box;
                outcome = tag.Key == "outcome" ? (string?)tag.Value : outcome;
            }

            lock (seen)
            {
                seen.Add((instrument.Name, value, box, outcome));
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        var box0 = m.Boxes[0];
        m.Metrics.CallEnded(box0, CallOutcome.Success, TimeSpan.FromSeconds(2));
        m.Metrics.CallEnded(box0, CallOutcome.Success, TimeSpan.FromSeconds(4));
        m.Metrics.CallEnded(box0, CallOutcome.BoxFailure, TimeSpan.FromSeconds(1));
        m.Metrics.CallEnded(box0, CallOutcome.Abandoned, TimeSpan.FromSeconds(9));
        m.Submit("realistic");
        m.Submit("realistic");
        listener.RecordObservableInstruments();

        Assert.Equal(3, box0.Counts.Calls);
        Assert.Equal(1, box0.Counts.Failures);
        Assert.Equal(3.0, box0.Counts.MeanCallSeconds);
        Assert.Null(m.Boxes[1].Counts.MeanCallSeconds);
        Assert.Equal(2, seen.Count(s => s is { Instrument: "miaoya.fleet.calls", Box: "box0", Outcome: "success" }));
        Assert.Single(seen, s => s is { Instrument: "miaoya.fleet.calls", Outcome: "box_failure" });
        Assert.Equal(3, seen.Count(s => s.Instrument == "miaoya.fleet.call.duration"));
        Assert.Equal(2, seen.Count(s => s.Instrument == "miaoya.fleet.model_switches"));
        Assert.Contains(seen, s => s.Instrument == "miaoya.fleet.dispatch.duration");
        Assert.Contains(seen, s => s is { Instrument: "miaoya.fleet.queue.depth", Value: 0 });
        Assert.True(m.Metrics.DispatchTime > TimeSpan.Zero);
    }
}
