using System.Collections.Concurrent;
using System.Data.Common;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// A fake engine for <see cref="IJobStore.AttachScheduler"/>: records every ticket the store hands it, whether that happened
/// inside the store's turn and open transaction, and the order of its calls; can hold the store at its turn or refuse a ticket.
/// </summary>
internal sealed class RecordingScheduler : IStepScheduler
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _inTurn;

    public ConcurrentQueue<ScheduledTicket> Scheduled { get; } = new();

    /// <summary>What the store called, in order: enter, join, schedule, join disposed, exit (with <see cref="ExitProbe"/>'s answer).</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>When set, <see cref="EnterAsync"/> waits for it (the engine's turn is taken elsewhere).</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>When set, <see cref="IStepSchedulerTransaction.ScheduleAsync"/> throws it (the engine could not store its trigger).</summary>
    public Exception? FailWith { get; set; }

    /// <summary>Asked when the store ends its turn (e.g. whether what it wrote is committed, read from another instance).</summary>
    public Func<Task<string>>? ExitProbe { get; set; }

    /// <summary>Runs inside <see cref="IStepSchedulerTransaction.ScheduleAsync"/>, with the store's transaction.</summary>
    public Func<StepTicket, DbTransaction, Task>? OnSchedule { get; set; }

    public IEnumerable<StepTicket> Tickets => Scheduled.Select(s => s.Ticket);

    /// <summary>Completes once the store has asked for its turn.</summary>
    public Task Entered => _entered.Task;

    public async ValueTask<IAsyncDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        Calls.Enqueue("enter");
        _entered.TrySetResult();
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        Interlocked.Increment(ref _inTurn);
        return new Turn(this);
    }

    public IStepSchedulerTransaction Join(DbTransaction transaction)
    {
        Calls.Enqueue("join");
        return new Joined(this, transaction);
    }

    /// <summary>A statement on the store's transaction: what the store wrote so far, as it will commit it.</summary>
    public static async Task<object?> ScalarAsync(DbTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // the tests' own constant SQL
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        var result = await command.ExecuteScalarAsync();
        return result is DBNull ? null : result;
    }

    public sealed record ScheduledTicket(StepTicket Ticket, bool TransactionOpen, bool InTurn);

    private sealed class Turn(RecordingScheduler owner) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            owner.Calls.Enqueue(owner.ExitProbe is { } probe ? $"exit ({await probe()})" : "exit");
            Interlocked.Decrement(ref owner._inTurn);
        }
    }

    private sealed class Joined(RecordingScheduler owner, DbTransaction transaction) : IStepSchedulerTransaction
    {
        public async Task ScheduleAsync(StepTicket ticket, CancellationToken cancellationToken)
        {
            owner.Calls.Enqueue("schedule");
            if (owner.OnSchedule is { } onSchedule)
            {
                await onSchedule(ticket, transaction);
            }

            if (owner.FailWith is { } error)
            {
                throw error;
            }

            owner.Scheduled.Enqueue(new ScheduledTicket(ticket, transaction.Connection is not null, Volatile.Read(ref owner._inTurn) > 0));
        }

        public void Dispose() => owner.Calls.Enqueue("join disposed");
    }
}
