using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// The behaviour every <see cref="IJobStore"/> promises, run against each implementation by a derived class. Time is a
/// <see cref="FakeTimeProvider"/>: leases and backoff move only when a test advances the clock.
/// </summary>
public abstract partial class JobStoreContract : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

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

    [ContractFact]
    public async Task Lifecycle_StepsRunInOrder_JobSucceedsWithOutputs()
    {
        var job = await Store.CreateJobAsync(Job("v1", "interrogate", "inpaint"));

        var first = await Store.ClaimNextStepAsync("w1", Lease);
        Assert.NotNull(first);
        Assert.Equal((job.Id, 0, "interrogate", 1, "w1"), (first.JobId, first.StepIndex, first.StepName, first.Attempt, first.Worker));
        Assert.Equal(Clock.GetUtcNow() + Lease, first.ExpiresAt);
        Assert.Equal(job.InputsJson, first.InputsJson);
        Assert.Equal(JobState.Running, (await Store.GetJobAsync(job.Id))!.State);
        Assert.Null(await Store.ClaimNextStepAsync("w2", Lease)); // inpaint waits for interrogate

        Clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(LeaseStatus.Held, await Store.SetStepBoxAsync(first, "http://box-a:7860"));
        Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(first, [new StepOutput("tags.json", "aa11")]));

        var second = await Store.ClaimNextStepAsync("w2", Lease);
        Assert.NotNull(second);
        Assert.Equal((1, "inpaint"), (second.StepIndex, second.StepName));
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
        Assert.Null(await Store.ClaimNextStepAsync("w3", Lease));
        Assert.Equal([done.Id], (await Store.ListJobsAsync(JobState.Succeeded)).Select(j => j.Id));
        Assert.Empty(await Store.ListJobsAsync(JobState.Queued));
    }

    [ContractFact]
    public async Task Claim_TakesOldestJobFirst_AndAnotherJobWhileTheFirstIsBusy()
    {
        var a = await Store.CreateJobAsync(Job("a", "one", "two"));
        var b = await Store.CreateJobAsync(Job("b", "one", "two"));
        var c = await Store.CreateJobAsync(Job("c", "one"));

        var claims = new List<StepLease?>
        {
            await Store.ClaimNextStepAsync("w1", Lease),
            await Store.ClaimNextStepAsync("w2", Lease),
            await Store.ClaimNextStepAsync("w3", Lease),
            await Store.ClaimNextStepAsync("w4", Lease),
        };

        Assert.Equal([a.Id, b.Id, c.Id], claims.Take(3).Select(l => l!.JobId));
        Assert.All(claims.Take(3), l => Assert.Equal(0, l!.StepIndex));
        Assert.Null(claims[3]);
        Assert.Equal([a.Id, b.Id, c.Id], (await Store.ListJobsAsync()).Select(j => j.Id));
    }

    [ContractFact]
    public async Task Claim_WithStepNames_TakesOnlyThoseSteps()
    {
        var a = await Store.CreateJobAsync(Job("a", "inpaint", "faceswap"));
        var b = await Store.CreateJobAsync(Job("b", "mask", "inpaint"));

        var local = (await Store.ClaimNextStepAsync("local", Lease, ["mask", "faceswap"]))!;
        Assert.Equal((b.Id, "mask"), (local.JobId, local.StepName)); // a's faceswap waits for a's inpaint
        Assert.Null(await Store.ClaimNextStepAsync("local", Lease, ["mask", "faceswap"]));

        var remote = (await Store.ClaimNextStepAsync("remote", Lease, ["inpaint"]))!;
        Assert.Equal((a.Id, "inpaint"), (remote.JobId, remote.StepName));
        await Store.CompleteStepAsync(remote, []);
        var swap = (await Store.ClaimNextStepAsync("local", Lease, ["faceswap"]))!;
        Assert.Equal((a.Id, "faceswap"), (swap.JobId, swap.StepName));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.ClaimNextStepAsync("x", Lease, []));
    }

    [ContractFact]
    public async Task Fail_RetriesWithExponentialBackoff_ThenFailsTheJob()
    {
        var job = await Store.CreateJobAsync(Job("v2", "inpaint", "img2img"));

        var attempt1 = (await Store.ClaimNextStepAsync("w1", Lease))!;
        Assert.Equal(StepOutcome.RetryScheduled, await Store.FailStepAsync(attempt1, "HTTP 500 from box-a"));
        var step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal((StepState.Pending, 1, "HTTP 500 from box-a"), (step.State, step.Attempts, step.LastError));
        Assert.Equal(Clock.GetUtcNow() + TimeSpan.FromSeconds(2), step.NextAttemptAt);

        Assert.Null(await Store.ClaimNextStepAsync("w1", Lease)); // backing off
        Clock.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Null(await Store.ClaimNextStepAsync("w1", Lease));
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        var attempt2 = (await Store.ClaimNextStepAsync("w2", Lease))!;
        Assert.Equal((0, 2), (attempt2.StepIndex, attempt2.Attempt));

        Assert.Equal(StepOutcome.RetryScheduled, await Store.FailStepAsync(attempt2, "timeout"));
        step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal(Clock.GetUtcNow() + TimeSpan.FromSeconds(3), step.NextAttemptAt); // 4 s capped at MaxRetryDelay 3 s

        Clock.Advance(TimeSpan.FromSeconds(3));
        var attempt3 = (await Store.ClaimNextStepAsync("w3", Lease))!;
        Assert.Equal(3, attempt3.Attempt);
        Assert.Equal(StepOutcome.JobFailed, await Store.FailStepAsync(attempt3, "timeout again"));

        var failed = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("inpaint", failed.Error, StringComparison.Ordinal);
        Assert.Contains("timeout again", failed.Error, StringComparison.Ordinal);
        Assert.Equal((StepState.Failed, 3), (failed.Steps[0].State, failed.Steps[0].Attempts));
        Assert.Equal(StepState.Cancelled, failed.Steps[1].State);
        Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(await Store.ClaimNextStepAsync("w4", Lease));
    }

    [ContractFact]
    public async Task Fail_Permanent_FailsTheJobAtOnce()
    {
        var job = await Store.CreateJobAsync(Job());
        var lease = (await Store.ClaimNextStepAsync("w1", Lease))!;

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
    public async Task ExpiredLease_IsReclaimed_AndTheStaleWorkerCannotOverwrite()
    {
        var job = await Store.CreateJobAsync(Job("v2", "inpaint", "img2img"));
        var stale = (await Store.ClaimNextStepAsync("killed-worker", Lease))!;
        await Store.SetStepBoxAsync(stale, "box-a");

        Clock.Advance(Lease - TimeSpan.FromMilliseconds(1));
        Assert.Null(await Store.ClaimNextStepAsync("w2", Lease)); // still leased
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        var fresh = (await Store.ClaimNextStepAsync("w2", Lease))!;

        Assert.Equal((0, 2, "w2"), (fresh.StepIndex, fresh.Attempt, fresh.Worker));
        var step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Contains("killed-worker", step.LastError, StringComparison.Ordinal);
        Assert.Null(step.Box);

        // The worker that lost its lease wakes up: every report is refused and changes nothing.
        Assert.Equal(LeaseStatus.Lost, await Store.HeartbeatAsync(stale, Lease));
        Assert.Equal(LeaseStatus.Lost, await Store.SetStepBoxAsync(stale, "box-z"));
        Assert.Equal(StepOutcome.LeaseLost, await Store.CompleteStepAsync(stale, [new StepOutput("stale.png", "00")]));
        Assert.Equal(StepOutcome.LeaseLost, await Store.FailStepAsync(stale, "late failure", permanent: true));
        Assert.False(await Store.ReleaseStepAsync(stale, TimeSpan.Zero));
        step = (await Store.GetJobAsync(job.Id))!.Steps[0];
        Assert.Equal((StepState.Running, "w2", 2, (string?)null), (step.State, step.Worker, step.Attempts, step.Box));
        Assert.Empty(step.Outputs);

        Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(fresh, [new StepOutput("inpaint.png", "11")]));
        Assert.Equal([new StepOutput("inpaint.png", "11")], (await Store.GetJobAsync(job.Id))!.Steps[0].Outputs);
    }

    [ContractFact]
    public async Task Heartbeat_ExtendsTheLease()
    {
        await Store.CreateJobAsync(Job());
        var lease = (await Store.ClaimNextStepAsync("w1", Lease))!;

        Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(LeaseStatus.Held, await Store.HeartbeatAsync(lease, Lease));
        Clock.Advance(TimeSpan.FromSeconds(20));

        Assert.Null(await Store.ClaimNextStepAsync("w2", Lease));
        Assert.Equal(Clock.GetUtcNow() + TimeSpan.FromSeconds(10), (await Store.GetJobAsync(lease.JobId))!.Steps[0].LeaseExpiresAt);
        Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.NotNull(await Store.ClaimNextStepAsync("w2", Lease));
    }

    [ContractFact]
    public async Task ExpiredLeases_CountAsAttempts_AndExhaustThem()
    {
        var job = await Store.CreateJobAsync(Job("crashy", "inpaint") with { MaxAttempts = 2 });

        Assert.Equal(1, (await Store.ClaimNextStepAsync("w1", Lease))!.Attempt);
        Clock.Advance(Lease);
        Assert.Equal(2, (await Store.ClaimNextStepAsync("w2", Lease))!.Attempt);
        Clock.Advance(Lease);

        Assert.Null(await Store.ClaimNextStepAsync("w3", Lease));
        var failed = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal((JobState.Failed, StepState.Failed, 2), (failed.State, failed.Steps[0].State, failed.Steps[0].Attempts));
        Assert.Contains("w2", failed.Error, StringComparison.Ordinal);
    }

    [ContractFact]
    public async Task FinishedSteps_AreNeverRedone_WhenALaterStepsWorkerDies()
    {
        var job = await Store.CreateJobAsync(Job("v2", "interrogate", "inpaint", "img2img"));
        await Store.CompleteStepAsync((await Store.ClaimNextStepAsync("w1", Lease))!, [new StepOutput("tags.json", "a")]);
        var dying = (await Store.ClaimNextStepAsync("w1", Lease))!;
        Assert.Equal(1, dying.StepIndex);

        Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var again = (await Store.ClaimNextStepAsync("w2", Lease))!;

        Assert.Equal((1, 2), (again.StepIndex, again.Attempt));
        var steps = (await Store.GetJobAsync(job.Id))!.Steps;
        Assert.Equal((StepState.Succeeded, 1, "w1"), (steps[0].State, steps[0].Attempts, steps[0].Worker));
    }

    [ContractFact]
    public async Task Release_GivesTheStepBackWithoutCountingTheAttempt()
    {
        var job = await Store.CreateJobAsync(Job());
        var lease = (await Store.ClaimNextStepAsync("w1", Lease))!;

        Assert.True(await Store.ReleaseStepAsync(lease, TimeSpan.FromSeconds(5)));

        Assert.Null(await Store.ClaimNextStepAsync("w1", Lease));
        Clock.Advance(TimeSpan.FromSeconds(5));
        var again = (await Store.ClaimNextStepAsync("w2", Lease))!;
        Assert.Equal((job.Id, 0, 1), (again.JobId, again.StepIndex, again.Attempt));
        Assert.Equal(LeaseStatus.Lost, await Store.HeartbeatAsync(lease, Lease));
    }

    [ContractFact]
    public async Task Cancel_FlagsTheRunningStepAndItsBox_AndStopsTheJob()
    {
        var job = await Store.CreateJobAsync(Job());
        var other = await Store.CreateJobAsync(Job("other", "one"));
        var lease = (await Store.ClaimNextStepAsync("w1", Lease))!;
        await Store.SetStepBoxAsync(lease, "http://box-b:7860");

        var cancelled = (await Store.CancelJobAsync(job.Id, "user asked"))!;

        Assert.Equal((JobState.Cancelled, "user asked"), (cancelled.State, cancelled.Error));
        var running = cancelled.Steps[0];
        Assert.Equal((StepState.Cancelled, true, "http://box-b:7860", "w1"), (running.State, running.CancelRequested, running.Box, running.Worker));
        Assert.All(cancelled.Steps.Skip(1), s => Assert.Equal(StepState.Cancelled, s.State));

        Assert.Equal(LeaseStatus.CancelRequested, await Store.HeartbeatAsync(lease, Lease));
        Assert.Equal(StepOutcome.Cancelled, await Store.FailStepAsync(lease, "interrupted"));
        var after = (await Store.GetJobAsync(job.Id))!;
        Assert.Equal((JobState.Cancelled, StepState.Cancelled, false), (after.State, after.Steps[0].State, after.Steps[0].CancelRequested));
        Assert.Equal("interrupted", after.Steps[0].LastError);

        var next = (await Store.ClaimNextStepAsync("w2", Lease))!;
        Assert.Equal(other.Id, next.JobId); // nothing of the cancelled job is handed out
        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(other.Id, (await Store.ClaimNextStepAsync("w3", Lease))!.JobId);
        Assert.Null(await Store.CancelJobAsync(Guid.CreateVersion7().ToString()));
    }

    [ContractFact]
    public async Task Cancel_ThenTheWorkerCompletes_TheStepStaysCancelledWithoutOutputs()
    {
        var job = await Store.CreateJobAsync(Job("v1", "inpaint"));
        var lease = (await Store.ClaimNextStepAsync("w1", Lease))!;
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
        await Store.CompleteStepAsync((await Store.ClaimNextStepAsync("w1", Lease))!, []);

        var after = (await Store.CancelJobAsync(job.Id))!;

        Assert.Equal((JobState.Succeeded, StepState.Succeeded), (after.State, after.Steps[0].State));
        Assert.DoesNotContain(await Store.ReadEventsAsync(job.Id), e => e.Kind == JobEventKind.JobCancelled);
    }

    [ContractFact]
    public async Task Delete_RemovesEverything_AndReturnsTheFolderAndBox()
    {
        var job = await Store.CreateJobAsync(Job() with { OutputFolder = "/runs/alice-0001" });
        var lease = (await Store.ClaimNextStepAsync("w1", Lease))!;
        await Store.SetStepBoxAsync(lease, "box-c");

        var deleted = await Store.DeleteJobAsync(job.Id);

        Assert.Equal(new DeletedJob(job.Id, "/runs/alice-0001", "box-c"), deleted);
        Assert.Null(await Store.GetJobAsync(job.Id));
        Assert.Empty(await Store.ReadEventsAsync(job.Id));
        Assert.Empty(await Store.ListJobsAsync());
        Assert.Equal(LeaseStatus.Lost, await Store.HeartbeatAsync(lease, Lease));
        Assert.Equal(StepOutcome.LeaseLost, await Store.CompleteStepAsync(lease, []));
        Assert.Null(await Store.ClaimNextStepAsync("w2", Lease));
        Assert.Null(await Store.DeleteJobAsync(job.Id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Store.AppendEventAsync(job.Id, JobEventKind.StepProgress));
    }

    [ContractFact]
    public async Task Events_AreAppendOnly_GaplessAndReadableFromAnOffset()
    {
        var job = await Store.CreateJobAsync(Job("v1", "inpaint"));
        var lease = (await Store.ClaimNextStepAsync("w1", Lease))!;
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
        using (var started = JsonDocument.Parse(all[1].Data!))
        {
            Assert.Equal(1, started.RootElement.GetProperty("attempt").GetInt32());
            Assert.Equal("w1", started.RootElement.GetProperty("worker").GetString());
        }

        using (var finished = JsonDocument.Parse(all[3].Data!))
        {
            Assert.Equal("final.png", finished.RootElement.GetProperty("outputs")[0].GetProperty("file").GetString());
        }

        Assert.Equal([4L, 5], (await Store.ReadEventsAsync(job.Id, afterSequence: 3)).Select(e => e.Sequence));
        Assert.Equal([2L, 3], (await Store.ReadEventsAsync(job.Id, afterSequence: 1, max: 2)).Select(e => e.Sequence));
        Assert.Empty(await Store.ReadEventsAsync(job.Id, afterSequence: 5));
    }

    [ContractFact]
    public async Task Events_RecordRetriesAndFailures()
    {
        var job = await Store.CreateJobAsync(Job("v1", "inpaint") with { MaxAttempts = 2 });
        await Store.FailStepAsync((await Store.ClaimNextStepAsync("w1", Lease))!, "HTTP 500");
        Clock.Advance(TimeSpan.FromSeconds(2));
        await Store.FailStepAsync((await Store.ClaimNextStepAsync("w1", Lease))!, "HTTP 502");

        var kinds = (await Store.ReadEventsAsync(job.Id)).Select(e => e.Kind);

        Assert.Equal(
            [JobEventKind.JobCreated, JobEventKind.StepStarted, JobEventKind.StepRetrying, JobEventKind.StepStarted, JobEventKind.StepFailed, JobEventKind.JobFailed],
            kinds);
    }

    [ContractFact]
    public async Task Restart_ReopenedStoreHasEverything_AndCarriesOn()
    {
        var job = await Store.CreateJobAsync(Job("v2", "interrogate", "inpaint"));
        var first = (await Store.ClaimNextStepAsync("w1", Lease))!;
        await Store.CompleteStepAsync(first, [new StepOutput("tags.json", "ab")]);
        var held = (await Store.ClaimNextStepAsync("w1", Lease))!;
        await Store.SetStepBoxAsync(held, "box-a");
        var before = (await Store.GetJobAsync(job.Id))!;
        var eventsBefore = await Store.ReadEventsAsync(job.Id);
        await Store.DisposeAsync();

        var reopened = await OpenTrackedAsync();

        var after = (await reopened.GetJobAsync(job.Id))!;
        Assert.Equal(before with { Steps = [] }, after with { Steps = [] });
        Assert.Equal(before.Steps, after.Steps, new StepComparer());
        Assert.Equal(eventsBefore, await reopened.ReadEventsAsync(job.Id));
        Assert.Null(await reopened.ClaimNextStepAsync("w2", Lease)); // the lease survived the restart
        Assert.Equal(LeaseStatus.Held, await reopened.HeartbeatAsync(held, Lease));
        Assert.Equal(StepOutcome.Completed, await reopened.CompleteStepAsync(held, []));
        Assert.Equal(JobState.Succeeded, (await reopened.GetJobAsync(job.Id))!.State);
    }

    [ContractFact]
    public async Task TwoInstances_ManyParallelClaimers_NeverClaimTheSameStep()
    {
        const int jobs = 120;
        const int stepsPerJob = 3;
        var second = await OpenTrackedAsync();
        for (var i = 0; i < jobs; i++)
        {
            await Store.CreateJobAsync(Job($"job{i}", "interrogate", "inpaint", "img2img"));
        }

        var claimed = new ConcurrentBag<(string Job, int Step, int Attempt)>();
        var completed = 0;
        var workers = new[] { Store, second }
            .SelectMany((store, s) => Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
            {
                var name = $"i{s}-w{w}";
                while (Volatile.Read(ref completed) < jobs * stepsPerJob)
                {
                    var lease = await store.ClaimNextStepAsync(name, TimeSpan.FromHours(1));
                    if (lease is null)
                    {
                        await Task.Delay(2);
                        continue;
                    }

                    claimed.Add((lease.JobId, lease.StepIndex, lease.Attempt));
                    Assert.Equal(StepOutcome.Completed, await store.CompleteStepAsync(lease, [new StepOutput($"{lease.StepName}.png", name)]));
                    Interlocked.Increment(ref completed);
                }
            })))
            .ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(jobs * stepsPerJob, claimed.Count);
        Assert.Equal(jobs * stepsPerJob, claimed.Distinct().Count());
        Assert.All(claimed, c => Assert.Equal(1, c.Attempt));
        var all = await Store.ListJobsAsync();
        Assert.Equal(jobs, all.Count);
        Assert.All(all, j => Assert.Equal(JobState.Succeeded, j.State));
        Assert.All(all, j => Assert.All(j.Steps, s => Assert.Equal(1, s.Attempts)));
        Assert.All(all, j => Assert.Equal(stepsPerJob, j.Steps.Count));
    }

    private sealed class StepComparer : IEqualityComparer<JobStep>
    {
        public bool Equals(JobStep? x, JobStep? y) =>
            x is not null && y is not null && (x with { Outputs = [] }) == (y with { Outputs = [] }) && x.Outputs.SequenceEqual(y.Outputs);

        public int GetHashCode(JobStep obj) => obj.Index;
    }
}
