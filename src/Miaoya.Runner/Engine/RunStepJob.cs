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
            new StepFiring(
                data.GetString(QuartzStepScheduler.JobIdKey) ?? throw new JobExecutionException("The step's trigger names no job."),
                data.GetInt(QuartzStepScheduler.StepIndexKey),
                context.FireInstanceId,
                context.Recovering || (data.ContainsKey(QuartzStepScheduler.TakeOverKey) && data.GetBoolean(QuartzStepScheduler.TakeOverKey)),
                context.Trigger.ExecutionGroup,
                context.JobDetail.Key.Name,
                context.Trigger.Key.Name,
                context.ScheduledFireTimeUtc),
            cancellationToken));
    }
}

/// <summary>One firing of a step's trigger, as the engine needs it.</summary>
/// <param name="JobId">The step's job.</param>
/// <param name="StepIndex">The step's place in its job.</param>
/// <param name="Id">The firing's id (the worker name's second half).</param>
/// <param name="Recovering">A recovery firing: the step may be taken over from the instance that died.</param>
/// <param name="ExecutionGroup">The trigger's execution group: a box's (<c>box:NAME</c>) when the step was placed on one.</param>
/// <param name="QuartzJob">The Quartz job's name (<c>job/step/attempt</c>).</param>
/// <param name="Trigger">The firing trigger's name.</param>
/// <param name="ScheduledAt">When the trigger was due (its place in the queue).</param>
internal sealed record StepFiring(string JobId, int StepIndex, string Id, bool Recovering, string? ExecutionGroup, string QuartzJob, string Trigger, DateTimeOffset? ScheduledAt);
