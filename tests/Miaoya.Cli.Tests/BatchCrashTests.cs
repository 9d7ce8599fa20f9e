using System.Collections.Concurrent;
using System.Collections.Specialized;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Miaoya.Jobs;
using Miaoya.MockWebUi;
using WireMock.Logging;

namespace Miaoya.Cli.Tests;

/// <summary>
/// The real <c>miaoya batch</c> process killed with SIGKILL mid-run, then started again with the same command: every job
/// completes; a generation step that had finished before the kill is not sent to a box again (only a step that was in
/// flight at the kill may be rendered twice); no job is queued twice; every output file matches the sha256 in the store.
/// </summary>
public sealed class BatchCrashTests : IDisposable
{
    private const int Identities = 6;

    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-batch-crash-").FullName;

    /// <summary>(identity, step) → calls, over every box. The identity is read from the trigger word in the prompt.</summary>
    private readonly ConcurrentDictionary<(int Identity, string Step), int> _calls = new();

    /// <summary>Requests of any kind the boxes answered.</summary>
    private int _requests;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task KilledBatchProcess_RunAgain_CompletesEveryJobOnce_WithoutRedoingFinishedGenerations()
    {
        using var boxA = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(400) });
        using var boxB = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(400) });
        boxA.WireMock.LogEntriesChanged += Count;
        boxB.WireMock.LogEntriesChanged += Count;
        var jobsFile = await WriteBatchAsync();
        var output = Path.Combine(_folder, "out");
        var store = Path.Combine(output, "jobs.db");
        string[] args = ["batch", jobsFile, "--webui", boxA.Url.ToString(), "--webui", boxB.Url.ToString(), "--out", output, "--slots", "4"];

        // First run: killed once two jobs have succeeded and a generation step is in flight.
        var log = new ConcurrentQueue<string>();
        using (var first = CliProcess.Start(args, log))
        {
            try
            {
                await CliProcess.WaitUntilAsync(store, first, log, jobs =>
                    jobs.Count == Identities && jobs.Count(j => j.State == JobState.Succeeded) >= 2 &&
                    jobs.Any(j => j.Steps.Any(s => s.State == StepState.Running && s.Name is "inpaint" or "img2img")));
            }
            finally
            {
                first.Kill(); // SIGKILL: no handing back, no finally blocks; Quartz recovers the running steps when the batch starts again
                await first.WaitForExitAsync();
            }

            Assert.Equal(128 + 9, first.ExitCode);
        }

        IReadOnlyList<JobRecord> atKill;
        await using (var observer = await JobStore.OpenAsync(store))
        {
            atKill = await observer.ListJobsAsync();
        }

        var finishedBefore = Generations(atKill, StepState.Succeeded);
        var inFlight = Generations(atKill, StepState.Running);
        Assert.NotEmpty(finishedBefore);
        Assert.NotEmpty(inFlight);
        Assert.Contains(atKill, j => !j.IsFinished);
        // Calls the dead process left on the boxes (in flight, or queued behind the box's lock) finish and are counted first.
        for (var seen = -1; seen != Volatile.Read(ref _requests);)
        {
            seen = Volatile.Read(ref _requests);
            await Task.Delay(1500);
        }

        var callsBefore = new Dictionary<(int, string), int>(_calls);

        // Second run: the same command resumes the batch.
        var again = new ConcurrentQueue<string>();
        using (var second = CliProcess.Start(args, again))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await second.WaitForExitAsync(timeout.Token);
            Assert.True(second.ExitCode == 0, $"the resumed batch exited {second.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, again)}");
        }

        Assert.Contains(again, l => l.Contains($"{Identities} already in the store, 0 queued now", StringComparison.Ordinal));

        await using var check = await JobStore.OpenAsync(store);
        var jobs = await check.ListJobsAsync();
        Assert.Equal(Identities, jobs.Count); // no job queued twice
        Assert.Equal(atKill.Select(j => j.Id).Order(), jobs.Select(j => j.Id).Order());
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "batch.json")));
        Assert.Equal(jobs.Select(j => j.Id).Order(), record.RootElement.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).Order());
        foreach (var job in jobs)
        {
            Assert.Equal(JobState.Succeeded, job.State);
            var identity = Identity(job);
            foreach (var step in job.Steps)
            {
                Assert.Equal(StepState.Succeeded, step.State);
                Assert.NotEmpty(step.Outputs);
                foreach (var file in step.Outputs)
                {
                    var bytes = await File.ReadAllBytesAsync(Path.Combine(job.OutputFolder, file.File));
                    Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
                }

                if (step.Name is not ("inpaint" or "img2img"))
                {
                    continue;
                }

                var calls = _calls.GetValueOrDefault((identity, step.Name));
                var before = callsBefore.GetValueOrDefault((identity, step.Name));
                if (finishedBefore.Contains((job.Id, step.Name)))
                {
                    // Finished before the kill: rendered exactly once, and not again by the second run.
                    Assert.Equal(1, before);
                    Assert.Equal(1, calls);
                    Assert.Equal(1, step.Attempts);
                }
                else if (inFlight.Contains((job.Id, step.Name)))
                {
                    // In flight at the kill: the dead process's call may have reached the box, and the second run renders it
                    // again unless the dead process had already written its image into the job's folder (then it is restored).
                    // So: rendered once or twice, never more. (Which run made a second call cannot be told apart: on a loaded
                    // machine the dead process's request, already in the box's socket buffer, was once handled after the
                    // quiet period above, so it counted as the second run's.)
                    Assert.InRange(before, 0, 1);
                    Assert.InRange(calls, 1, 2);
                    Assert.Equal(2, step.Attempts); // the attempt of the killed process counts
                }
                else
                {
                    // Not started before the kill: rendered once, by the second run.
                    Assert.Equal(0, before);
                    Assert.Equal(1, calls);
                    Assert.Equal(1, step.Attempts);
                }
            }
        }

        Assert.Equal(2 * Identities, jobs.Sum(j => j.Steps.Count(s => s.Name is "inpaint" or "img2img")));
        Assert.DoesNotContain(_calls.Keys, k => k.Identity < 0); // every render was one of the batch's jobs
    }

    private static HashSet<(string Job, string Step)> Generations(IReadOnlyList<JobRecord> jobs, StepState state) =>
        jobs.SelectMany(j => j.Steps.Where(s => s.State == state && s.Name is "inpaint" or "img2img").Select(s => (j.Id, s.Name))).ToHashSet();

    private static int Identity(JobRecord job) =>
        JsonDocument.Parse(job.InputsJson).RootElement.GetProperty("identity").GetString() is ['p', .. var n] ? int.Parse(n, CultureInfo.InvariantCulture) : -1;

    /// <summary>Counts each img2img call (inpaint when it carries a mask) by the identity's trigger word <c>who_N</c> in its prompt.</summary>
    private void Count(object? sender, NotifyCollectionChangedEventArgs e)
    {
        foreach (var entry in e.NewItems?.OfType<ILogEntry>() ?? [])
        {
            Interlocked.Increment(ref _requests);
            if (entry.RequestMessage?.Path != "/sdapi/v1/img2img" || entry.RequestMessage.Body is not { } body)
            {
                continue;
            }

            using var json = JsonDocument.Parse(body);
            var prompt = json.RootElement.GetProperty("prompt").GetString() ?? "";
            var step = json.RootElement.TryGetProperty("mask", out var mask) && mask.ValueKind == JsonValueKind.String ? "inpaint" : "img2img";
            var identity = Enumerable.Range(0, Identities).Where(i => prompt.Contains($"who_{i}", StringComparison.Ordinal)).DefaultIfEmpty(-1).First();
            _calls.AddOrUpdate((identity, step), 1, (_, n) => n + 1);
        }
    }

    private async Task<string> WriteBatchAsync()
    {
        var template = Path.Combine(_folder, "astronaut.png");
        await using (var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!)
        await using (var file = File.Create(template))
        {
            await stream.CopyToAsync(file);
        }

        var identities = string.Join("\n", Enumerable.Range(0, Identities).Select(i => $"  - name: p{i}\n    lora: miaoya_demo_face:0.9\n    trigger: who_{i}"));
        var path = Path.Combine(_folder, "jobs.yaml");
        await File.WriteAllTextAsync(path, $"templates: [astronaut.png]\nidentities:\n{identities}\nrecipes: [v2]\nseed: 7\noverrides:\n  img2img.skip_if_delta_e_below: 0\n");
        return path;
    }
}
