using System.Diagnostics.Metrics;
using Miaoya.Jobs;

namespace Miaoya.Runner.Telemetry;

/// <summary>
/// The <c>Miaoya.Jobs</c> meter: how long step attempts ran by step and outcome (<c>miaoya.jobs.step.duration</c>), step
/// attempts that failed and run again (<c>miaoya.jobs.step.retries</c>), jobs this instance finished by state
/// (<c>miaoya.jobs.finished</c>), and the jobs in the store by state (<c>miaoya.jobs</c>: queued is the queue's depth).
/// The store's counts are read by <see cref="RefreshAsync"/> (the scrape endpoint calls it), not in the meter's callback,
/// which must not wait on a database.
/// </summary>
public sealed class JobMetrics : IDisposable
{
    private static readonly JobState[] States = Enum.GetValues<JobState>();

    private readonly IJobStore _store;
    private readonly TimeProvider _time;
    private readonly Meter _meter;
    private readonly Histogram<double> _stepDuration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _finished;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile long[]? _counts;
    private long _refreshedAt;

    /// <param name="store">The store whose jobs <see cref="RefreshAsync"/> counts.</param>
    /// <param name="time">The clock of <see cref="RefreshAsync"/>'s age check.</param>
    public JobMetrics(IJobStore store, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = time ?? TimeProvider.System;
        _meter = new Meter(JobTelemetry.MeterName);
        _stepDuration = _meter.CreateHistogram<double>(
            "miaoya.jobs.step.duration", "s", "How long step attempts ran on this instance, by step and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300, 600, 1800] });
        _retries = _meter.CreateCounter<long>("miaoya.jobs.step.retries", "{retry}", "Step attempts that failed and will run again, by step");
        _finished = _meter.CreateCounter<long>("miaoya.jobs.finished", "{job}", "Jobs whose last step ran on this instance, by final state");
        _meter.CreateObservableGauge("miaoya.jobs", Observe, "{job}", "Jobs in the store by state (queued: the queue's depth), as of the last scrape");
    }

    /// <summary>
    /// Counts the store's jobs by state for the <c>miaoya.jobs</c> gauge, unless the last count is younger than
    /// <paramref name="maxAge"/> (scrapes in a burst read the store once). A store that cannot be read keeps the last count.
    /// </summary>
    public async Task RefreshAsync(TimeSpan maxAge, CancellationToken cancellationToken = default)
    {
        if (_counts is not null && _time.GetElapsedTime(Volatile.Read(ref _refreshedAt)) < maxAge)
        {
            return;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_counts is not null && _time.GetElapsedTime(Volatile.Read(ref _refreshedAt)) < maxAge)
            {
                return;
            }

            var counts = new long[States.Length];
            for (var i = 0; i < States.Length; i++)
            {
                counts[i] = await _store.CountJobsAsync(States[i], cancellationToken).ConfigureAwait(false);
            }

            _counts = counts;
            Volatile.Write(ref _refreshedAt, _time.GetTimestamp());
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>A step attempt ended: <paramref name="outcome"/> is a <see cref="JobSpans"/> outcome name.</summary>
    internal void StepEnded(string step, string outcome, TimeSpan elapsed)
    {
        _stepDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("step", step), new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == JobSpans.Retry)
        {
            _retries.Add(1, new KeyValuePair<string, object?>("step", step));
        }
    }

    internal void JobFinished(JobState state) => _finished.Add(1, new KeyValuePair<string, object?>("state", JobSpans.Name(state)));

    public void Dispose()
    {
        _meter.Dispose();
        _refresh.Dispose();
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        if (_counts is not { } counts)
        {
            yield break;
        }

        for (var i = 0; i < States.Length; i++)
        {
            yield return new Measurement<long>(counts[i], new KeyValuePair<string, object?>("state", JobSpans.Name(States[i])));
        }
    }
}
