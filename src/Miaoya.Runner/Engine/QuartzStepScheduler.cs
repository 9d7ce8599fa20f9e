using System.Data.Common;
using System.Globalization;
using Miaoya.Jobs;
using Miaoya.Jobs.Scheduling;
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
internal sealed class QuartzStepScheduler(IScheduler scheduler, SqliteWriteGate? gate) : IStepScheduler
{
    internal const string Group = "miaoya-steps";

    public const string JobIdKey = "job";

    public const string StepIndexKey = "step";

    public async ValueTask<IAsyncDisposable> EnterAsync(CancellationToken cancellationToken) =>
        gate is null ? NoGate.Instance : await gate.EnterAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Synchronous on purpose: the enlistment (and the SQLite gate's mark) live in the caller's asynchronous flow, so every
    /// scheduling call the store makes until it disposes the result runs in its transaction.
    /// </summary>
    public IStepSchedulerTransaction Join(DbTransaction transaction) =>
        new Joined(scheduler, gate?.HoldForThisFlow(), scheduler.EnlistTransaction(transaction));

    public static JobKey KeyOf(string jobId, int stepIndex, int attempt) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{jobId}/{stepIndex}/{attempt}"), Group);

    /// <summary>Schedules <paramref name="ticket"/> unless a trigger for the same attempt exists (start-up check).</summary>
    public static async Task<bool> ScheduleIfMissingAsync(IScheduler scheduler, StepTicket ticket, CancellationToken cancellationToken)
    {
        var key = KeyOf(ticket.JobId, ticket.StepIndex, ticket.Attempt);
        if ((await scheduler.GetTriggersOfJob(key, cancellationToken)).Count > 0)
        {
            return false;
        }

        try
        {
            await scheduler.ScheduleJob(Job(ticket, key), Trigger(ticket, key), cancellationToken: cancellationToken);
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

    private static ITrigger Trigger(StepTicket ticket, JobKey key) =>
        TriggerBuilder.Create()
            .WithIdentity(key.Name, key.Group)
            .ForJob(key)
            .StartAt(ticket.NotBefore)
            // NotBefore is the job's queue time for a step that is due now, so the oldest job's step fires first (as
            // claims did); a fire time in the past is not a misfire to handle, it is that order.
            .WithSimpleSchedule(x => x.WithMisfireInstruction(SimpleTriggerMisfireInstruction.IgnoreMisfires))
            .Build();

    private sealed class Joined(IScheduler scheduler, IDisposable? gateMark, IDisposable enlistment) : IStepSchedulerTransaction
    {
        public async Task ScheduleAsync(StepTicket ticket, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(ticket);
            var key = KeyOf(ticket.JobId, ticket.StepIndex, ticket.Attempt);
            await scheduler.ScheduleJob(Job(ticket, key), Trigger(ticket, key), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Ends the enlistment after the commit, which tells the scheduler about the new triggers.</summary>
        public void Dispose()
        {
            enlistment.Dispose();
            gateMark?.Dispose();
        }
    }

    private sealed class NoGate : IAsyncDisposable
    {
        public static readonly NoGate Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
