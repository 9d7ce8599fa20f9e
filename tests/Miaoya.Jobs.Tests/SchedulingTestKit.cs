using System.Collections.Concurrent;
using System.Diagnostics;
using Miaoya.Jobs.Scheduling;
using Quartz;
using Quartz.Extensibility;

namespace Miaoya.Jobs.Tests;

/// <summary>The job type the scheduling tests store; <see cref="ProbeJobFactory"/> runs the test's delegate in its place.</summary>
public sealed class ProbeJob : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("ProbeJob runs through ProbeJobFactory only.");
}

/// <summary>Runs <paramref name="run"/> for every firing, whatever job type was stored.</summary>
public sealed class ProbeJobFactory(Func<IJobExecutionContext, CancellationToken, Task> run) : IJobFactory
{
    public ValueTask<JobScope> CreateJob(TriggerFiredBundle bundle, IScheduler scheduler, CancellationToken cancellationToken = default) =>
        new(new JobScope(new DelegateJob(run), new object()));

    public ValueTask ReturnJob(JobScope scope, CancellationToken cancellationToken = default) => default;

    private sealed class DelegateJob(Func<IJobExecutionContext, CancellationToken, Task> run) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
            await run(context, cancellationToken);
    }
}

/// <summary>One firing as a probe job saw it.</summary>
public sealed record Firing(string Job, string Instance, string FireInstanceId, bool Recovering, TimeSpan Started, TimeSpan? Ended = null);

/// <summary>What probe jobs did, with times on one stopwatch; how many ran at once at most.</summary>
public sealed class FiringLog
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Firing> _firings = new();
    private int _running;
    private int _maxRunning;

    public TimeSpan Elapsed => _clock.Elapsed;

    public IReadOnlyList<Firing> Firings => [.. _firings];

    public int MaxRunning => Volatile.Read(ref _maxRunning);

    /// <summary>A job that records its firing and then waits <paramref name="duration"/> (or until cancelled, which it rethrows).</summary>
    public Func<IJobExecutionContext, CancellationToken, Task> Run(TimeSpan duration) => async (context, cancellationToken) =>
    {
        var running = Interlocked.Increment(ref _running);
        InterlockedMax(ref _maxRunning, running);
        var started = _clock.Elapsed;
        try
        {
            await Task.Delay(duration, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            _firings.Enqueue(new Firing(context.JobDetail.Key.Name, context.Scheduler.SchedulerInstanceId, context.FireInstanceId, context.Recovering, started, _clock.Elapsed));
        }
    };

    /// <summary>Records a firing the moment it starts (for jobs that never end in the test).</summary>
    public void Started(IJobExecutionContext context) =>
        _firings.Enqueue(new Firing(context.JobDetail.Key.Name, context.Scheduler.SchedulerInstanceId, context.FireInstanceId, context.Recovering, _clock.Elapsed));

    public async Task WaitUntilAsync(Func<IReadOnlyList<Firing>, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = _clock.Elapsed + timeout;
        while (!condition(Firings))
        {
            Assert.True(_clock.Elapsed < deadline, $"timed out after {timeout.TotalSeconds} s waiting for {what}; firings: {string.Join("; ", Firings)}");
            await Task.Delay(50);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}

internal static class SchedulingTestKit
{
    public static IJobDetail ProbeJob(string name, bool requestRecovery = true) =>
        JobBuilder.Create<ProbeJob>().WithIdentity(name, "steps").RequestRecovery(requestRecovery).Build();

    public static ITrigger Now(string name, string? executionGroup = null)
    {
        var trigger = TriggerBuilder.Create().WithIdentity(name, "steps").StartNow();
        return (executionGroup is null ? trigger : trigger.WithExecutionGroup(executionGroup)).Build();
    }

    /// <summary>Shuts every scheduler down without waiting for its jobs, whatever happens to the others.</summary>
    public static async Task ShutdownAllAsync(params IScheduler?[] schedulers)
    {
        foreach (var scheduler in schedulers)
        {
            if (scheduler is not null)
            {
                await scheduler.Shutdown(waitForJobsToComplete: false);
            }
        }
    }

    public static StepSchedulerSettings Sqlite(string database) => new() { Location = database, Threads = 4 };
}

/// <summary>A host clock that is wrong by a fixed amount; everything else is the system's.</summary>
public sealed class SkewedClock(TimeSpan skew) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
}
