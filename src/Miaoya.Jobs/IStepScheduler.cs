using System.Data.Common;

namespace Miaoya.Jobs;

/// <summary>
/// One step that is due to run: the job, the step's index and name, the attempt this run will be, and the time it is due
/// from: a retry's end of backoff, else the job's queue time (so running due steps in <see cref="NotBefore"/> order runs
/// the oldest job's first).
/// </summary>
public sealed record StepTicket(string JobId, int StepIndex, string StepName, int Attempt, DateTimeOffset NotBefore);

/// <summary>
/// The engine that runs steps (Quartz.NET in <c>Miaoya.Runner</c>). The store hands it each step that becomes due — a new
/// job's first step, the step after one that succeeded, a retry after its backoff — inside the same database transaction
/// as the rows that make the step due, so the two are committed together or not at all.
/// </summary>
public interface IStepScheduler
{
    /// <summary>
    /// Awaited before the store begins a write transaction that will call <see cref="Join"/>; disposed after that
    /// transaction ends. SQLite has one writer: the engine's own writes and ours must take their locks in one order.
    /// </summary>
    ValueTask<IAsyncDisposable> EnterAsync(CancellationToken cancellationToken);

    /// <summary>Joins <paramref name="transaction"/>; dispose the result after the commit (or rollback).</summary>
    IStepSchedulerTransaction Join(DbTransaction transaction);
}

/// <summary>The engine's side of one store transaction.</summary>
public interface IStepSchedulerTransaction : IDisposable
{
    /// <summary>Makes <paramref name="ticket"/> run at or after its <see cref="StepTicket.NotBefore"/> once the transaction commits.</summary>
    Task ScheduleAsync(StepTicket ticket, CancellationToken cancellationToken);
}

/// <summary>The turn of a store without an engine: nothing to wait for.</summary>
internal sealed class NoTurn : IAsyncDisposable
{
    public static readonly NoTurn Instance = new();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
