using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// The behaviour every <see cref="IJobStore"/> promises, run against each implementation by a derived class. Time is a
/// <see cref="FakeTimeProvider"/>: backoff moves only when a test advances the clock. The engine's part (which step fires
/// when, and on which worker) is played by the tests: <see cref="StepStarting.StartNextAsync"/> or a direct
/// <see cref="IJobStore.StartStepAsync"/>, and a <see cref="RecordingScheduler"/> where the store's hand-over to the engine matters.
/// </summary>
public abstract partial class JobStoreContract : IAsyncLifetime
{
    private readonly List<IJobStore> _opened = [];

    protected static JobStoreOptions Options { get; } = new()
    {
        MaxAttempts = 3,
        RetryBaseDelay = TimeSpan.FromSeconds(2),
        MaxRetryDelay = TimeSpan.FromSeconds(3),
    };

    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 29, 6, 0, 0, TimeSpan.Zero));

    protected IJobStore Store { get; private set; } = null!;

    /// <summary>A new store instance (own connections, like another process) on this test's database.</summary>
    protected abstract Task<IJobStore> OpenAsync(TimeProvider time, JobStoreOptions options);

    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => Store = await OpenTrackedAsync();

    public async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }

        await CleanUpAsync();
    }

    protected async Task<IJobStore> OpenTrackedAsync(JobStoreOptions? options = null)
    {
        var store = await OpenAsync(Clock, options ?? Options);
        _opened.Add(store);
        return store;
    }

    private static NewJob Job(string name = "v2-portrait", params string[] steps) => new()
    {
        Recipe = name,
        InputsJson = """{"template":"t.png","identity":"alice"}""",
        OutputFolder = $"/runs/{name}",
        Steps = steps.Length == 0 ? ["interrogate", "mask", "inpaint", "img2img"] : steps,
    };

    [ContractFact]
    public async Task CreateJob_ThenGet_ReturnsEveryField()
    {
        var created = await Store.CreateJobAsync(Job() with { RecipeIsInline = true, Recipe = "pipeline: v2\n", MaxAttempts = 5 });

        var job = await Store.GetJobAsync(created.Id);

        Assert.NotNull(job);
        Assert.Equal(7, Guid.Parse(job.Id).Version);
        Assert.Equal("pipeline: v2\n", job.Recipe);
        Assert.True(job.RecipeIsInline);
        Assert.Equal("""{"template":"t.png","identity":"alice"}""", job.InputsJson);
        Assert.Equal("/runs/v2-portrait", job.OutputFolder);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(5, job.MaxAttempts);
        Assert.Equal(Clock.GetUtcNow(), job.CreatedAt);
        Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], job.Steps.Select(s => s.Name));
        Assert.All(job.Steps, s => Assert.Equal((StepState.Pending, 0, null), (s.State, s.Attempts, s.Worker)));
        Assert.Equal([0, 1, 2, 3], job.Steps.Select(s => s.Index));
        Assert.Null(await Store.GetJobAsync(Guid.CreateVersion7().ToString()));
    }

    [ContractFact]
    public async Task CreateJob_RejectsNoStepsAndDuplicateSteps()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.CreateJobAsync(Job() with { Steps = [] }));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.CreateJobAsync(Job("x", "mask", "mask")));
        Assert.Empty(await Store.ListJobsAsync());
    }

    /// <summary>The engine's firing of whatever is due first, on <see cref="IJobStore"/> <paramref name="store"/> (default: <see cref="Store"/>).</summary>
    private Task<StepLease?> StartNextAsync(string worker, bool takeOver = false, IJobStore? store = null) =>
        (store ?? Store).StartNextAsync(worker, takeOver);

    private static JsonElement Data(JobEvent e)
    {
        using var document = JsonDocument.Parse(e.Data!);
        return document.RootElement.Clone();
    }

    [ContractFact]
    public async Task Lifecycle_StepsRunInOrder_JobSucceedsWithOutputs()
    {
        var job = await Store.CreateJobAsync(Job("v1", "interrogate", "inpaint"));

        var first = await StartNextAsync("w1");
        Assert.NotNull(first);
        Assert.Equal((job.Id, 0, "interrogate", 1, "w1"), (first.JobId, first.StepIndex, first.StepName, first.Attempt, first.Worker));
        Assert.Equal((job.Recipe, job.RecipeIsInline, job.InputsJson, job.OutputFolder), (first.Recipe, first.RecipeIsInline, first.InputsJson, first.OutputFolder));
        Assert.Equal(JobState.Running, (await Store.GetJobAsync(job.Id))!.State);
        Assert.Null(await StartNextAsync("w2")); // interrogate runs on w1, inpaint waits for it
        Assert.Null(await Store.StartStepAsync(job.Id, 1, "w2", takeOver: false)); // a trigger for inpaint that came early does nothing

        Clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(LeaseStatus.Held, await Store.SetStepBoxAsync(first, "http://box-a:7860"));
        Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(first, [new StepOutput("tags.json", "aa11")]));

        var second = await StartNextAsync("w2");
        Assert.NotNull(second);
        Assert.Equal((1, "inpaint", 1), (second.StepIndex, second.StepName, second.Attempt));
        Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(second, [new StepOutput("final.png", "bb22"), new StepOutput("mask.png", "cc33")]));

        var done = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.True(done.IsFinished);
        var interrogate = done.Steps[0];
        Assert.Equal((StepState.Succeeded, 1, "w1", "http://box-a:7860"), (interrogate.State, interrogate.Attempts, interrogate.Worker, interrogate.Box));
        Assert.Equal(Clock.GetUtcNow() - TimeSpan.FromSeconds(3), interrogate.StartedAt);
        Assert.Equal(Clock.GetUtcNow(), interrogate.FinishedAt);
        Assert.Equal([new StepOutput("tags.json", "aa11")], interrogate.Outputs);
        Assert.Equal([new StepOutput("final.png", "bb22"), new StepOutput("mask.png", "cc33")], done.Steps[1].Outputs);
        Assert.Null(await StartNextAsync("w3"));
        Assert.Null(await Store.StartStepAsync(job.Id, 0, "w3", takeOver: true)); // a step that succeeded is never started again
        Assert.Null(await Store.StartStepAsync(job.Id, 1, "w3", takeOver: true));
        Assert.Equal([done.Id], (await Store.ListJobsAsync(JobState.Succeeded)).Select(j => j.Id));
        Assert.Empty(await Store.ListJobsAsync(JobState.Queued));
    }

    [ContractFact]
    public async Task StartNext_TakesOldestJobFirst_AndAnotherJobWhileTheFirstIsBusy()
    {
        var a = await Store.CreateJobAsync(Job("a", "one", "two"));
        var b = await Store.CreateJobAsync(Job("b", "one", "two"));
        var c = await Store.CreateJobAsync(Job("c", "one"));

        var started = new List<StepLease?>
        {
            await StartNextAsync("w1"),
            await StartNextAsync("w2"),
            await StartNextAsync("w3"),
            await StartNextAsync("w4"),
        };

        Assert.Equal([a.Id, b.Id, c.Id], started.Take(3).Select(l => l!.JobId));
        Assert.All(started.Take(3), l => Assert.Equal((0, 1), (l!.StepIndex, l.Attempt)));
        Assert.Null(started[3]);
        Assert.Equal([a.Id, b.Id, c.Id], (await Store.ListJobsAsync()).Select(j => j.Id));
    }

    [ContractFact]
    public async Task StartStep_WithNothingToRun_ReturnsNullAndWritesNothing()
    {
        var job = await Store.CreateJobAsync(Job("v2", "interrogate", "inpaint"));
        var done = await Store.CreateJobAsync(Job("done", "one"));
        await Store.CompleteStepAsync((await Store.StartStepAsync(done.Id, 0, "w1", takeOver: false))!, []);
        var cancelled = await Store.CreateJobAsync(Job("cancelled", "one"));
        await Store.CancelJobAsync(cancelled.Id);
        var eventsBefore = await Store.ReadEventsAsync(job.Id);

        Assert.Null(await Store.StartStepAsync(Guid.CreateVersion7().ToString(), 0, "w1", takeOver: true)); // unknown job
        Assert.Null(await Store.StartStepAsync(job.Id, 2, "w1", takeOver: true)); // no such step
        Assert.Null(await Store.StartStepAsync(job.Id, 1, "w1", takeOver: true)); // interrogate has not succeeded
        Assert.Null(await Store.StartStepAsync(done.Id, 0, "w1", takeOver: true)); // finished step of a finished job
        Assert.Null(await Store.StartStepAsync(cancelled.Id, 0, "w1", takeOver: true)); // cancelled job

        var after = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Queued, after.State);
        Assert.All(after.Steps, s => Assert.Equal((StepState.Pending, 0, null), (s.State, s.Attempts, s.Worker)));
        Assert.Equal(eventsBefore, await Store.ReadEventsAsync(job.Id));
        Assert.Equal((JobState.Succeeded, 1), ((await Store.GetJobAsync(done.Id))!.State, (await Store.GetJobAsync(done.Id))!.Steps[0].Attempts));
        Assert.Equal(JobState.Cancelled, (await Store.GetJobAsync(cancelled.Id))!.State);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.StartStepAsync(job.Id, 0, " ", takeOver: false));
    }

    [ContractFact]
    public async Task Fail_RetriesWithExponentialBackoff_ThenFailsTheJob()
    {
        var job = await Store.CreateJobAsync(Job("v2", "inpaint", "img2img"));

        var attempt1 = (await StartNextAsync("w1"))!;
        Assert.Equal(StepOutcome.RetryScheduled, await Store.FailStepAsync(attempt1, "HTTP 500 from box-a"));
        var step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal((StepState.Pending, 1, "HTTP 500 from box-a"), (step.State, step.Attempts, step.LastError));
        Assert.Equal(Clock.GetUtcNow() + TimeSpan.FromSeconds(2), step.NextAttemptAt);
        Assert.Equal([new StepTicket(job.Id, 0, "inpaint", 2, Clock.GetUtcNow() + TimeSpan.FromSeconds(2))], await Store.ListDueStepsAsync());

        Clock.Advance(TimeSpan.FromSeconds(2));
        var attempt2 = (await StartNextAsync("w2"))!;
        Assert.Equal((0, 2), (attempt2.StepIndex, attempt2.Attempt));
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(attempt1)); // the failed attempt is over

        Assert.Equal(StepOutcome.RetryScheduled, await Store.FailStepAsync(attempt2, "timeout"));
        step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal(Clock.GetUtcNow() + TimeSpan.FromSeconds(3), step.NextAttemptAt); // 4 s capped at MaxRetryDelay 3 s

        Clock.Advance(TimeSpan.FromSeconds(3));
        var attempt3 = (await StartNextAsync("w3"))!;
        Assert.Equal(3, attempt3.Attempt);
        Assert.Equal(StepOutcome.JobFailed, await Store.FailStepAsync(attempt3, "timeout again"));

        var failed = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("inpaint", failed.Error, StringComparison.Ordinal);
        Assert.Contains("timeout again", failed.Error, StringComparison.Ordinal);
        Assert.Equal((StepState.Failed, 3), (failed.Steps[0].State, failed.Steps[0].Attempts));
        Assert.Equal(StepState.Cancelled, failed.Steps[1].State);
        Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(await Store.ListDueStepsAsync());
        Assert.Null(await Store.StartStepAsync(job.Id, 0, "w4", takeOver: true));
    }

    [ContractFact]
    public async Task Fail_Permanent_FailsTheJobAtOnce()
    {
        var job = await Store.CreateJobAsync(Job());
        var lease = (await StartNextAsync("w1"))!;

        Assert.Equal(StepOutcome.JobFailed, await Store.FailStepAsync(lease, "checkpoint not installed on any box", permanent: true));

        var failed = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal((JobState.Failed, StepState.Failed, 1), (failed.State, failed.Steps[0].State, failed.Steps[0].Attempts));
    }

    [ContractFact]
    public void RetryDelay_DoublesUpToTheCap()
    {
        var options = new JobStoreOptions { RetryBaseDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(10) };

        Assert.Equal([1, 2, 4, 8, 10, 10], Enumerable.Range(1, 6).Select(n => options.RetryDelay(n).TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(10), options.RetryDelay(int.MaxValue));
    }

    [ContractFact]
    public async Task RunningStep_IsNotStartedByAnotherWorker_WithoutTakeOver_HoweverLongItRuns()
    {
        var job = await Store.CreateJobAsync(Job("v2", "inpaint", "img2img"));
        var held = (await StartNextAsync("w1"))!;

        Clock.Advance(TimeSpan.FromHours(1)); // no lease runs out: time alone hands nothing over

        Assert.Null(await Store.StartStepAsync(job.Id, 0, "w2", takeOver: false));
        Assert.Null(await StartNextAsync("w2"));
        var step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal((StepState.Running, "w1", 1, (string?)null), (step.State, step.Worker, step.Attempts, step.LastError));
        Assert.Equal(LeaseStatus.Held, await Store.CheckStepAsync(held));
        Assert.Single(await Store.ReadEventsAsync(job.Id), e => e.Kind == JobEventKind.StepStarted);
    }

    [ContractFact]
    public async Task TakeOver_CountsTheLostAttempt_AndTheOldWorkerCannotOverwrite()
    {
        var job = await Store.CreateJobAsync(Job("v2", "inpaint", "img2img"));
        var stale = (await StartNextAsync("killed-worker"))!;
        await Store.SetStepBoxAsync(stale, "box-a");
        Clock.Advance(TimeSpan.FromSeconds(5));

        var fresh = (await Store.StartStepAsync(job.Id, 0, "w2", takeOver: true))!;

        Assert.Equal((0, 2, "w2"), (fresh.StepIndex, fresh.Attempt, fresh.Worker));
        var step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal((StepState.Running, "w2", 2, (string?)null), (step.State, step.Worker, step.Attempts, step.Box));
        Assert.Equal("worker 'killed-worker' stopped during attempt 1 (its node was recovered)", step.LastError);
        Assert.Equal(Clock.GetUtcNow(), step.StartedAt);
        var started = (await Store.ReadEventsAsync(job.Id))[^1];
        Assert.Equal((JobEventKind.StepStarted, "inpaint"), (started.Kind, started.Step));
        Assert.Equal((2, "w2"), (Data(started).GetProperty("attempt").GetInt32(), Data(started).GetProperty("worker").GetString()));
        var eventsAfterTakeOver = await Store.ReadEventsAsync(job.Id);

        // The worker that lost its step wakes up: every report is refused and changes nothing.
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(stale));
        Assert.Equal(LeaseStatus.Lost, await Store.SetStepBoxAsync(stale, "box-z"));
        Assert.Equal(StepOutcome.LeaseLost, await Store.CompleteStepAsync(stale, [new StepOutput("stale.png", "00")]));
        Assert.Equal(StepOutcome.LeaseLost, await Store.FailStepAsync(stale, "late failure", permanent: true));
        Assert.False(await Store.ReturnStepAsync(stale, "late shutdown"));
        step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal((StepState.Running, "w2", 2, (string?)null), (step.State, step.Worker, step.Attempts, step.Box));
        Assert.Empty(step.Outputs);
        Assert.Equal(eventsAfterTakeOver, await Store.ReadEventsAsync(job.Id));
        Assert.Equal(LeaseStatus.Held, await Store.CheckStepAsync(fresh));

        Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(fresh, [new StepOutput("inpaint.png", "11")]));
        Assert.Equal([new StepOutput("inpaint.png", "11")], (await Store.GetJobAsync(job.Id))!.Steps[0].Outputs);
    }

    [ContractFact]
    public async Task TakeOver_OfAStepOnItsLastAttempt_FailsTheJob()
    {
        var job = await Store.CreateJobAsync(Job("crashy", "inpaint", "img2img") with { MaxAttempts = 2 });

        Assert.Equal(1, (await StartNextAsync("w1"))!.Attempt);
        var second = (await Store.StartStepAsync(job.Id, 0, "w2", takeOver: true))!;
        Assert.Equal(2, second.Attempt);

        Assert.Null(await Store.StartStepAsync(job.Id, 0, "w3", takeOver: true));

        var failed = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal((JobState.Failed, StepState.Failed, 2), (failed.State, failed.Steps[0].State, failed.Steps[0].Attempts));
        Assert.Equal(StepState.Cancelled, failed.Steps[1].State);
        Assert.Equal("worker 'w2' stopped during attempt 2 (its node was recovered)", failed.Steps[0].LastError);
        Assert.Contains("w2", failed.Error, StringComparison.Ordinal);
        Assert.Equal([JobEventKind.StepFailed, JobEventKind.JobFailed], (await Store.ReadEventsAsync(job.Id)).TakeLast(2).Select(e => e.Kind));
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(second));
        Assert.Equal(StepOutcome.LeaseLost, await Store.CompleteStepAsync(second, []));
        Assert.Empty(await Store.ListDueStepsAsync());
        Assert.Null(await Store.StartStepAsync(job.Id, 0, "w4", takeOver: true));
    }

    [ContractFact]
    public async Task StartStep_BySameWorkerAgain_ResumesTheSameAttempt()
    {
        var job = await Store.CreateJobAsync(Job("v1", "inpaint") with { MaxAttempts = 1 });
        var first = (await Store.StartStepAsync(job.Id, 0, "w1", takeOver: false))!;
        Clock.Advance(TimeSpan.FromSeconds(10));

        var again = await Store.StartStepAsync(job.Id, 0, "w1", takeOver: false);
        var recovered = await Store.StartStepAsync(job.Id, 0, "w1", takeOver: true); // even a recovery firing: its own step is not lost

        Assert.Equal(first, again);
        Assert.Equal(first, recovered);
        var step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal((StepState.Running, "w1", 1, (string?)null), (step.State, step.Worker, step.Attempts, step.LastError));
        Assert.Equal(JobState.Running, (await Store.GetJobAsync(job.Id))!.State); // its only attempt was not used up
        Assert.Equal(LeaseStatus.Held, await Store.CheckStepAsync(first));
        Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(first, []));
        Assert.Equal(JobState.Succeeded, (await Store.GetJobAsync(job.Id))!.State);
    }

    [ContractFact]
    public async Task FinishedSteps_AreNeverRedone_WhenALaterStepsWorkerDies()
    {
        var job = await Store.CreateJobAsync(Job("v2", "interrogate", "inpaint", "img2img"));
        await Store.CompleteStepAsync((await StartNextAsync("w1"))!, [new StepOutput("tags.json", "a")]);
        var dying = (await StartNextAsync("w1"))!;
        Assert.Equal(1, dying.StepIndex);

        var again = (await StartNextAsync("w2", takeOver: true))!;

        Assert.Equal((1, 2), (again.StepIndex, again.Attempt));
        Assert.Null(await Store.StartStepAsync(job.Id, 0, "w2", takeOver: true));
        var steps = (await Store.GetJobAsync(job.Id))!.Steps;
        Assert.Equal((StepState.Succeeded, 1, "w1"), (steps[0].State, steps[0].Attempts, steps[0].Worker));
        Assert.Equal([new StepOutput("tags.json", "a")], steps[0].Outputs);
    }

    [ContractFact]
    public async Task CheckStep_AnswersHeldWhileTheStepRuns_AndWritesNothing()
    {
        var job = await Store.CreateJobAsync(Job());
        var lease = (await StartNextAsync("w1"))!;
        var before = (await Store.GetJobAsync(job.Id))!;
        var eventsBefore = await Store.ReadEventsAsync(job.Id);

        Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(LeaseStatus.Held, await Store.CheckStepAsync(lease));
        Clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(LeaseStatus.Held, await Store.CheckStepAsync(lease));

        var after = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal(before with { Steps = [] }, after with { Steps = [] });
        Assert.Equal(before.Steps, after.Steps, new StepComparer());
        Assert.Equal(eventsBefore, await Store.ReadEventsAsync(job.Id));
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(lease with { Attempt = 2 }));
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(lease with { Worker = "w2" }));
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(lease with { StepIndex = 1 }));
    }

    [ContractFact]
    public async Task ReturnStep_HandingAStepBackWritesAStepReturnedEvent_SoTheStreamDoesNotShowTheSameAttemptsStepStartedTwiceUnexplained()
    {
        // Defect 9: "handing a step back writes no event, so the SSE stream shows the same attempt's step_started twice".
        var job = await Store.CreateJobAsync(Job("v2", "inpaint", "img2img"));
        var lease = (await StartNextAsync("w1"))!;
        await Store.SetStepBoxAsync(lease, "box-a");
        Clock.Advance(TimeSpan.FromSeconds(3));

        Assert.True(await Store.ReturnStepAsync(lease, "the instance running it shut down"));

        var step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal((StepState.Pending, 0, (string?)null, (string?)null), (step.State, step.Attempts, step.Worker, step.Box));
        Assert.Null(step.StartedAt);
        Assert.Equal(Clock.GetUtcNow(), step.NextAttemptAt);
        Assert.Equal(JobState.Running, (await Store.GetJobAsync(job.Id))!.State);
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(lease));
        Assert.False(await Store.ReturnStepAsync(lease, "again")); // said once
        Assert.Equal(StepOutcome.LeaseLost, await Store.CompleteStepAsync(lease, [new StepOutput("late.png", "00")]));
        Assert.Equal([new StepTicket(job.Id, 0, "inpaint", 1, Clock.GetUtcNow())], await Store.ListDueStepsAsync());

        var again = (await StartNextAsync("w2"))!;

        Assert.Equal((job.Id, 0, 1, "w2"), (again.JobId, again.StepIndex, again.Attempt, again.Worker)); // the attempt was not used
        var events = await Store.ReadEventsAsync(job.Id);
        Assert.Equal([JobEventKind.JobCreated, JobEventKind.StepStarted, JobEventKind.StepReturned, JobEventKind.StepStarted], events.Select(e => e.Kind));
        var returned = events[2];
        Assert.Equal(("inpaint", Clock.GetUtcNow()), (returned.Step, returned.At));
        Assert.Equal(1, Data(returned).GetProperty("attempt").GetInt32());
        Assert.Equal("w1", Data(returned).GetProperty("worker").GetString());
        Assert.Equal("the instance running it shut down", Data(returned).GetProperty("reason").GetString());
        Assert.Equal([1, 1], new[] { events[1], events[3] }.Select(e => Data(e).GetProperty("attempt").GetInt32()));
        Assert.False(await Store.ReturnStepAsync(lease, "stale")); // another worker's attempt now
        Assert.Equal(LeaseStatus.Held, await Store.CheckStepAsync(again));
        Assert.Equal(4, (await Store.ReadEventsAsync(job.Id)).Count);
    }

    [ContractFact]
    public async Task ReturnStep_OfAFinishedOrCancelledStep_ReturnsFalseAndWritesNothing()
    {
        var job = await Store.CreateJobAsync(Job("v1", "inpaint"));
        var lease = (await StartNextAsync("w1"))!;
        await Store.CompleteStepAsync(lease, []);
        var other = await Store.CreateJobAsync(Job("v1", "inpaint"));
        var cancelled = (await StartNextAsync("w1"))!;
        await Store.CancelJobAsync(other.Id);
        var events = (await Store.ReadEventsAsync(job.Id), await Store.ReadEventsAsync(other.Id));

        Assert.False(await Store.ReturnStepAsync(lease, "shutting down"));
        Assert.False(await Store.ReturnStepAsync(cancelled, "shutting down"));

        Assert.Equal(events.Item1, await Store.ReadEventsAsync(job.Id));
        Assert.Equal(events.Item2, await Store.ReadEventsAsync(other.Id));
        Assert.Equal((StepState.Cancelled, true), ((await Store.GetJobAsync(other.Id))!.Steps[0].State, (await Store.GetJobAsync(other.Id))!.Steps[0].CancelRequested));
    }

    [ContractFact]
    public async Task ListDueSteps_GivesTheFirstUnfinishedStepOfEachUnfinishedJob_WithTheAttemptItWouldRunAs()
    {
        var queued = await Store.CreateJobAsync(Job("queued", "one", "two"));
        var retrying = await Store.CreateJobAsync(Job("retrying", "one", "two", "three"));
        var running = await Store.CreateJobAsync(Job("running", "one", "two"));
        var succeeded = await Store.CreateJobAsync(Job("succeeded", "one"));
        var failed = await Store.CreateJobAsync(Job("failed", "one"));
        var cancelled = await Store.CreateJobAsync(Job("cancelled", "one", "two"));
        var last = await Store.CreateJobAsync(Job("last", "one", "two"));
        await Store.CompleteStepAsync((await Store.StartStepAsync(retrying.Id, 0, "w", takeOver: false))!, []);
        await Store.FailStepAsync((await Store.StartStepAsync(retrying.Id, 1, "w", takeOver: false))!, "HTTP 500");
        var retryAt = Clock.GetUtcNow() + TimeSpan.FromSeconds(2);
        await Store.StartStepAsync(running.Id, 0, "w-running", takeOver: false);
        await Store.CompleteStepAsync((await Store.StartStepAsync(succeeded.Id, 0, "w", takeOver: false))!, []);
        await Store.FailStepAsync((await Store.StartStepAsync(failed.Id, 0, "w", takeOver: false))!, "bad input", permanent: true);
        await Store.StartStepAsync(cancelled.Id, 0, "w", takeOver: false);
        await Store.CancelJobAsync(cancelled.Id);
        await Store.CompleteStepAsync((await Store.StartStepAsync(last.Id, 0, "w", takeOver: false))!, []);
        Clock.Advance(TimeSpan.FromSeconds(1));

        var due = await Store.ListDueStepsAsync();

        Assert.Equal(
            [(queued.Id, 0, "one", 1), (retrying.Id, 1, "two", 2), (running.Id, 0, "one", 2), (last.Id, 1, "two", 1)],
            due.Select(t => (t.JobId, t.StepIndex, t.StepName, t.Attempt)));
        Assert.Equal(retryAt, due[1].NotBefore);
        Assert.All(due.Where(t => t.JobId != retrying.Id), t => Assert.True(t.NotBefore <= Clock.GetUtcNow(), $"{t} is due now"));
        Assert.Equal([queued.Id, retrying.Id], (await Store.ListDueStepsAsync(limit: 2)).Select(t => t.JobId));
    }

    [ContractFact]
    public async Task Cancel_FlagsTheRunningStepAndItsBox_AndStopsTheJob()
    {
        var job = await Store.CreateJobAsync(Job());
        var other = await Store.CreateJobAsync(Job("other", "one"));
        var lease = (await StartNextAsync("w1"))!;
        await Store.SetStepBoxAsync(lease, "http://box-b:7860");

        var cancelled = (await Store.CancelJobAsync(job.Id, "user asked"))!;

        Assert.Equal((JobState.Cancelled, "user asked"), (cancelled.State, cancelled.Error));
        var running = cancelled.Steps[0];
        Assert.Equal((StepState.Cancelled, true, "http://box-b:7860", "w1"), (running.State, running.CancelRequested, running.Box, running.Worker));
        Assert.All(cancelled.Steps.Skip(1), s => Assert.Equal(StepState.Cancelled, s.State));

        Assert.Equal(LeaseStatus.CancelRequested, await Store.CheckStepAsync(lease));
        Assert.Equal(LeaseStatus.CancelRequested, await Store.SetStepBoxAsync(lease, "http://box-c:7860"));
        Assert.Equal(StepOutcome.Cancelled, await Store.FailStepAsync(lease, "interrupted"));
        var after = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal((JobState.Cancelled, StepState.Cancelled, false), (after.State, after.Steps[0].State, after.Steps[0].CancelRequested));
        Assert.Equal(("interrupted", "http://box-b:7860"), (after.Steps[0].LastError, after.Steps[0].Box));
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(lease)); // its last word is said

        Assert.DoesNotContain(await Store.ListDueStepsAsync(), t => t.JobId == job.Id);
        Assert.Null(await Store.StartStepAsync(job.Id, 0, "w2", takeOver: true)); // nothing of the cancelled job starts
        Assert.Null(await Store.StartStepAsync(job.Id, 1, "w2", takeOver: true));
        var next = (await StartNextAsync("w2"))!;
        Assert.Equal(other.Id, next.JobId);
        Assert.Null(await Store.CancelJobAsync(Guid.CreateVersion7().ToString()));
    }

    [ContractFact]
    public async Task Cancel_ThenTheWorkerCompletes_TheStepStaysCancelledWithoutOutputs()
    {
        var job = await Store.CreateJobAsync(Job("v1", "inpaint"));
        var lease = (await StartNextAsync("w1"))!;
        await Store.CancelJobAsync(job.Id);

        Assert.Equal(StepOutcome.Cancelled, await Store.CompleteStepAsync(lease, [new StepOutput("final.png", "ee")]));
        Assert.Equal(StepOutcome.LeaseLost, await Store.CompleteStepAsync(lease, [new StepOutput("final.png", "ee")])); // said once

        var after = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal((JobState.Cancelled, StepState.Cancelled, false), (after.State, after.Steps[0].State, after.Steps[0].CancelRequested));
        Assert.Empty(after.Steps[0].Outputs);
        Assert.Equal(new DeletedJob(job.Id, "/runs/v1", null), await Store.DeleteJobAsync(job.Id));
    }

    [ContractFact]
    public async Task Cancel_LeavesAFinishedJobAsItIs()
    {
        var job = await Store.CreateJobAsync(Job("quick", "one"));
        await Store.CompleteStepAsync((await StartNextAsync("w1"))!, []);

        var after = (await Store.CancelJobAsync(job.Id))!;

        Assert.Equal((JobState.Succeeded, StepState.Succeeded), (after.State, after.Steps[0].State));
        Assert.DoesNotContain(await Store.ReadEventsAsync(job.Id), e => e.Kind == JobEventKind.JobCancelled);
    }

    [ContractFact]
    public async Task Delete_RemovesEverything_AndReturnsTheFolderAndBox()
    {
        var job = await Store.CreateJobAsync(Job() with { OutputFolder = "/runs/alice-0001" });
        var lease = (await StartNextAsync("w1"))!;
        await Store.SetStepBoxAsync(lease, "box-c");

        var deleted = await Store.DeleteJobAsync(job.Id);

        Assert.Equal(new DeletedJob(job.Id, "/runs/alice-0001", "box-c"), deleted);
        Assert.Null(await Store.GetJobAsync(job.Id));
        Assert.Empty(await Store.ReadEventsAsync(job.Id));
        Assert.Empty(await Store.ListJobsAsync());
        Assert.Empty(await Store.ListDueStepsAsync());
        Assert.Equal(LeaseStatus.Lost, await Store.CheckStepAsync(lease));
        Assert.Equal(LeaseStatus.Lost, await Store.SetStepBoxAsync(lease, "box-d"));
        Assert.Equal(StepOutcome.LeaseLost, await Store.CompleteStepAsync(lease, []));
        Assert.Equal(StepOutcome.LeaseLost, await Store.FailStepAsync(lease, "gone"));
        Assert.False(await Store.ReturnStepAsync(lease, "gone"));
        Assert.Null(await Store.StartStepAsync(job.Id, 0, "w2", takeOver: true));
        Assert.Null(await StartNextAsync("w2"));
        Assert.Null(await Store.GetJobAsync(job.Id));
        Assert.Null(await Store.DeleteJobAsync(job.Id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Store.AppendEventAsync(job.Id, JobEventKind.StepProgress));
    }

    [ContractFact]
    public async Task Events_AreAppendOnly_GaplessAndReadableFromAnOffset()
    {
        var job = await Store.CreateJobAsync(Job("v1", "inpaint"));
        var lease = (await StartNextAsync("w1"))!;
        Clock.Advance(TimeSpan.FromSeconds(1));
        var progress = await Store.AppendEventAsync(job.Id, JobEventKind.StepProgress, "inpaint", """{"progress":0.5,"eta_s":4.2}""");
        await Store.CompleteStepAsync(lease, [new StepOutput("final.png", "ff")]);

        var all = await Store.ReadEventsAsync(job.Id);

        Assert.Equal(
            [JobEventKind.JobCreated, JobEventKind.StepStarted, JobEventKind.StepProgress, JobEventKind.StepFinished, JobEventKind.JobSucceeded],
            all.Select(e => e.Kind));
        Assert.Equal([1L, 2, 3, 4, 5], all.Select(e => e.Sequence));
        Assert.Equal(3, progress);
        Assert.Equal("""{"progress":0.5,"eta_s":4.2}""", all[2].Data);
        Assert.Equal(("inpaint", Clock.GetUtcNow()), (all[2].Step, all[2].At));
        Assert.Equal(1, Data(all[1]).GetProperty("attempt").GetInt32());
        Assert.Equal("w1", Data(all[1]).GetProperty("worker").GetString());
        Assert.Equal("final.png", Data(all[3]).GetProperty("outputs")[0].GetProperty("file").GetString());

        Assert.Equal([4L, 5], (await Store.ReadEventsAsync(job.Id, afterSequence: 3)).Select(e => e.Sequence));
        Assert.Equal([2L, 3], (await Store.ReadEventsAsync(job.Id, afterSequence: 1, max: 2)).Select(e => e.Sequence));
        Assert.Empty(await Store.ReadEventsAsync(job.Id, afterSequence: 5));
    }

    [ContractFact]
    public async Task Events_RecordRetriesFailuresTakeOversAndReturns()
    {
        var job = await Store.CreateJobAsync(Job("v1", "inpaint") with { MaxAttempts = 3 });
        await Store.FailStepAsync((await StartNextAsync("w1"))!, "HTTP 500");
        Clock.Advance(TimeSpan.FromSeconds(2));
        await Store.ReturnStepAsync((await StartNextAsync("w1"))!, "shutting down");
        await StartNextAsync("w2");
        await Store.FailStepAsync((await StartNextAsync("w3", takeOver: true))!, "HTTP 502");

        var events = await Store.ReadEventsAsync(job.Id);

        Assert.Equal(
            [
                (JobEventKind.JobCreated, 0), (JobEventKind.StepStarted, 1), (JobEventKind.StepRetrying, 1), (JobEventKind.StepStarted, 2),
                (JobEventKind.StepReturned, 2), (JobEventKind.StepStarted, 2), (JobEventKind.StepStarted, 3), (JobEventKind.StepFailed, 3),
                (JobEventKind.JobFailed, 0),
            ],
            events.Select(e => (e.Kind, e.Data is not null && Data(e).TryGetProperty("attempt", out var attempt) ? attempt.GetInt32() : 0)));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
    }

    [ContractFact]
    public async Task Restart_ReopenedStoreHasEverything_AndCarriesOn()
    {
        var job = await Store.CreateJobAsync(Job("v2", "interrogate", "inpaint"));
        var first = (await StartNextAsync("w1"))!;
        await Store.CompleteStepAsync(first, [new StepOutput("tags.json", "ab")]);
        var held = (await StartNextAsync("w1"))!;
        await Store.SetStepBoxAsync(held, "box-a");
        var before = (await Store.GetJobAsync(job.Id))!;
        var eventsBefore = await Store.ReadEventsAsync(job.Id);
        await Store.DisposeAsync();

        var reopened = await OpenTrackedAsync();

        var after = (await reopened.GetJobAsync(job.Id))!;
        Assert.Equal(before with { Steps = [] }, after with { Steps = [] });
        Assert.Equal(before.Steps, after.Steps, new StepComparer());
        Assert.Equal(eventsBefore, await reopened.ReadEventsAsync(job.Id));
        Assert.Null(await StartNextAsync("w2", store: reopened)); // the hold survived the restart
        Assert.Equal(LeaseStatus.Held, await reopened.CheckStepAsync(held));
        Assert.Equal(StepOutcome.Completed, await reopened.CompleteStepAsync(held, []));
        Assert.Equal(JobState.Succeeded, (await reopened.GetJobAsync(job.Id))!.State);
    }

    [ContractFact]
    public async Task TwoInstances_ManyParallelStarters_NeverStartTheSameStep()
    {
        const int jobs = 60;
        const int stepsPerJob = 3;
        var second = await OpenTrackedAsync();
        for (var i = 0; i < jobs; i++)
        {
            await Store.CreateJobAsync(Job($"job{i}", "interrogate", "inpaint", "img2img"));
        }

        var started = new ConcurrentBag<(string Job, int Step, int Attempt)>();
        var completed = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var workers = new[] { Store, second }
            .SelectMany((store, s) => Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
            {
                var name = $"i{s}-w{w}";
                while (Volatile.Read(ref completed) < jobs * stepsPerJob)
                {
                    var lease = await store.StartNextAsync(name, cancellationToken: timeout.Token);
                    if (lease is null)
                    {
                        await Task.Delay(2, timeout.Token);
                        continue;
                    }

                    started.Add((lease.JobId, lease.StepIndex, lease.Attempt));
                    Assert.Equal(StepOutcome.Completed, await store.CompleteStepAsync(lease, [new StepOutput($"{lease.StepName}.png", name)], timeout.Token));
                    Interlocked.Increment(ref completed);
                }
            })))
            .ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(jobs * stepsPerJob, started.Count);
        Assert.Equal(jobs * stepsPerJob, started.Distinct().Count());
        Assert.All(started, c => Assert.Equal(1, c.Attempt));
        var all = await Store.ListJobsAsync();
        Assert.Equal(jobs, all.Count);
        Assert.All(all, j => Assert.Equal(JobState.Succeeded, j.State));
        Assert.All(all, j => Assert.All(j.Steps, s => Assert.Equal(1, s.Attempts)));
        Assert.All(all, j => Assert.Equal(stepsPerJob, j.Steps.Count));
        foreach (var job in all)
        {
            Assert.Equal(stepsPerJob, (await Store.ReadEventsAsync(job.Id)).Count(e => e.Kind == JobEventKind.StepStarted));
        }
    }

    // ---- the hand-over to the engine (AttachScheduler) ----

    private static async Task<string?> StepStateInAsync(DbTransaction transaction, string jobId, int stepIndex) =>
        await RecordingScheduler.ScalarAsync(transaction, "SELECT state FROM steps WHERE job_id = @job AND idx = @idx", ("job", jobId), ("idx", (long)stepIndex)) as string;

    [ContractFact]
    public void AttachScheduler_Twice_Throws()
    {
        Store.AttachScheduler(new RecordingScheduler());

        Assert.Throws<InvalidOperationException>(() => Store.AttachScheduler(new RecordingScheduler()));
        Assert.Throws<ArgumentNullException>(() => Store.AttachScheduler(null!));
    }

    [ContractFact]
    public async Task Scheduler_CreateJob_HandsTheFirstStepOver_InsideTheTransactionThatCreatesTheJob()
    {
        var outside = await OpenTrackedAsync(); // another instance: sees only what is committed
        var engine = new RecordingScheduler
        {
            ExitProbe = async () => await outside.GetJobAsync("job-1") is null ? "not committed" : "committed",
        };
        var seen = new List<(string? Inside, bool VisibleOutside)>();
        engine.OnSchedule = async (ticket, transaction) =>
            seen.Add((await StepStateInAsync(transaction, ticket.JobId, ticket.StepIndex), await outside.GetJobAsync(ticket.JobId) is not null));
        Store.AttachScheduler(engine);

        var job = await Store.CreateJobAsync(Job("v1", "interrogate", "inpaint") with { Id = "job-1" });

        var scheduled = Assert.Single(engine.Scheduled);
        Assert.Equal(new RecordingScheduler.ScheduledTicket(new StepTicket(job.Id, 0, "interrogate", 1, Clock.GetUtcNow()), TransactionOpen: true, InTurn: true), scheduled);
        Assert.Equal([("pending", false)], seen);
        Assert.Equal(["enter", "join", "schedule", "join disposed", "exit (committed)"], engine.Calls);
        Assert.NotNull(await outside.GetJobAsync(job.Id));
    }

    [ContractFact]
    public async Task Scheduler_CompleteStep_HandsTheNextStepOver_AndNothingAfterTheLast()
    {
        var outside = await OpenTrackedAsync();
        var engine = new RecordingScheduler();
        var seen = new List<(string? Inside, StepState Outside)>();
        engine.OnSchedule = async (ticket, transaction) =>
        {
            if (ticket.StepIndex > 0)
            {
                seen.Add((await StepStateInAsync(transaction, ticket.JobId, ticket.StepIndex - 1), (await outside.GetJobAsync(ticket.JobId))!.Steps[ticket.StepIndex - 1].State));
            }
        };
        Store.AttachScheduler(engine);
        var job = await Store.CreateJobAsync(Job("v2", "interrogate", "inpaint", "img2img"));
        var times = new List<DateTimeOffset> { Clock.GetUtcNow() };

        for (var i = 0; i < 3; i++)
        {
            var lease = (await Store.StartStepAsync(job.Id, i, "w1", takeOver: false))!;
            await Store.SetStepBoxAsync(lease, "box-a");
            Assert.Equal(LeaseStatus.Held, await Store.CheckStepAsync(lease));
            Clock.Advance(TimeSpan.FromSeconds(4));
            times.Add(Clock.GetUtcNow());
            Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(lease, []));
        }

        Assert.Equal(
            [
                new StepTicket(job.Id, 0, "interrogate", 1, times[0]),
                new StepTicket(job.Id, 1, "inpaint", 1, times[0]), // due since the job was queued: the oldest job's steps go first
                new StepTicket(job.Id, 2, "img2img", 1, times[0]),
            ],
            engine.Tickets);
        Assert.All(engine.Scheduled, s => Assert.True(s.TransactionOpen && s.InTurn));
        Assert.Equal([("succeeded", StepState.Running), ("succeeded", StepState.Running)], seen);
        Assert.Equal(JobState.Succeeded, (await Store.GetJobAsync(job.Id))!.State);
        Assert.Equal(4, engine.Calls.Count(c => c == "enter")); // the create and each completion
        Assert.Equal(engine.Calls.Count(c => c == "enter"), engine.Calls.Count(c => c == "exit"));
    }

    [ContractFact]
    public async Task Scheduler_TransientFailure_HandsTheSameStepsNextAttemptOver_AfterTheBackoff()
    {
        var engine = new RecordingScheduler();
        Store.AttachScheduler(engine);
        var job = await Store.CreateJobAsync(Job("v2", "inpaint", "img2img"));
        var created = Clock.GetUtcNow();

        Assert.Equal(StepOutcome.RetryScheduled, await Store.FailStepAsync((await Store.StartStepAsync(job.Id, 0, "w1", takeOver: false))!, "HTTP 500"));
        var retry2 = Clock.GetUtcNow() + TimeSpan.FromSeconds(2);
        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(StepOutcome.RetryScheduled, await Store.FailStepAsync((await Store.StartStepAsync(job.Id, 0, "w2", takeOver: false))!, "timeout"));
        var retry3 = Clock.GetUtcNow() + TimeSpan.FromSeconds(3);
        Clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(StepOutcome.JobFailed, await Store.FailStepAsync((await Store.StartStepAsync(job.Id, 0, "w3", takeOver: false))!, "timeout again"));

        Assert.Equal(
            [
                new StepTicket(job.Id, 0, "inpaint", 1, created),
                new StepTicket(job.Id, 0, "inpaint", 2, retry2),
                new StepTicket(job.Id, 0, "inpaint", 3, retry3),
            ],
            engine.Tickets);
        Assert.All(engine.Scheduled, s => Assert.True(s.TransactionOpen && s.InTurn));
        Assert.Equal(retry3, (await Store.GetJobAsync(job.Id))!.Steps[0].NextAttemptAt);
    }

    [ContractFact]
    public async Task Scheduler_NothingIsHandedOver_ForAPermanentFailure_ALastAttempt_ACancelledStep_OrAStaleReport()
    {
        var engine = new RecordingScheduler();
        Store.AttachScheduler(engine);
        var permanent = await Store.CreateJobAsync(Job("permanent", "one", "two"));
        var once = await Store.CreateJobAsync(Job("once", "one", "two") with { MaxAttempts = 1 });
        var cancelled = await Store.CreateJobAsync(Job("cancelled", "one", "two"));
        var lost = await Store.CreateJobAsync(Job("lost", "one", "two") with { MaxAttempts = 1 });
        var creates = engine.Tickets.ToList();

        Assert.Equal(StepOutcome.JobFailed, await Store.FailStepAsync((await Store.StartStepAsync(permanent.Id, 0, "w", takeOver: false))!, "bad input", permanent: true));
        Assert.Equal(StepOutcome.JobFailed, await Store.FailStepAsync((await Store.StartStepAsync(once.Id, 0, "w", takeOver: false))!, "HTTP 500"));
        var cancelledLease = (await Store.StartStepAsync(cancelled.Id, 0, "w", takeOver: false))!;
        await Store.CancelJobAsync(cancelled.Id);
        Assert.Equal(StepOutcome.Cancelled, await Store.CompleteStepAsync(cancelledLease, []));
        var lostLease = (await Store.StartStepAsync(lost.Id, 0, "w", takeOver: false))!;
        Assert.Null(await Store.StartStepAsync(lost.Id, 0, "w2", takeOver: true)); // its only attempt was lost: the job fails
        Assert.Equal(StepOutcome.LeaseLost, await Store.CompleteStepAsync(lostLease, []));
        Assert.Equal(StepOutcome.LeaseLost, await Store.FailStepAsync(lostLease, "late"));

        Assert.Equal(creates, engine.Tickets);
        Assert.Equal(4, creates.Count);
        Assert.Empty(await Store.ListDueStepsAsync());
    }

    [ContractFact]
    public async Task Scheduler_ThatCannotStoreItsTrigger_RollsTheCreateBack_OurRowsAndTheTriggerAreOneTransaction()
    {
        var engine = new RecordingScheduler { FailWith = new InvalidOperationException("the engine's tables are gone") };
        Store.AttachScheduler(engine);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CreateJobAsync(Job() with { Id = "job-1" }));

        Assert.Equal("the engine's tables are gone", error.Message);
        Assert.Null(await Store.GetJobAsync("job-1"));
        Assert.Empty(await Store.ListJobsAsync());
        Assert.Empty(await Store.ReadEventsAsync("job-1"));
        Assert.Empty(await Store.ListDueStepsAsync());
        Assert.Equal(engine.Calls.Count(c => c == "enter"), engine.Calls.Count(c => c == "exit"));

        engine.FailWith = null;
        var job = await Store.CreateJobAsync(Job() with { Id = "job-1" }); // the id was never taken
        Assert.Equal([new StepTicket("job-1", 0, "interrogate", 1, Clock.GetUtcNow())], engine.Tickets);
        Assert.Equal([job.Id], (await Store.ListJobsAsync()).Select(j => j.Id));
    }

    [ContractFact]
    public async Task Scheduler_ThatCannotStoreItsTrigger_RollsTheReportBack_AndTheStepStaysHeld()
    {
        var engine = new RecordingScheduler();
        Store.AttachScheduler(engine);
        var job = await Store.CreateJobAsync(Job("v2", "inpaint", "img2img"));
        var lease = (await Store.StartStepAsync(job.Id, 0, "w1", takeOver: false))!;
        var before = (await Store.GetJobAsync(job.Id))!;
        var eventsBefore = await Store.ReadEventsAsync(job.Id);
        engine.FailWith = new InvalidOperationException("the engine's tables are gone");
        Clock.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CompleteStepAsync(lease, [new StepOutput("final.png", "ab")]));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.FailStepAsync(lease, "HTTP 500"));

        var after = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal(before with { Steps = [] }, after with { Steps = [] });
        Assert.Equal(before.Steps, after.Steps, new StepComparer());
        Assert.Equal((StepState.Running, 1), (after.Steps[0].State, after.Steps[0].Attempts));
        Assert.Empty(after.Steps[0].Outputs);
        Assert.Equal(eventsBefore, await Store.ReadEventsAsync(job.Id));
        Assert.Equal(LeaseStatus.Held, await Store.CheckStepAsync(lease));
        Assert.Single(engine.Tickets); // the create's
        Assert.Equal(engine.Calls.Count(c => c == "enter"), engine.Calls.Count(c => c == "exit"));

        engine.FailWith = null;
        Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(lease, [new StepOutput("final.png", "ab")]));
        Assert.Equal(new StepTicket(job.Id, 1, "img2img", 1, engine.Tickets.First().NotBefore), engine.Tickets.Last()); // due since the job was queued
    }

    [ContractFact]
    public async Task Scheduler_Turn_IsAwaitedBeforeTheWriteTransaction_AndEndsAfterIt()
    {
        var other = await OpenTrackedAsync(); // no engine: writes without a turn
        var engine = new RecordingScheduler
        {
            Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            ExitProbe = async () => await other.GetJobAsync("gated") is null ? "not committed" : "committed",
        };
        Store.AttachScheduler(engine);

        var creating = Store.CreateJobAsync(Job("gated", "one") with { Id = "gated" });
        await engine.Entered.WaitAsync(TimeSpan.FromMinutes(1));

        // While the store waits for its turn it holds no write lock (SQLite: another writer gets on at once) and has written nothing.
        var meanwhile = await other.CreateJobAsync(Job("meanwhile", "one")).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.False(creating.IsCompleted);
        Assert.Empty(engine.Scheduled);
        Assert.Equal([meanwhile.Id], (await other.ListJobsAsync()).Select(j => j.Id));

        engine.Gate.SetResult();
        var created = await creating.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal([meanwhile.Id, created.Id], (await other.ListJobsAsync()).Select(j => j.Id));
        Assert.Equal(["enter", "join", "schedule", "join disposed", "exit (committed)"], engine.Calls);
        Assert.True(Assert.Single(engine.Scheduled).InTurn);
    }

    private sealed class StepComparer : IEqualityComparer<JobStep>
    {
        public bool Equals(JobStep? x, JobStep? y) =>
            x is not null && y is not null && (x with { Outputs = [] }) == (y with { Outputs = [] }) && x.Outputs.SequenceEqual(y.Outputs);

        public int GetHashCode(JobStep obj) => obj.Index;
    }
}
