using System.Collections.Concurrent;
using System.Text.Json;
using Miaoya.Jobs;

namespace Miaoya.Server;

/// <summary>
/// A job's remaining time: for the running step, the box's own estimate (the <c>eta_s</c> of the step's latest progress
/// event, less the time since that event), else the rest at the pace so far when the event has a fraction, else the step's
/// typical duration less the time it has run; plus the typical duration of every step still to run. A step's typical duration is the median of the last
/// <see cref="HistoryPerStep"/> successful runs of a step of that name (across recipes and jobs) among the store's newest
/// <see cref="HistoryWindow"/> successful steps (one bounded read, whatever the history's length). The
/// estimate is null while some step has no history yet, 0 for a finished job. Time spent queued behind other jobs is
/// not included.
/// </summary>
internal sealed class EtaEstimator(IJobStore store, TimeProvider time) : IDisposable
{
    public const int HistoryPerStep = 50;

    /// <summary>The newest successful steps read per refresh: 50 runs each of 20 step names.</summary>
    public const int HistoryWindow = 20 * HistoryPerStep;

    private static readonly TimeSpan RefreshAfter = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RefreshMissingAfter = TimeSpan.FromSeconds(1);
    private const long Stale = long.MinValue;

    private readonly ConcurrentDictionary<string, ProgressMark> _progress = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private IReadOnlyDictionary<string, double> _typical = new Dictionary<string, double>();
    private long _refreshedTicks = Stale; // UTC ticks when the history was last read, read and written atomically
    private long _successesSeen; // how many times a succeeded job was seen finished, read and written atomically
    private long _successesAtRead = -1; // _successesSeen when the last history read began

    /// <summary>Seconds until <paramref name="job"/> is done, or null when it cannot be told yet.</summary>
    public async Task<double?> EstimateAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.IsFinished)
        {
            _progress.TryRemove(job.Id, out _);
            if (job.State == JobState.Succeeded)
            {
                // A success the history may not include yet. Counted, not dated: the job was read back as succeeded, so its
                // steps are in the store, and any read that begins after this sighting sees them (a timestamp taken before
                // the store's commit could not promise that).
                Interlocked.Increment(ref _successesSeen);
            }

            return 0;
        }

        var remaining = job.Steps.Where(s => s.State is StepState.Pending or StepState.Running).ToList();
        var typical = await TypicalAsync(remaining.Select(s => s.Name), cancellationToken);
        var mark = await CatchUpAsync(job.Id, cancellationToken);
        var now = time.GetUtcNow();
        var total = 0.0;
        foreach (var step in remaining)
        {
            if (step.State == StepState.Running && mark is not null && mark.Step == step.Name && step.StartedAt is { } started && mark.At >= started)
            {
                if (mark.EtaSeconds is { } eta)
                {
                    total += Math.Max(0, eta - (now - mark.At).TotalSeconds);
                    continue;
                }

                if (mark.Fraction is > 0.05 and < 1)
                {
                    // No ETA from the box, but a fraction: the rest at the pace so far.
                    var elapsed = (mark.At - started).TotalSeconds;
                    total += Math.Max(0, (elapsed * (1 - mark.Fraction.Value) / mark.Fraction.Value) - (now - mark.At).TotalSeconds);
                    continue;
                }
            }

            if (!typical.TryGetValue(step.Name, out var seconds))
            {
                return null;
            }

            var ran = step.State == StepState.Running && step.StartedAt is { } start ? (now - start).TotalSeconds : 0;
            total += Math.Max(0, seconds - ran);
        }

        return Math.Round(total, 1);
    }

    /// <summary>Typical seconds per step name (the medians), refreshed from the store now and then.</summary>
    public async Task<IReadOnlyDictionary<string, double>> TypicalAsync(IEnumerable<string> needed, CancellationToken cancellationToken)
    {
        var current = _typical;
        var refreshed = Interlocked.Read(ref _refreshedTicks);
        var age = refreshed == Stale ? TimeSpan.MaxValue : TimeSpan.FromTicks(time.GetUtcNow().UtcTicks - refreshed);
        var missing = !needed.All(current.ContainsKey);
        // A step with no history yet, and a success seen since the last read began: read again at once.
        var successes = Interlocked.Read(ref _successesSeen);
        var newerSuccess = missing && successes > Interlocked.Read(ref _successesAtRead);
        if (!newerSuccess && age < RefreshAfter && (age < RefreshMissingAfter || !missing))
        {
            return current;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            // Another caller read it while this one waited, having begun after every success this one saw.
            if (_typical != current && Interlocked.Read(ref _successesAtRead) >= successes)
            {
                return _typical;
            }

            var seenBefore = Interlocked.Read(ref _successesSeen);
            var asOf = time.GetUtcNow().UtcTicks;
            var steps = await store.ReadRecentStepsAsync(HistoryWindow, cancellationToken);
            var durations = new Dictionary<string, List<double>>(StringComparer.Ordinal);
            // Newest first: each step name keeps its latest HistoryPerStep runs.
            foreach (var step in steps)
            {
                if (step.FinishedAt >= step.StartedAt)
                {
                    var list = durations.TryGetValue(step.Name, out var l) ? l : durations[step.Name] = [];
                    if (list.Count < HistoryPerStep)
                    {
                        list.Add(step.Duration.TotalSeconds);
                    }
                }
            }

            _typical = durations.ToDictionary(d => d.Key, d => Median(d.Value), StringComparer.Ordinal);
            Interlocked.Exchange(ref _refreshedTicks, asOf);
            Interlocked.Exchange(ref _successesAtRead, seenBefore);
            return _typical;
        }
        finally
        {
            _refresh.Release();
        }
    }

    internal static double Median(List<double> values)
    {
        values.Sort();
        var middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    /// <summary>The latest progress of the job's running step, reading only the events not seen yet.</summary>
    private async Task<ProgressMark?> CatchUpAsync(string jobId, CancellationToken cancellationToken)
    {
        var mark = _progress.GetValueOrDefault(jobId) ?? new ProgressMark(0, null, null, null, DateTimeOffset.MinValue);
        while (true)
        {
            var events = await store.ReadEventsAsync(jobId, mark.Sequence, 1000, cancellationToken);
            foreach (var e in events)
            {
                mark = e.Kind switch
                {
                    JobEventKind.StepProgress => new ProgressMark(e.Sequence, e.Step, Number(e.Data, "eta_s"), Number(e.Data, "fraction"), e.At),
                    JobEventKind.StepStarted or JobEventKind.StepFinished or JobEventKind.StepFailed or JobEventKind.StepRetrying => new ProgressMark(e.Sequence, e.Step, null, null, e.At),
                    _ => mark with { Sequence = e.Sequence },
                };
            }

            if (events.Count < 1000)
            {
                break;
            }
        }

        _progress[jobId] = mark;
        return mark;
    }

    public void Dispose() => _refresh.Dispose();

    /// <summary>Forgets a deleted job.</summary>
    public void Forget(string jobId) => _progress.TryRemove(jobId, out _);

    private static double? Number(string? data, string name)
    {
        if (data is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
                ? value.GetDouble()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record ProgressMark(long Sequence, string? Step, double? EtaSeconds, double? Fraction, DateTimeOffset At);
}
