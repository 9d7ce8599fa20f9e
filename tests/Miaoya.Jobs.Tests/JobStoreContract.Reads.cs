namespace Miaoya.Jobs.Tests;

/// <summary>The set-based reads and retention of the contract: paging, counts, recent steps, deleting old finished jobs.</summary>
public abstract partial class JobStoreContract
{

    /// <summary>Runs the job's steps to success, each taking <paramref name="stepTime"/>, on <paramref name="box"/> (no other job may be runnable).</summary>
    private async Task RunToSuccessAsync(string jobId, TimeSpan stepTime, string box = "box-a")
    {
        while (await Store.StartNextAsync("w") is { } lease)
        {
            Assert.Equal(jobId, lease.JobId);
            await Store.SetStepBoxAsync(lease, box);
            Clock.Advance(stepTime);
            Assert.Equal(StepOutcome.Completed, await Store.CompleteStepAsync(lease, []));
        }
    }

    [ContractFact]
    public async Task ListJobsPage_NewestFirst_PagesThroughEveryJobOnce_AndEndsWithoutACursor()
    {
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add((await Store.CreateJobAsync(Job($"j{i}", "one", "two"))).Id);
        }

        var seen = new List<string>();
        long? after = null;
        var pages = 0;
        do
        {
            var page = await Store.ListJobsPageAsync(new JobQuery { Limit = 3, After = after });
            Assert.All(page.Jobs, j => Assert.Equal(["one", "two"], j.Steps.Select(s => s.Name)));
            seen.AddRange(page.Jobs.Select(j => j.Id));
            after = page.Next;
            pages++;
        }
        while (after is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);

        // A page that ends exactly at the last job says so (no empty page after it).
        var exact = await Store.ListJobsPageAsync(new JobQuery { Limit = 7 });
        Assert.Equal(7, exact.Jobs.Count);
        Assert.Null(exact.Next);
    }

    [ContractFact]
    public async Task ListJobsPage_OldestFirstAndByState_NewJobsDoNotShiftTheCursor()
    {
        var a = await Store.CreateJobAsync(Job("a", "one"));
        await RunToSuccessAsync(a.Id, TimeSpan.FromSeconds(1));
        var b = await Store.CreateJobAsync(Job("b", "one"));
        var c = await Store.CreateJobAsync(Job("c", "one"));
        await Store.CancelJobAsync(b.Id);

        var first = await Store.ListJobsPageAsync(new JobQuery { Limit = 1, Order = JobOrder.OldestFirst });
        Assert.Equal([a.Id], first.Jobs.Select(j => j.Id));
        var d = await Store.CreateJobAsync(Job("d", "one"));
        var rest = await Store.ListJobsPageAsync(new JobQuery { Limit = 10, Order = JobOrder.OldestFirst, After = first.Next });
        Assert.Equal([b.Id, c.Id, d.Id], rest.Jobs.Select(j => j.Id));
        Assert.Null(rest.Next);

        var queued = await Store.ListJobsPageAsync(new JobQuery { State = JobState.Queued, Limit = 1 });
        Assert.Equal([d.Id], queued.Jobs.Select(j => j.Id));
        var olderQueued = await Store.ListJobsPageAsync(new JobQuery { State = JobState.Queued, Limit = 1, After = queued.Next });
        Assert.Equal([c.Id], olderQueued.Jobs.Select(j => j.Id));
        Assert.Null(olderQueued.Next);
        Assert.Equal(StepState.Succeeded, (await Store.ListJobsPageAsync(new JobQuery { State = JobState.Succeeded })).Jobs.Single().Steps.Single().State);
        Assert.Empty((await Store.ListJobsPageAsync(new JobQuery { State = JobState.Failed })).Jobs);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.ListJobsPageAsync(new JobQuery { Limit = 0 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.ListJobsPageAsync(new JobQuery { Limit = JobQuery.MaxLimit + 1 }));
    }

    [ContractFact]
    public async Task ListJobsPage_ByKind_MatchesTheInputsKind_UnnamedAsTheDefault_AndPagesWithinIt()
    {
        NewJob Of(string name, string inputs) => Job(name, "one") with { InputsJson = inputs };
        var plain = await Store.CreateJobAsync(Of("plain", """{"template":"t.png"}"""));
        var photo = await Store.CreateJobAsync(Of("photo", """{"template":"t.png","kind":"idphoto","overrides":["x=\"kind\":\"portrait\""]}"""));
        var named = await Store.CreateJobAsync(Of("named", """{"template":"t.png","kind":"portrait"}"""));
        var odd = await Store.CreateJobAsync(Of("odd", """{"kind":"id_photo"}"""));
        var photo2 = await Store.CreateJobAsync(Of("photo2", """{"kind":"idphoto"}"""));

        var portraits = await Store.ListJobsPageAsync(new JobQuery { Kind = "portrait", KindWhenUnnamed = "portrait" });
        Assert.Equal([named.Id, plain.Id], portraits.Jobs.Select(j => j.Id));
        Assert.Equal(["one"], portraits.Jobs[0].Steps.Select(s => s.Name));

        // Without a default, only the named ones; '_' is a character, not LIKE's wildcard ("id_photo" is not "idphoto").
        Assert.Equal([named.Id], (await Store.ListJobsPageAsync(new JobQuery { Kind = "portrait" })).Jobs.Select(j => j.Id));
        Assert.Equal([odd.Id], (await Store.ListJobsPageAsync(new JobQuery { Kind = "id_photo" })).Jobs.Select(j => j.Id));
        Assert.Empty((await Store.ListJobsPageAsync(new JobQuery { Kind = "id_hoto" })).Jobs);

        var first = await Store.ListJobsPageAsync(new JobQuery { Kind = "idphoto", KindWhenUnnamed = "portrait", Limit = 1 });
        Assert.Equal([photo2.Id], first.Jobs.Select(j => j.Id));
        var rest = await Store.ListJobsPageAsync(new JobQuery { Kind = "idphoto", KindWhenUnnamed = "portrait", Limit = 1, After = first.Next });
        Assert.Equal([photo.Id], rest.Jobs.Select(j => j.Id));
        Assert.Null(rest.Next);
        Assert.Empty((await Store.ListJobsPageAsync(new JobQuery { Kind = "idphoto", State = JobState.Failed })).Jobs);

        await Assert.ThrowsAsync<ArgumentException>(() => Store.ListJobsPageAsync(new JobQuery { Kind = "ID%" }));
    }

    [ContractFact]
    public async Task CountJobs_CountsEveryStateAndAll()
    {
        Assert.Equal(0, await Store.CountJobsAsync());
        var a = await Store.CreateJobAsync(Job("a", "one"));
        await Store.CreateJobAsync(Job("b", "one"));
        await Store.CreateJobAsync(Job("c", "one"));
        await Store.StartNextAsync("w");

        Assert.Equal(3, await Store.CountJobsAsync());
        Assert.Equal(2, await Store.CountJobsAsync(JobState.Queued));
        Assert.Equal(1, await Store.CountJobsAsync(JobState.Running));
        Assert.Equal(0, await Store.CountJobsAsync(JobState.Succeeded));
        await Store.DeleteJobAsync(a.Id);
        Assert.Equal(0, await Store.CountJobsAsync(JobState.Running));
    }

    [ContractFact]
    public async Task ReadRecentSteps_NewestSuccessesFirst_BoundedByTheLimit()
    {
        var first = await Store.CreateJobAsync(Job("first", "mask", "inpaint"));
        await RunToSuccessAsync(first.Id, TimeSpan.FromSeconds(2), "box-a");
        var second = await Store.CreateJobAsync(Job("second", "mask", "inpaint"));
        await RunToSuccessAsync(second.Id, TimeSpan.FromSeconds(5), "box-b");
        var failing = await Store.CreateJobAsync(Job("failing", "mask"));
        var lease = await Store.StartNextAsync("w");
        await Store.FailStepAsync(lease!, "boom", permanent: true);

        var recent = await Store.ReadRecentStepsAsync(3);

        Assert.Equal([(second.Id, "inpaint"), (second.Id, "mask"), (first.Id, "inpaint")], recent.Select(s => (s.JobId, s.Name)));
        Assert.All(recent.Take(2), s => Assert.Equal((TimeSpan.FromSeconds(5), "box-b"), (s.Duration, s.Box)));
        Assert.Equal(TimeSpan.FromSeconds(2), recent[2].Duration);
        Assert.Equal(4, (await Store.ReadRecentStepsAsync(100)).Count);
        Assert.DoesNotContain(failing.Id, (await Store.ReadRecentStepsAsync(100)).Select(s => s.JobId));
    }

    [ContractFact]
    public async Task DeleteFinishedJobs_RemovesOnlyFinishedJobsOlderThanTheCutoff_WithStepsAndEvents()
    {
        var done = await Store.CreateJobAsync(Job("done", "one"));
        await RunToSuccessAsync(done.Id, TimeSpan.FromSeconds(1));
        var failed = await Store.CreateJobAsync(Job("failed", "one"));
        await Store.FailStepAsync((await Store.StartNextAsync("w"))!, "boom", permanent: true);
        var cancelled = await Store.CreateJobAsync(Job("cancelled", "one"));
        await Store.CancelJobAsync(cancelled.Id);
        var running = await Store.CreateJobAsync(Job("running", "one", "two"));
        var runningLease = await Store.StartNextAsync("w");
        Assert.Equal(running.Id, runningLease!.JobId);
        var queued = await Store.CreateJobAsync(Job("queued", "one"));
        Clock.Advance(TimeSpan.FromDays(2));
        var recent = await Store.CreateJobAsync(Job("recent", "one"));
        await Store.CancelJobAsync(recent.Id);

        var cutoff = Clock.GetUtcNow() - TimeSpan.FromDays(1);
        var firstBatch = await Store.DeleteFinishedJobsAsync(cutoff, 2);
        var secondBatch = await Store.DeleteFinishedJobsAsync(cutoff, 2);
        var none = await Store.DeleteFinishedJobsAsync(cutoff, 2);

        Assert.Equal([done.Id, failed.Id], firstBatch.Select(d => d.Id)); // oldest finished first
        Assert.Equal([cancelled.Id], secondBatch.Select(d => d.Id));
        Assert.Empty(none);
        Assert.Equal("/runs/done", firstBatch[0].OutputFolder);
        foreach (var gone in new[] { done, failed, cancelled })
        {
            Assert.Null(await Store.GetJobAsync(gone.Id));
            Assert.Empty(await Store.ReadEventsAsync(gone.Id));
        }

        Assert.Equal(
            [(running.Id, JobState.Running), (queued.Id, JobState.Queued), (recent.Id, JobState.Cancelled)],
            (await Store.ListJobsAsync()).Select(j => (j.Id, j.State)));
        Assert.DoesNotContain(done.Id, (await Store.ReadRecentStepsAsync(10)).Select(s => s.JobId));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.DeleteFinishedJobsAsync(cutoff, 0));
    }
}
