using Quartz;

namespace Miaoya.Runner.Engine;

/// <summary>One firing of a step's trigger: hands it to the engine that owns this scheduler.</summary>
internal sealed class RunStepJob(JobEngine engine) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = context.MergedJobDataMap;
        return new ValueTask(engine.RunFiringAsync(
            data.GetString(QuartzStepScheduler.JobIdKey) ?? throw new JobExecutionException("The step's trigger names no job."),
            data.GetInt(QuartzStepScheduler.StepIndexKey),
            context.FireInstanceId,
            context.Recovering,
            cancellationToken));
    }
}
