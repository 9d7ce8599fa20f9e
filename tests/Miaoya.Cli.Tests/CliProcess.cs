using System.Collections.Concurrent;
using System.Diagnostics;
using Miaoya.Jobs;

namespace Miaoya.Cli.Tests;

/// <summary>The built CLI (<c>miaoya.dll</c>, copied next to the test assembly) as its own process: for tests that kill or interrupt it.</summary>
internal static class CliProcess
{
    /// <summary>Starts <c>miaoya ARGS</c>; every line it prints goes to <paramref name="log"/>.</summary>
    public static Process Start(string[] args, ConcurrentQueue<string> log)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "exec", Path.Combine(AppContext.BaseDirectory, "miaoya.dll") }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Waits (up to 2 minutes) until the job store at <paramref name="store"/> exists and its jobs meet
    /// <paramref name="condition"/>; fails the test, with what the process printed, if it exits first.
    /// </summary>
    public static async Task WaitUntilAsync(string store, Process process, ConcurrentQueue<string> log, Func<IReadOnlyList<JobRecord>, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!File.Exists(store))
        {
            FailIfExited(process, log, "the batch exited early");
            await Task.Delay(20, timeout.Token);
        }

        await using var observer = await JobStore.OpenAsync(store);
        while (!condition(await observer.ListJobsAsync(cancellationToken: timeout.Token)))
        {
            FailIfExited(process, log, "the batch exited before the test could act");
            await Task.Delay(20, timeout.Token);
        }
    }

    private static void FailIfExited(Process process, ConcurrentQueue<string> log, string what)
    {
        if (process.HasExited)
        {
            Assert.Fail($"{what} ({process.ExitCode}):{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
        }
    }
}
