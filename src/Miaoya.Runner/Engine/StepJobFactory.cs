using Quartz;
using Quartz.Extensibility;

namespace Miaoya.Runner.Engine;

/// <summary>Builds every firing's job around the one engine (the scheduler runs nothing else).</summary>
internal sealed class StepJobFactory(Func<JobEngine> engine) : IJobFactory
{
    public ValueTask<JobScope> CreateJob(TriggerFiredBundle bundle, IScheduler scheduler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        if (bundle.JobDetail.JobType.Type != typeof(RunStepJob))
        {
            throw new SchedulerException($"This scheduler runs Miaoya's steps only, not {bundle.JobDetail.JobType.Type}.");
        }

        return ValueTask.FromResult(new JobScope(new RunStepJob(engine())));
    }

    public ValueTask ReturnJob(JobScope scope, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
