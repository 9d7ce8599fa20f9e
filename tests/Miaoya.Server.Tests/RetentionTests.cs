using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Miaoya.Jobs;
using Miaoya.Runner;

namespace Miaoya.Server.Tests;

/// <summary>Retention: old finished jobs go with their steps, events and folders, in batches; open jobs and recent ones stay.</summary>
public sealed class RetentionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-retention-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData("30d", 30 * 24.0)]
    [InlineData("12h", 12.0)]
    [InlineData("1.5d", 36.0)]
    [InlineData("90m", 1.5)]
    [InlineData(" 2.00:00:00 ", 48.0)]
    [InlineData("0", null)]
    [InlineData("off", null)]
    [InlineData("Forever", null)]
    public void TryParseKeep_Accepts(string text, double? hours)
    {
        Assert.True(JobRetention.TryParseKeep(text, out var keep, out var problem), problem);
        Assert.Equal(hours, keep?.TotalHours);
    }

    [Theory]
    [InlineData("30x", "is not a duration")]
    [InlineData("-1d", "is not a duration")]
    [InlineData("", "is not a duration")]
    [InlineData("10m", "shorter than 1h")]
    [InlineData("1e400d", "is not a duration")]
    public void TryParseKeep_Refuses(string text, string expected)
    {
        Assert.False(JobRetention.TryParseKeep(text, out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_DeletesOldFinishedJobsAndTheirFolders_InBatches_KeepingOpenAndRecentOnes()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var store = await JobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), time: time);
        var jobs = Path.Combine(_folder, "jobs");
        async Task<JobRecord> CreateAsync()
        {
            var id = NewJob.NewJobId();
            Directory.CreateDirectory(Path.Combine(jobs, id));
            await File.WriteAllTextAsync(Path.Combine(jobs, id, "template.png"), "photo");
            return await store.CreateJobAsync(new NewJob { Id = id, Recipe = "v2", InputsJson = "{}", OutputFolder = Path.Combine(jobs, id), Steps = ["inpaint"] });
        }

        var old = new List<JobRecord>();
        for (var i = 0; i < JobRetention.BatchSize + 20; i++)
        {
            var job = await CreateAsync();
            await store.CancelJobAsync(job.Id, "test");
            old.Add(job);
        }

        var queued = await CreateAsync();
        var running = await CreateAsync();
        var lease = await store.StartStepAsync(queued.Id, 0, "w", takeOver: false);
        Assert.NotNull(lease); // one open job runs, the other stays queued
        time.Advance(TimeSpan.FromDays(31));
        var recent = await CreateAsync();
        await store.CancelJobAsync(recent.Id);

        var retention = new JobRetention(store, TimeSpan.FromDays(30), time, JobRetention.DeleteJobFolderAsync);
        var deleted = await retention.PruneAsync();

        Assert.Equal(old.Select(j => j.Id).Order(), deleted.Select(d => d.Id).Order());
        Assert.All(old, j => Assert.False(Directory.Exists(j.OutputFolder)));
        Assert.Equal(
            [queued.Id, running.Id, recent.Id],
            (await store.ListJobsPageAsync(new JobQuery { Order = JobOrder.OldestFirst })).Jobs.Select(j => j.Id));
        Assert.All(new[] { queued, running, recent }, j => Assert.True(File.Exists(Path.Combine(j.OutputFolder, "template.png"))));
        Assert.Empty(await store.ReadEventsAsync(old[0].Id));
        Assert.Empty(await retention.PruneAsync());
        Assert.Throws<ArgumentOutOfRangeException>(() => new JobRetention(store, TimeSpan.FromMinutes(5), time, JobRetention.DeleteJobFolderAsync));
    }

    [Fact]
    public async Task DeleteJobFolder_OnlyAFolderNamedAfterItsJob()
    {
        var other = Path.Combine(_folder, "not-a-job-folder");
        Directory.CreateDirectory(other);

        await JobRetention.DeleteJobFolderAsync(new DeletedJob("0196a000-0000-7000-8000-000000000001", other, null), default);

        Assert.True(Directory.Exists(other));
    }

    [Fact]
    public async Task Serve_AtStart_DeletesJobsFinishedLongerAgoThanKeepJobs()
    {
        var jobs = Path.Combine(_folder, "jobs");
        var storePath = Path.Combine(jobs, "jobs.db");
        var longAgo = new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromDays(40));
        string oldId, keptId;
        await using (var store = await JobStore.OpenAsync(storePath, time: longAgo))
        {
            oldId = NewJob.NewJobId();
            keptId = NewJob.NewJobId();
            foreach (var id in new[] { oldId, keptId })
            {
                Directory.CreateDirectory(Path.Combine(jobs, id));
                await store.CreateJobAsync(new NewJob { Id = id, Recipe = "v2", InputsJson = "{}", OutputFolder = Path.Combine(jobs, id), Steps = ["inpaint"] });
            }

            await store.CancelJobAsync(oldId, "old");
        }

        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with
        {
            Store = storePath,
            NoWorker = true,
            Runner = o.Runner with { JobsDirectory = jobs },
        });

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Directory.Exists(Path.Combine(jobs, oldId)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.False(Directory.Exists(Path.Combine(jobs, oldId)));
        Assert.True(Directory.Exists(Path.Combine(jobs, keptId)));
        var listed = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs")).RootElement.GetProperty("jobs");
        Assert.Equal([keptId], listed.EnumerateArray().Select(j => j.GetProperty("id").GetString()));
    }
}
