using System.Data.Common;
using System.Globalization;
using Miaoya.Jobs;
using Miaoya.Jobs.Scheduling;
using Miaoya.Pipeline;
using Quartz;

namespace Miaoya.Runner.Engine;

/// <summary>
/// The store's steps as Quartz.NET jobs: one job and one one-shot trigger per attempt of a step, keyed
/// <c>&lt;job id&gt;/&lt;step index&gt;/&lt;attempt&gt;</c>, stored with the store's rows in one transaction
/// (<c>IScheduler.EnlistTransaction</c>). The job asks for recovery, so a firing whose node died is fired again elsewhere.
/// </summary>
/// <param name="scheduler">The Quartz scheduler (started or not: one that only schedules still stores triggers).</param>
/// <param name="gate">SQLite: the file's write gate, taken before the store's transaction so that Quartz's lock and SQLite's
/// write lock are always taken in one order; null on PostgreSQL.</param>
/// <param name="placeOnBoxes">Whether a step that takes a box's generation slot waits to be placed on a box (<see cref="BoxPlacer"/>): true when the engine knows the fleet's boxes.</param>
/// <param name="scheduled">Called after a transaction that scheduled steps (the placer's signal).</param>
internal sealed class QuartzStepScheduler(IScheduler scheduler, SqliteWriteGate? gate, bool placeOnBoxes, Action? scheduled = null) : IStepScheduler
{
    private readonly IScheduler _scheduler = scheduler;
    private readonly Action? _scheduled = scheduled;

    internal const string Group = "miaoya-steps";

    public const string JobIdKey = "job";

    public const string StepIndexKey = "step";

    /// <summary>Trigger data: the firing may take the step over from the instance that ran it (a recovery firing placed again).</summary>
    public const string TakeOverKey = "take_over";

    public async ValueTask<IAsyncDisposable> EnterAsync(CancellationToken cancellationToken) =>
        gate is null ? NoGate.Instance : await gate.EnterAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Synchronous on purpose: the enlistment (and the SQLite gate's mark) live in the caller's asynchronous flow, so every
    /// scheduling call the store makes until it disposes the result runs in its transaction.
    /// </summary>
    public IStepSchedulerTransaction Join(DbTransaction transaction) =>
        new Joined(this, gate?.HoldForThisFlow(), _scheduler.EnlistTransaction(transaction));

    public static JobKey KeyOf(string jobId, int stepIndex, int attempt) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{jobId}/{stepIndex}/{attempt}"), Group);

    /// <summary>Schedules <paramref name="ticket"/> unless a trigger for the same attempt exists (start-up check).</summary>
    public async Task<bool> ScheduleIfMissingAsync(StepTicket ticket, CancellationToken cancellationToken)
    {
        var key = KeyOf(ticket.JobId, ticket.StepIndex, ticket.Attempt);
        if ((await _scheduler.GetTriggersOfJob(key, cancellationToken)).Count > 0)
        {
            return false;
        }

        try
        {
            await _scheduler.ScheduleJob(Job(ticket, key), Trigger(key.Name, key.Name, ticket.NotBefore, GroupOf(ticket)), cancellationToken: cancellationToken);
            return true;
        }
        catch (ObjectAlreadyExistsException)
        {
            return false;
        }
    }

    private static IJobDetail Job(StepTicket ticket, JobKey key) =>
        JobBuilder.Create<RunStepJob>()
            .WithIdentity(key)
            .RequestRecovery()
            .UsingJobData(JobIdKey, ticket.JobId)
            .UsingJobData(StepIndexKey, ticket.StepIndex)
            .WithDescription(ticket.StepName)
            .Build();

    /// <summary>The execution group a new trigger of <paramref name="ticket"/> starts in: waiting for a box when its step takes a slot.</summary>
    private string? GroupOf(StepTicket ticket) =>
        placeOnBoxes && PortraitPipeline.TakesBoxSlot(ticket.StepName) ? StepSchedulerFactory.WaitingForBoxGroup : null;

    /// <summary>
    /// A trigger named <paramref name="name"/> of the step attempt whose Quartz job is <paramref name="job"/> (the first
    /// trigger of an attempt has the job's name), due at <paramref name="due"/>, in the execution <paramref name="group"/>.
    /// </summary>
    public static ITrigger Trigger(string name, string job, DateTimeOffset due, string? group, bool takeOver = false) =>
        TriggerBuilder.Create()
            .UsingJobData(TakeOverKey, takeOver)
            .WithIdentity(name, Group)
            .ForJob(job, Group)
            .StartAt(due)
            // NotBefore is the job's queue time for a step that is due now, so the oldest job's step fires first (as
            // claims did); a fire time in the past is not a misfire to handle, it is that order.
            .WithSimpleSchedule(x => x.WithMisfireInstruction(SimpleTriggerMisfireInstruction.IgnoreMisfires))
            .WithExecutionGroup(group)
            .Build();

    private sealed class Joined(QuartzStepScheduler owner, IDisposable? gateMark, IDisposable enlistment) : IStepSchedulerTransaction
    {
        private bool _scheduled;

        public async Task ScheduleAsync(StepTicket ticket, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(ticket);
            var key = KeyOf(ticket.JobId, ticket.StepIndex, ticket.Attempt);
            await owner._scheduler.ScheduleJob(Job(ticket, key), Trigger(key.Name, key.Name, ticket.NotBefore, owner.GroupOf(ticket)), cancellationToken: cancellationToken).ConfigureAwait(false);
            _scheduled = true;
        }

        /// <summary>Ends the enlistment after the commit, which tells the scheduler about the new triggers.</summary>
        public void Dispose()
        {
            enlistment.Dispose();
            gateMark?.Dispose();
            if (_scheduled)
            {
                owner._scheduled?.Invoke();
            }
        }
    }

    private sealed class NoGate : IAsyncDisposable
    {
        public static readonly NoGate Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
