using System.Collections.Concurrent;
using System.Diagnostics;
using Miaoya.Jobs;

namespace Miaoya.Runner.Telemetry;

/// <summary>
/// The engine's spans: one per job (open from the job's creation, or from its first step here, until the job finishes)
/// and one per step attempt, whose parent is its job's span. Steps are fired on the scheduler's threads, so a step span's
/// parent is given explicitly, never taken from <see cref="Activity.Current"/>; the step span is current while the step
/// runs, so the fleet's box-call spans nest under it. A job whose steps run on several instances has a job span on each.
/// </summary>
internal sealed class JobSpans(TimeProvider time)
{
    public const string Succeeded = "succeeded";
    public const string Retry = "retry";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Lost = "lost";
    public const string HandedBack = "handed_back";

    /// <summary>A job span whose job ran no step here for this long is ended at the next step (its later steps ran elsewhere).</summary>
    private static readonly TimeSpan Idle = TimeSpan.FromHours(1);

    private static readonly ActivitySource Source = new(JobTelemetry.ActivitySourceName);

    private readonly ConcurrentDictionary<string, OpenJob> _jobs = new(StringComparer.Ordinal);

    /// <summary>Whether anyone listens (else no span is made and the job's creation time is not looked up).</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>Whether a span is open for <paramref name="jobId"/>.</summary>
    public bool HasJob(string jobId) => _jobs.ContainsKey(jobId);

    public static string Name(JobState state) => state switch
    {
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Succeeded => Succeeded,
        JobState.Failed => Failed,
        _ => Cancelled,
    };

    public static string Name(StepOutcome outcome) => outcome switch
    {
        StepOutcome.Completed => Succeeded,
        StepOutcome.RetryScheduled => Retry,
        StepOutcome.JobFailed => Failed,
        StepOutcome.Cancelled => Cancelled,
        _ => Lost,
    };

    /// <summary>
    /// Starts the span of <paramref name="lease"/>'s step attempt (and its job's span when none is open here; it starts at
    /// <paramref name="jobCreated"/> when given) and makes it the current activity of the caller's flow. Null when nobody listens.
    /// </summary>
    public Activity? StartStep(StepLease lease, string? box, DateTimeOffset? jobCreated)
    {
        if (!Enabled)
        {
            return null;
        }

        EndIdle();
        var previous = Activity.Current;
        OpenJob job;
        try
        {
            // A root span: the firing's flow may carry an unrelated current activity (none on Quartz's threads today).
            Activity.Current = null;
            job = _jobs.GetOrAdd(lease.JobId, _ => new OpenJob(StartJob(lease, jobCreated)));
        }
        finally
        {
            Activity.Current = previous;
        }

        job.LastUsed = time.GetTimestamp();
        var parent = job.Activity?.Context ?? default;
        var step = Source.StartActivity($"step {lease.StepName}", ActivityKind.Internal, parent);
        if (step is { IsAllDataRequested: true })
        {
            step.SetTag("miaoya.job.id", lease.JobId);
            step.SetTag("miaoya.step.name", lease.StepName);
            step.SetTag("miaoya.step.index", lease.StepIndex);
            step.SetTag("miaoya.step.attempt", lease.Attempt);
            step.SetTag("miaoya.step.worker", lease.Worker);
            if (box is not null)
            {
                step.SetTag("miaoya.box", box);
            }
        }

        return step;
    }

    /// <summary>Ends a step attempt's span with its outcome (an error status for a failure, with the error's message).</summary>
    public void EndStep(StepLease lease, Activity? step, string outcome, string? error = null)
    {
        if (step is null)
        {
            return;
        }

        if (_jobs.TryGetValue(lease.JobId, out var job))
        {
            job.LastUsed = time.GetTimestamp();
        }

        step.SetTag("miaoya.step.outcome", outcome);
        if (outcome is Retry or Failed)
        {
            step.SetStatus(ActivityStatusCode.Error, error);
        }

        step.Dispose();
    }

    /// <summary>Ends the job's span, if one is open here, with the job's final state.</summary>
    public void EndJob(string jobId, string state)
    {
        if (_jobs.TryRemove(jobId, out var job) && job.Activity is { } activity)
        {
            activity.SetTag("miaoya.job.state", state);
            if (state == Failed)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }

            activity.Dispose();
        }
    }

    /// <summary>Ends every open job span (the engine stops: the jobs go on elsewhere or after a restart).</summary>
    public void EndAll()
    {
        foreach (var id in _jobs.Keys)
        {
            EndJob(id, HandedBack);
        }
    }

    private static Activity? StartJob(StepLease lease, DateTimeOffset? created)
    {
        var job = Source.StartActivity("job", ActivityKind.Internal, default(ActivityContext), startTime: created ?? default);
        if (job is { IsAllDataRequested: true })
        {
            job.SetTag("miaoya.job.id", lease.JobId);
            job.SetTag("miaoya.job.recipe", lease.RecipeIsInline ? "inline" : lease.Recipe);
        }

        return job;
    }

    private void EndIdle()
    {
        foreach (var (id, job) in _jobs)
        {
            if (time.GetElapsedTime(job.LastUsed) > Idle)
            {
                EndJob(id, "elsewhere");
            }
        }
    }

    private sealed class OpenJob(Activity? activity)
    {
        public Activity? Activity { get; } = activity;

        public long LastUsed { get; set; }
    }
}
