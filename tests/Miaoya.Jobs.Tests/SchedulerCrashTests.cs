using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Miaoya.Jobs.Scheduling;
using Xunit.Abstractions;
using static Miaoya.Jobs.Tests.SchedulingTestKit;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// kill -9 of a real process running a step on SQLite: the step requested recovery, so the next scheduler to start on the
/// file runs it again, flagged <c>Recovering</c>.
/// </summary>
public sealed class SchedulerCrashTests(ITestOutputHelper output) : IDisposable
{
    public const string WorkerCommand = "scheduler-worker";

    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-sched-crash-").FullName;

    [Fact]
    public async Task KilledProcess_ItsRecoverableStepRunsAgainAfterRestart_FlaggedRecovering()
    {
        // Arrange: a child process schedules one step and hangs in it; we kill it there.
        var database = Path.Combine(_directory, "jobs.db");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "exec", typeof(SchedulerCrashTests).Assembly.Location, WorkerCommand, database })
        {
            start.ArgumentList.Add(arg);
        }

        string firstFire;
        using (var child = Process.Start(start)!)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                string? line;
                while ((line = await child.StandardOutput.ReadLineAsync(timeout.Token)) is not null && !line.StartsWith("fired ", StringComparison.Ordinal))
                {
                }

                Assert.NotNull(line);
                firstFire = line["fired ".Length..];
            }
            finally
            {
                child.Kill(); // SIGKILL
                await child.WaitForExitAsync();
            }

            Assert.Equal(128 + 9, child.ExitCode);
        }

        // Act: a new scheduler starts on the file.
        var log = new FiringLog();
        var scheduler = await StepSchedulerFactory.CreateAsync(Sqlite(database), new ProbeJobFactory((context, _) =>
        {
            log.Started(context);
            return Task.CompletedTask;
        }));
        try
        {
            var restarted = log.Elapsed;
            await scheduler.Start();

            // Assert
            await log.WaitUntilAsync(f => f.Count > 0, TimeSpan.FromSeconds(20), "the killed step to run again");
            var again = Assert.Single(log.Firings);
            Assert.Equal("crashing", again.Job);
            Assert.True(again.Recovering);
            output.WriteLine($"first fire instance id {firstFire.Split(' ')[0]}, recovery fire {again.FireInstanceId}; ran {(again.Started - restarted).TotalMilliseconds:0} ms after Start");
        }
        finally
        {
            await ShutdownAllAsync(scheduler);
        }
    }

    /// <summary>The child process: schedule the step, start, print "fired FIRE_INSTANCE_ID RECOVERING" from inside it, hang there.</summary>
    public static async Task<int> RunWorkerAsync(string database)
    {
        var scheduler = await StepSchedulerFactory.CreateAsync(Sqlite(database), new ProbeJobFactory(async (context, cancellationToken) =>
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fired {context.FireInstanceId} {context.Recovering}"));
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }));
        await scheduler.ScheduleJob(ProbeJob("crashing"), Now("crashing"));
        await scheduler.Start();
        await Task.Delay(TimeSpan.FromMinutes(2));
        return 1;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
