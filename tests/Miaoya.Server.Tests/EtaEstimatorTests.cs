using Microsoft.Extensions.Time.Testing;
using Miaoya.Jobs;

namespace Miaoya.Server.Tests;

/// <summary>The ETA from step history and progress events, on a real SQLite store with a fake clock.</summary>
public sealed class EtaEstimatorTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-eta-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 8, 0, 0, TimeSpan.Zero));
    private IJobStore _store = null!;

    public async Task InitializeAsync() => _store = await JobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), time: _time);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Estimate_UsesMediansOfFinishedSteps_AndTheRunningStepsProgress()
    {
        using var eta = new EtaEstimator(_store, _time);
        var unknown = await CreateAsync();
        Assert.Null(await eta.EstimateAsync(unknown, default));

        // History: "render" took 10, 30 and 20 s (median 20), "tag" 2 s.
        await RunAsync(unknown, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        foreach (var seconds in new[] { 30, 20 })
        {
            await RunAsync(await CreateAsync(), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(seconds));
        }

        Assert.Equal(0, await eta.EstimateAsync((await _store.GetJobAsync(unknown.Id))!, default));
        var job = await CreateAsync();
        Assert.Equal(22, await eta.EstimateAsync(job, default));

        // Running "tag" for 1.5 s: 0.5 s of it left, then 20 s.
        var tag = (await _store.StartStepAsync(job.Id, 0, "w", takeOver: false))!;
        _time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(20.5, await eta.EstimateAsync((await _store.GetJobAsync(job.Id))!, default));
        await _store.CompleteStepAsync(tag, []);

        // "render" running; the box says 8 s left, 3 s ago: 5 s.
        var render = (await _store.StartStepAsync(job.Id, 1, "w", takeOver: false))!;
        _time.Advance(TimeSpan.FromSeconds(1));
        await _store.AppendEventAsync(job.Id, JobEventKind.StepProgress, "render", """{"fraction":0.2,"eta_s":8,"box":"b","message":null}""");
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(5, await eta.EstimateAsync((await _store.GetJobAsync(job.Id))!, default));

        // A progress event with a fraction and no ETA: the rest at the pace so far (half done after 6 s: 6 s more).
        _time.Advance(TimeSpan.FromSeconds(2));
        await _store.AppendEventAsync(job.Id, JobEventKind.StepProgress, "render", """{"fraction":0.5,"eta_s":null,"box":"b","message":null}""");
        Assert.Equal(6, await eta.EstimateAsync((await _store.GetJobAsync(job.Id))!, default));
        await _store.CompleteStepAsync(render, []);
        Assert.Equal(0, await eta.EstimateAsync((await _store.GetJobAsync(job.Id))!, default));
    }

    [Fact]
    public async Task Typical_UsesOnlyTheNewestRunsOfEachStep()
    {
        using var eta = new EtaEstimator(_store, _time);
        // 10 slow runs, then HistoryPerStep fast ones: only the fast ones count.
        for (var i = 0; i < 10 + EtaEstimator.HistoryPerStep; i++)
        {
            await RunAsync(await CreateAsync(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(i < 10 ? 100 : 4));
        }

        var typical = await eta.TypicalAsync(["tag", "render"], default);

        Assert.Equal((1.0, 4.0), (typical["tag"], typical["render"]));
    }

    [Fact]
    public async Task ASuccessSeenAfterTheHistoryWasRead_IsReadAtOnce_EvenAtTheSameClockTick()
    {
        using var eta = new EtaEstimator(_store, _time);
        // The first job has run "tag" and is rendering when the second is estimated: "render" has no history yet.
        var first = await CreateAsync();
        await _store.CompleteStepAsync((await _store.StartStepAsync(first.Id, 0, "w", takeOver: false))!, []);
        var render = (await _store.StartStepAsync(first.Id, 1, "w", takeOver: false))!;
        var second = await CreateAsync();
        Assert.Null(await eta.EstimateAsync(second, default));

        // It succeeds and is seen finished within the same clock tick as that read (under load the store's stamp and the
        // read's can coincide or cross): the next estimate still reads the history again instead of waiting for it to age.
        await _store.CompleteStepAsync(render, []);
        Assert.Equal(0, await eta.EstimateAsync((await _store.GetJobAsync(first.Id))!, default));

        Assert.NotNull(await eta.EstimateAsync(second, default));
    }

    [Fact]
    public void Median_OddAndEven() => Assert.Equal((2.0, 2.5), (EtaEstimator.Median([3, 1, 2]), EtaEstimator.Median([4, 1, 3, 2])));

    private Task<JobRecord> CreateAsync() => _store.CreateJobAsync(new NewJob
    {
        Recipe = "test",
        InputsJson = "{}",
        OutputFolder = Path.Combine(_folder, Guid.NewGuid().ToString("N")),
        Steps = ["tag", "render"],
    });

    private async Task RunAsync(JobRecord job, TimeSpan tag, TimeSpan render)
    {
        foreach (var (took, index) in new[] { tag, render }.Select((t, i) => (t, i)))
        {
            var lease = (await _store.StartStepAsync(job.Id, index, "w", takeOver: false))!;
            Assert.Equal(job.Id, lease.JobId);
            _time.Advance(took);
            Assert.Equal(StepOutcome.Completed, await _store.CompleteStepAsync(lease, []));
        }
    }
}
