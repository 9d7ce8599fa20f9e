namespace Miaoya.Jobs;

/// <summary>State of a job. Terminal states: <see cref="Succeeded"/>, <see cref="Failed"/>, <see cref="Cancelled"/>.</summary>
public enum JobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>State of one step of a job.</summary>
public enum StepState
{
    /// <summary>Waiting for its turn (previous steps) or for its <see cref="JobStep.NextAttemptAt"/>.</summary>
    Pending,

    /// <summary>Run by the worker the engine fired it on.</summary>
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>What happened in a job; the store appends most of them itself, workers append <see cref="StepProgress"/>.</summary>
public enum JobEventKind
{
    JobCreated,
    StepStarted,
    StepProgress,

    /// <summary>The step's worker stopped it without using up its attempt (orderly shutdown); it runs again.</summary>
    StepReturned,
    StepRetrying,
    StepFinished,
    StepFailed,
    JobSucceeded,
    JobFailed,
    JobCancelled,
}

/// <summary>A job to create: a recipe (a name, or an inline YAML document), inputs, a folder and its steps in order.</summary>
public sealed record NewJob
{
    /// <summary>
    /// The job's id when the caller chose it (e.g. to name the job's folder before creating it: <see cref="NewJobId"/>);
    /// null: a new time-ordered GUID v7. Creating a second job with an id in use fails.
    /// </summary>
    public string? Id { get; init; }

    /// <summary>Whether <paramref name="id"/> can be a job's <see cref="Id"/>: 1-64 ASCII letters, digits, '-' or '_' (it names the job's folder).</summary>
    public static bool IsValidId(string id) => id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>A fresh time-ordered id (GUID v7), the kind the store gives when <see cref="Id"/> is null.</summary>
    public static string NewJobId() => Guid.CreateVersion7().ToString("D", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A recipe name (built-in or file), or the recipe's YAML itself when <see cref="RecipeIsInline"/>.</summary>
    public required string Recipe { get; init; }

    public bool RecipeIsInline { get; init; }

    /// <summary>The job's inputs (template/face paths, identity, overrides) as a JSON document; the store keeps it verbatim.</summary>
    public required string InputsJson { get; init; }

    /// <summary>The folder the job's outputs are written into; <see cref="IJobStore.DeleteJobAsync"/> returns it.</summary>
    public required string OutputFolder { get; init; }

    /// <summary>Step names in execution order (e.g. interrogate, mask, inpaint, img2img, faceswap); at least one, unique.</summary>
    public required IReadOnlyList<string> Steps { get; init; }

    /// <summary>Attempts per step before the job fails; null: <see cref="JobStoreOptions.MaxAttempts"/>.</summary>
    public int? MaxAttempts { get; init; }
}

/// <summary>A file a step wrote into the job's folder.</summary>
public sealed record StepOutput(string File, string Sha256);

/// <summary>One step of a job as stored.</summary>
public sealed record JobStep(
    int Index,
    string Name,
    StepState State,
    int Attempts,
    string? LastError,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Box,
    string? Worker,
    DateTimeOffset NextAttemptAt,
    bool CancelRequested,
    IReadOnlyList<StepOutput> Outputs);

/// <summary>A job as stored, with its steps in order.</summary>
public sealed record JobRecord(
    string Id,
    string Recipe,
    bool RecipeIsInline,
    string InputsJson,
    string OutputFolder,
    JobState State,
    string? Error,
    int MaxAttempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<JobStep> Steps)
{
    public bool IsFinished => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}

/// <summary>
/// A worker's hold on one attempt of one step. Every later call about the step passes it back; the store accepts the call
/// only while the step is still held by this worker for this attempt (compare-and-set on job, step, worker, attempt).
/// </summary>
public sealed record StepLease(
    string JobId,
    int StepIndex,
    string StepName,
    string Worker,
    int Attempt,
    string Recipe,
    bool RecipeIsInline,
    string InputsJson,
    string OutputFolder);

/// <summary>One entry of a job's append-only event list; <see cref="Sequence"/> starts at 1 and has no gaps.</summary>
public sealed record JobEvent(long Sequence, DateTimeOffset At, JobEventKind Kind, string? Step, string? Data);

/// <summary>Whether a worker still holds its step (<see cref="IJobStore.CheckStepAsync"/>).</summary>
public enum LeaseStatus
{
    /// <summary>The step is still this worker's; keep working.</summary>
    Held,

    /// <summary>The job was cancelled: interrupt the box and stop (report with <see cref="IJobStore.FailStepAsync"/> or not at all).</summary>
    CancelRequested,

    /// <summary>Another worker holds the step now (the engine recovered it), or the job was deleted: stop, write nothing.</summary>
    Lost,
}

/// <summary>What a completion or failure report did.</summary>
public enum StepOutcome
{
    /// <summary>The step succeeded (the job succeeded if it was the last step).</summary>
    Completed,

    /// <summary>The step will be tried again at its <see cref="JobStep.NextAttemptAt"/>.</summary>
    RetryScheduled,

    /// <summary>The step is out of attempts (or the error was permanent): the job failed.</summary>
    JobFailed,

    /// <summary>The job was cancelled meanwhile; the report was recorded as the step's cancellation.</summary>
    Cancelled,

    /// <summary>The caller no longer holds the step (the engine gave it to another worker, or the job was deleted); nothing was written.</summary>
    LeaseLost,
}

/// <summary>What <see cref="IJobStore.DeleteJobAsync"/> removed: the folder the caller must delete, and the box to interrupt.</summary>
public sealed record DeletedJob(string Id, string OutputFolder, string? RunningBox);

/// <summary>Tuning shared by both stores.</summary>
public sealed record JobStoreOptions
{
    /// <summary>Attempts per step when a job does not say (the attempt of a worker that died counts).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Delay before the second attempt; doubles per attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The exponential backoff after <paramref name="failedAttempts"/> failed attempts (1 → base, 2 → 2×base, ...).</summary>
    public TimeSpan RetryDelay(int failedAttempts)
    {
        var exponent = Math.Clamp(failedAttempts - 1, 0, 30);
        var ticks = RetryBaseDelay.Ticks * Math.Pow(2, exponent);
        return ticks >= MaxRetryDelay.Ticks ? MaxRetryDelay : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>Which way a listing runs: the newest job first (the default of the API), or creation order.</summary>
public enum JobOrder
{
    NewestFirst,
    OldestFirst,
}

/// <summary>A page of jobs to read with <see cref="IJobStore.ListJobsPageAsync"/>.</summary>
public sealed record JobQuery
{
    /// <summary>Most jobs returned by one page.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>Only jobs in this state; null: every job.</summary>
    public JobState? State { get; init; }

    /// <summary>Jobs on the page, 1 to <see cref="MaxLimit"/>.</summary>
    public int Limit { get; init; } = 100;

    /// <summary>The <see cref="JobPage.Next"/> of the previous page (in the same <see cref="Order"/>); null: from the start.</summary>
    public long? After { get; init; }

    public JobOrder Order { get; init; } = JobOrder.NewestFirst;

    /// <summary>
    /// Only jobs of this kind: those whose <see cref="NewJob.InputsJson"/> has the member <c>"kind":"VALUE"</c> as
    /// System.Text.Json writes it (no spaces); when <see cref="KindWhenUnnamed"/> is the same value, also those whose
    /// inputs name no kind. Lower-case letters, digits, '-' and '_'; null: every kind. The store reads no other part of
    /// the inputs; a listing by kind reads every row of the page's range (there is no index on the inputs).
    /// </summary>
    public string? Kind { get; init; }

    /// <summary>The kind of a job whose inputs name none (the caller's default kind, which it leaves out of the JSON); null: none.</summary>
    public string? KindWhenUnnamed { get; init; }
}

/// <summary>
/// One page of a listing. <see cref="Next"/> is where the next page starts (pass it as <see cref="JobQuery.After"/>); null
/// when this page is the last. It is the store's position of the page's last job, not a job id, and means nothing else.
/// </summary>
public sealed record JobPage(IReadOnlyList<JobRecord> Jobs, long? Next);

/// <summary>A step that succeeded: which job, which box, when it started and finished (for typical durations).</summary>
public sealed record FinishedStep(string JobId, string Name, string? Box, DateTimeOffset StartedAt, DateTimeOffset FinishedAt)
{
    public TimeSpan Duration => FinishedAt - StartedAt;
}
