using System.Diagnostics;
using System.Globalization;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// kill -9 of a real worker process mid-step (SQLite store): another worker takes the hanging step over (as an engine's
/// recovery firing does, <c>takeOver: true</c>) and finishes every job; the steps the dead process finished are not redone,
/// and nothing is duplicated.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-crash-").FullName;

    [Fact]
    public async Task KilledWorkerProcess_ItsStepIsTakenOver_AndEveryJobCompletesOnce()
    {
        var database = Path.Combine(_directory, "jobs.db");
        var ids = new List<string>();
        await using (var setup = await SqliteJobStore.OpenAsync(database))
        {
            for (var i = 0; i < 4; i++)
            {
                ids.Add((await setup.CreateJobAsync(new NewJob
                {
                    Recipe = "v2-portrait",
                    InputsJson = "{}",
                    OutputFolder = Path.Combine(_directory, $"job{i}"),
                    Steps = ["interrogate", "inpaint", "img2img"],
                })).Id);
            }
        }

        // The child finishes 4 steps (all of job 0, the first of job 1) and hangs in job 1's second step, which it started.
        var startedByChild = await RunAndKillChildAsync(database, "doomed", hangAtStart: 5);
        Assert.Equal(5, startedByChild.Count);
        var inFlight = startedByChild[^1];
        Assert.Equal((ids[1], 1), inFlight);

        await using var store = await SqliteJobStore.OpenAsync(database);
        var finishedByUs = new List<(string Job, int Step)>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while ((await store.ListJobsAsync()).Any(j => !j.IsFinished))
        {
            // The engine's recovery firing for the dead node's step: no lease to wait out, the step is taken over at once.
            var lease = await store.StartNextAsync("survivor", takeOver: true, timeout.Token);
            Assert.NotNull(lease);

            finishedByUs.Add((lease.JobId, lease.StepIndex));
            Assert.Equal(StepOutcome.Completed, await store.CompleteStepAsync(lease, [new StepOutput($"{lease.StepName}.png", "survivor")], timeout.Token));
        }

        Assert.Equal(ids.Count * 3, startedByChild.Count - 1 + finishedByUs.Count);
        Assert.Equal(inFlight, finishedByUs[0]); // the first due step is the one the dead worker left running
        Assert.Empty(startedByChild.Take(4).Intersect(finishedByUs));
        foreach (var id in ids)
        {
            var job = (await store.GetJobAsync(id))!;
            Assert.Equal(JobState.Succeeded, job.State);
            foreach (var step in job.Steps)
            {
                var takenOver = (id, step.Index) == inFlight;
                Assert.Equal(takenOver ? 2 : 1, step.Attempts);
                Assert.Equal(takenOver ? "worker 'doomed' stopped during attempt 1 (its node was recovered)" : null, step.LastError);
                Assert.Equal(startedByChild.Take(4).Contains((id, step.Index)) ? "doomed" : "survivor", step.Outputs.Single().Sha256);
            }

            var finishedEvents = (await store.ReadEventsAsync(id)).Where(e => e.Kind == JobEventKind.StepFinished).Select(e => e.Step);
            Assert.Equal(["interrogate", "inpaint", "img2img"], finishedEvents);
        }
    }

    /// <summary>Starts the worker process, waits (watching the database) until it runs its <paramref name="hangAtStart"/>th step, kills it.</summary>
    private static async Task<List<(string Job, int Step)>> RunAndKillChildAsync(string database, string worker, int hangAtStart)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { UseShellExecute = false };
        foreach (var arg in new[] { "exec", typeof(CrashTests).Assembly.Location, "crash-worker", database, worker, hangAtStart.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        await using var observer = await SqliteJobStore.OpenAsync(database);
        using var child = Process.Start(start)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            while (true)
            {
                var steps = (await observer.ListJobsAsync(cancellationToken: timeout.Token))
                    .SelectMany(j => j.Steps.Where(s => s.Worker == worker).Select(s => (j.Id, s)))
                    .ToList();
                if (steps.Count(x => x.s.State == StepState.Succeeded) == hangAtStart - 1 && steps.Any(x => x.s.State == StepState.Running))
                {
                    Assert.False(child.HasExited, "the worker process exited before it could be killed");
                    return [.. steps.OrderBy(x => x.s.StartedAt).Select(x => (x.Id, x.s.Index))];
                }

                Assert.False(child.HasExited, $"the worker process exited early with code {(child.HasExited ? child.ExitCode : 0)}");
                await Task.Delay(20, timeout.Token);
            }
        }
        finally
        {
            child.Kill(); // SIGKILL: no finally blocks, no disposal, no hand-back: the step stays running under the dead worker
            await child.WaitForExitAsync();
            Assert.Equal(128 + 9, child.ExitCode); // died of SIGKILL, not of its own accord
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
