using System.Globalization;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// The test assembly's entry point (GenerateProgramFile is off). The test host never calls it; the crash test starts this
/// assembly with <c>dotnet exec</c> as a separate worker process and kills it with SIGKILL mid-step.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is [SchedulerCrashTests.WorkerCommand, var schedulerDatabase])
        {
            return await SchedulerCrashTests.RunWorkerAsync(schedulerDatabase);
        }

        if (args is not ["crash-worker", var database, var worker, var hangAtStart])
        {
            await Console.Error.WriteLineAsync("usage: crash-worker DATABASE WORKER HANG_AT_START");
            return 2;
        }

        await using var store = await SqliteJobStore.OpenAsync(database);
        var hangAt = int.Parse(hangAtStart, CultureInfo.InvariantCulture);
        for (var starts = 1; ; starts++)
        {
            // An engine's firings, one after another: the first job's due step, started as this worker.
            var lease = await store.StartNextAsync(worker);
            if (lease is null)
            {
                return 0;
            }

            if (starts == hangAt)
            {
                // Stand-in for a long generation call; the test kills the process here, with the step running.
                await Task.Delay(TimeSpan.FromSeconds(20));
            }

            await store.CompleteStepAsync(lease, [new StepOutput($"{lease.StepName}.png", worker)]);
        }
    }
}
