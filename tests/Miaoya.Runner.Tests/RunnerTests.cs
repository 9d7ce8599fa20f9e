using Miaoya.Jobs;

namespace Miaoya.Runner.Tests;

public sealed class RunnerTests
{
    [Fact]
    public async Task Queued_v2_jobs_complete_with_their_calls_spread_over_the_boxes()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 2, latency: TimeSpan.FromMilliseconds(300));
        var jobs = new List<JobRecord>();
        for (var i = 0; i < 4; i++)
        {
            jobs.Add(await h.Submitter.SubmitAsync(RunnerHarness.Submission()));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await h.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(100), timeout.Token);

        foreach (var job in jobs)
        {
            var done = await h.Store.GetJobAsync(job.Id);
            Assert.Equal(JobState.Succeeded, done!.State);
            Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], done.Steps.Select(s => s.Name));
            Assert.True(File.Exists(Path.Combine(done.OutputFolder, "final.png")));
            Assert.Contains(done.Steps[^1].Outputs, o => o.File == "final.png");
            Assert.All(done.Steps.Where(s => s.Name is "inpaint" or "img2img"), s => Assert.StartsWith("box", s.Box));
        }

        var calls = h.Fleet!.Status().Select(b => b.Calls).ToArray();
        Assert.All(calls, c => Assert.True(c > 0, $"every box gets calls: {string.Join(", ", calls)}"));
    }
}
