namespace Miaoya.Jobs;

/// <summary>
/// The job records: jobs with ordered steps, their outcomes and event log. An engine (<see cref="IStepScheduler"/>) decides when
/// and where a step runs and calls <see cref="StartStepAsync"/> when it does. Guarantees (both implementations): a step is
/// held by at most one worker at a time, and only the engine's recovery takes it from a worker; a step that succeeded is
/// never started again; every report about a step is a compare-and-set on (job, step, worker, attempt), so a worker whose
/// step was taken over cannot overwrite the new holder's work; everything is on disk when a call returns.
/// </summary>
public interface IJobStore : IAsyncDisposable
{
    /// <summary>Creates a queued job (id: a time-ordered GUID v7) and appends its <see cref="JobEventKind.JobCreated"/> event.</summary>
    Task<JobRecord> CreateJobAsync(NewJob job, CancellationToken cancellationToken = default);

    Task<JobRecord?> GetJobAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The first <paramref name="limit"/> jobs in creation order (oldest first), optionally only those in <paramref name="state"/>;
    /// for listings people read, use <see cref="ListJobsPageAsync"/> (newest first, with a cursor).
    /// </summary>
    Task<IReadOnlyList<JobRecord>> ListJobsAsync(JobState? state = null, int limit = 1000, CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands the store's due steps to <paramref name="scheduler"/> from now on (new jobs' first steps, next steps, retries), in the
    /// same transactions that make them due. Set once, before jobs are created; without it the store only keeps records.
    /// </summary>
    void AttachScheduler(IStepScheduler scheduler);

    /// <summary>
    /// Starts the step at <paramref name="stepIndex"/> of <paramref name="jobId"/> for <paramref name="worker"/> (one firing of
    /// the engine): the step becomes running with the next attempt and a <see cref="JobEventKind.StepStarted"/> event. Null when
    /// there is nothing to run: the job is unknown or finished, an earlier step is not done, the step finished, or another
    /// worker runs it and <paramref name="takeOver"/> is false. <paramref name="takeOver"/>: the engine has declared the
    /// running worker dead (a recovery firing); its attempt counts, and the job fails if that was the last one.
    /// </summary>
    Task<StepLease?> StartStepAsync(string jobId, int stepIndex, string worker, bool takeOver, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="lease"/> is still this worker's to run (read only; a running step polls it).</summary>
    Task<LeaseStatus> CheckStepAsync(StepLease lease, CancellationToken cancellationToken = default);

    /// <summary>The first unfinished step of every queued or running job, with the attempt it would run as (an engine's start-up check).</summary>
    Task<IReadOnlyList<StepTicket>> ListDueStepsAsync(int limit = 1000, CancellationToken cancellationToken = default);

    /// <summary>Records the WebUI box the step's current call runs on (so cancel can interrupt the right box).</summary>
    Task<LeaseStatus> SetStepBoxAsync(StepLease lease, string box, CancellationToken cancellationToken = default);

    /// <summary>The step succeeded with these files in the job's folder; the job succeeds with its last step.</summary>
    Task<StepOutcome> CompleteStepAsync(StepLease lease, IReadOnlyList<StepOutput> outputs, CancellationToken cancellationToken = default);

    /// <summary>
    /// The attempt failed: the step is retried after an exponential backoff until it is out of attempts, then the job fails.
    /// <paramref name="permanent"/> (bad input, missing model): fail the job now.
    /// </summary>
    Task<StepOutcome> FailStepAsync(StepLease lease, string message, bool permanent = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands the step back without counting the attempt (the engine is shutting down) and says so with a
    /// <see cref="JobEventKind.StepReturned"/> event; false when <paramref name="lease"/> no longer holds it.
    /// </summary>
    Task<bool> ReturnStepAsync(StepLease lease, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels an unfinished job: its unfinished steps become cancelled; the one that was running keeps its worker and
    /// <see cref="JobStep.Box"/> and gets <see cref="JobStep.CancelRequested"/>, and its worker's next ownership check answers
    /// <see cref="LeaseStatus.CancelRequested"/>. A finished job is left as it is. Returns the job after the call; null if unknown.
    /// </summary>
    Task<JobRecord?> CancelJobAsync(string id, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Removes the job, its steps and events; returns its folder (the caller deletes the files) and the box to interrupt.</summary>
    Task<DeletedJob?> DeleteJobAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Appends an event (typically <see cref="JobEventKind.StepProgress"/> with JSON data); returns its sequence number.</summary>
    Task<long> AppendEventAsync(string jobId, JobEventKind kind, string? stepName = null, string? data = null, CancellationToken cancellationToken = default);

    /// <summary>Events with a sequence number above <paramref name="afterSequence"/>, in order (for SSE: pass the last id seen).</summary>
    Task<IReadOnlyList<JobEvent>> ReadEventsAsync(string jobId, long afterSequence = 0, int max = 1000, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of jobs (newest first unless <see cref="JobQuery.Order"/> says otherwise), each with its steps, read in one
    /// snapshot with two statements whatever the page's size. Continue with <see cref="JobPage.Next"/>.
    /// </summary>
    Task<JobPage> ListJobsPageAsync(JobQuery query, CancellationToken cancellationToken = default);

    /// <summary>How many jobs there are (in <paramref name="state"/>, when given): one <c>COUNT(*)</c>, no rows read.</summary>
    Task<long> CountJobsAsync(JobState? state = null, CancellationToken cancellationToken = default);

    /// <summary>The <paramref name="limit"/> steps (of any job) that succeeded most recently, newest first: one bounded statement on an index.</summary>
    Task<IReadOnlyList<FinishedStep>> ReadRecentStepsAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Retention: removes up to <paramref name="max"/> finished jobs (succeeded, failed or cancelled) that finished before
    /// <paramref name="finishedBefore"/>, oldest first, with their steps and events, in one transaction; a queued or
    /// running job is never touched. Returns what was removed: the caller deletes each folder afterwards, and calls again
    /// while it gets <paramref name="max"/> back.
    /// </summary>
    Task<IReadOnlyList<DeletedJob>> DeleteFinishedJobsAsync(DateTimeOffset finishedBefore, int max, CancellationToken cancellationToken = default);
}
