using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Miaoya.Jobs.SqlCommands;

namespace Miaoya.Jobs;

/// <summary>
/// A step's life in the store: started by an engine's firing (or taken over by a recovery firing), checked while it runs,
/// and reported as completed, failed or handed back; each report is a compare-and-set on (job, step, worker, attempt).
/// </summary>
public abstract partial class SqlJobStore
{
    public async Task<StepLease?> StartStepAsync(string jobId, int stepIndex, string worker, bool takeOver, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                // The job row first, as every other writer takes it (then its steps): the FOR UPDATE over steps JOIN jobs below
                // alone takes the step row first, which deadlocks (PostgreSQL) with a cancel, delete or report on the same job.
                if (!await LockJobAsync(connection, tx, jobId, cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                // The time is read once the write lock (and the job's row lock) is held, so nothing written here is stale on arrival.
                var now = NowMs;
                var candidate = await ReadStartableAsync(connection, tx, jobId, stepIndex, cancellationToken).ConfigureAwait(false);
                if (candidate is not { } c || c.JobFinished || !c.PreviousDone || c.State is not ("pending" or "running") ||
                    (c.State == "running" && !takeOver && c.Worker != worker))
                {
                    // Unknown, finished or cancelled job, a step that is done, not yet due, or run by a live worker: a stale
                    // trigger, which does nothing.
                    return null;
                }

                var lostNote = c.State == "running" && c.Worker != worker
                    ? $"worker '{c.Worker}' stopped during attempt {c.Attempts} (its node was recovered)"
                    : null;
                if (lostNote is not null && c.Attempts >= c.MaxAttempts)
                {
                    await FailJobAsync(connection, tx, jobId, stepIndex, c.Name, lostNote, c.Attempts, now, cancellationToken).ConfigureAwait(false);
                    await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return null;
                }

                var attempt = c.State == "running" && c.Worker == worker ? c.Attempts : c.Attempts + 1;
                await ExecAsync(connection, tx,
                    "UPDATE steps SET state = 'running', attempts = @attempt, worker = @worker, started_at = @now, " +
                    "finished_at = NULL, box = NULL, cancel_requested = 0, last_error = COALESCE(@note, last_error) WHERE job_id = @job AND idx = @idx",
                    cancellationToken, ("attempt", (long)attempt), ("worker", worker), ("now", now),
                    ("note", lostNote), ("job", jobId), ("idx", (long)stepIndex)).ConfigureAwait(false);
                await ExecAsync(connection, tx,
                    "UPDATE jobs SET state = 'running', updated_at = @now WHERE id = @job",
                    cancellationToken, ("now", now), ("job", jobId)).ConfigureAwait(false);
                await InsertEventAsync(connection, tx, jobId, JobEventKind.StepStarted, c.Name,
                    new JsonObject { ["attempt"] = attempt, ["worker"] = worker }.ToJsonString(), now, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new StepLease(jobId, stepIndex, c.Name, worker, attempt, c.Recipe, c.RecipeInline, c.Inputs, c.Folder);
            }
        }
    }

    private async Task<Startable?> ReadStartableAsync(
        DbConnection connection, DbTransaction tx, string jobId, int stepIndex, CancellationToken cancellationToken)
    {
        var sql =
            "SELECT s.name, s.state, s.attempts, s.worker, j.max_attempts, j.recipe, j.recipe_inline, j.inputs, j.output_folder, j.state, " +
            "(SELECT COUNT(*) FROM steps p WHERE p.job_id = s.job_id AND p.idx < s.idx AND p.state <> 'succeeded') " +
            "FROM steps s JOIN jobs j ON j.id = s.job_id WHERE s.job_id = @job AND s.idx = @idx " + RowLockClause;
        var command = Command(connection, tx, sql, ("job", jobId), ("idx", (long)stepIndex));
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                return new Startable(
                    reader.GetString(0), reader.GetString(1), (int)reader.GetInt64(2), Str(reader, 3), (int)reader.GetInt64(4), reader.GetString(5),
                    reader.GetInt64(6) != 0, reader.GetString(7), reader.GetString(8), reader.GetString(9) is not ("queued" or "running"), reader.GetInt64(10) == 0);
            }
        }
    }

    public async Task<LeaseStatus> CheckStepAsync(StepLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await ReadHolderAsync(connection, null, lease, cancellationToken).ConfigureAwait(false) switch
            {
                Holder.Held => LeaseStatus.Held,
                Holder.CancelledWhileHeld => LeaseStatus.CancelRequested,
                _ => LeaseStatus.Lost,
            };
        }
    }

    public async Task<IReadOnlyList<StepTicket>> ListDueStepsAsync(int limit = 1000, CancellationToken cancellationToken = default)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var due = new List<StepTicket>();
            await ReadRowsAsync(connection, null,
                "SELECT s.job_id, s.idx, s.name, s.attempts, CASE WHEN s.next_attempt_at > j.created_at THEN s.next_attempt_at ELSE j.created_at END " +
                "FROM steps s JOIN jobs j ON j.id = s.job_id " +
                "WHERE j.state IN ('queued', 'running') AND s.state IN ('pending', 'running') " +
                "AND NOT EXISTS (SELECT 1 FROM steps p WHERE p.job_id = s.job_id AND p.idx < s.idx AND p.state <> 'succeeded') " +
                "ORDER BY j.seq LIMIT @limit",
                r => due.Add(new StepTicket(r.GetString(0), (int)r.GetInt64(1), r.GetString(2), (int)r.GetInt64(3) + 1, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)))),
                cancellationToken, ("limit", (long)limit)).ConfigureAwait(false);
            return due;
        }
    }

    public async Task<LeaseStatus> SetStepBoxAsync(StepLease lease, string box, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrWhiteSpace(box);
        return await UpdateHeldStepAsync(lease, "box = @value", box, cancellationToken).ConfigureAwait(false);
    }

    private async Task<LeaseStatus> UpdateHeldStepAsync(StepLease lease, string assignment, object value, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // A single-row compare-and-set: only the holder of this attempt, while the step is still running.
            var rows = await ExecAsync(connection, null,
                $"UPDATE steps SET {assignment} WHERE job_id = @job AND idx = @idx AND worker = @worker AND attempts = @attempt AND state = 'running'",
                cancellationToken, ("value", value), ("job", lease.JobId), ("idx", (long)lease.StepIndex), ("worker", lease.Worker),
                ("attempt", (long)lease.Attempt)).ConfigureAwait(false);
            if (rows == 1)
            {
                return LeaseStatus.Held;
            }

            var held = await ReadHolderAsync(connection, null, lease, cancellationToken).ConfigureAwait(false);
            return held == Holder.CancelledWhileHeld ? LeaseStatus.CancelRequested : LeaseStatus.Lost;
        }
    }

    public Task<StepOutcome> CompleteStepAsync(StepLease lease, IReadOnlyList<StepOutput> outputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(outputs);
        return ReportAsync(lease, error: null, async (connection, tx, now, joined) =>
        {
            var outputsJson = JsonSerializer.Serialize(outputs, OutputsJson);
            await ExecAsync(connection, tx,
                "UPDATE steps SET state = 'succeeded', finished_at = @now, outputs = @outputs WHERE job_id = @job AND idx = @idx",
                cancellationToken, ("now", now), ("outputs", outputsJson), ("job", lease.JobId), ("idx", (long)lease.StepIndex)).ConfigureAwait(false);
            await InsertEventAsync(connection, tx, lease.JobId, JobEventKind.StepFinished, lease.StepName,
                new JsonObject { ["attempt"] = lease.Attempt, ["outputs"] = JsonNode.Parse(outputsJson) }.ToJsonString(), now, cancellationToken).ConfigureAwait(false);
            var remaining = Convert.ToInt64(
                await ScalarAsync(connection, tx, "SELECT COUNT(*) FROM steps WHERE job_id = @job AND state <> 'succeeded'", cancellationToken, ("job", lease.JobId))
                    .ConfigureAwait(false),
                CultureInfo.InvariantCulture);
            if (remaining == 0)
            {
                await ExecAsync(connection, tx, "UPDATE jobs SET state = 'succeeded', updated_at = @now WHERE id = @job",
                    cancellationToken, ("now", now), ("job", lease.JobId)).ConfigureAwait(false);
                await InsertEventAsync(connection, tx, lease.JobId, JobEventKind.JobSucceeded, null, null, now, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await TouchJobAsync(connection, tx, lease.JobId, now, cancellationToken).ConfigureAwait(false);
                if (joined is not null)
                {
                    var next = await ScalarAsync(connection, tx, "SELECT name FROM steps WHERE job_id = @job AND idx = @idx", cancellationToken,
                        ("job", lease.JobId), ("idx", (long)lease.StepIndex + 1)).ConfigureAwait(false) as string;
                    if (next is not null)
                    {
                        // Due since the job was queued: an engine firing steps in NotBefore order runs the oldest job's first.
                        var queued = Convert.ToInt64(
                            await ScalarAsync(connection, tx, "SELECT created_at FROM jobs WHERE id = @job", cancellationToken, ("job", lease.JobId)).ConfigureAwait(false),
                            CultureInfo.InvariantCulture);
                        await joined.ScheduleAsync(new StepTicket(lease.JobId, lease.StepIndex + 1, next, 1, DateTimeOffset.FromUnixTimeMilliseconds(queued)), cancellationToken)
                            .ConfigureAwait(false);
                    }
                }
            }

            return StepOutcome.Completed;
        }, cancellationToken);
    }

    public Task<StepOutcome> FailStepAsync(StepLease lease, string message, bool permanent = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(message);
        return ReportAsync(lease, message, async (connection, tx, now, joined) =>
        {
            var maxAttempts = Convert.ToInt64(
                await ScalarAsync(connection, tx, "SELECT max_attempts FROM jobs WHERE id = @job", cancellationToken, ("job", lease.JobId)).ConfigureAwait(false),
                CultureInfo.InvariantCulture);
            if (permanent || lease.Attempt >= maxAttempts)
            {
                await FailJobAsync(connection, tx, lease.JobId, lease.StepIndex, lease.StepName, message, lease.Attempt, now, cancellationToken).ConfigureAwait(false);
                return StepOutcome.JobFailed;
            }

            var next = now + (long)Options.RetryDelay(lease.Attempt).TotalMilliseconds;
            await ExecAsync(connection, tx,
                "UPDATE steps SET state = 'pending', last_error = @error, finished_at = @now, next_attempt_at = @next " +
                "WHERE job_id = @job AND idx = @idx",
                cancellationToken, ("error", message), ("now", now), ("next", next), ("job", lease.JobId), ("idx", (long)lease.StepIndex)).ConfigureAwait(false);
            await InsertEventAsync(connection, tx, lease.JobId, JobEventKind.StepRetrying, lease.StepName,
                new JsonObject
                {
                    ["attempt"] = lease.Attempt,
                    ["error"] = message,
                    ["next_attempt_at"] = DateTimeOffset.FromUnixTimeMilliseconds(next).ToString("O", CultureInfo.InvariantCulture),
                }.ToJsonString(), now, cancellationToken).ConfigureAwait(false);
            await TouchJobAsync(connection, tx, lease.JobId, now, cancellationToken).ConfigureAwait(false);
            if (joined is not null)
            {
                await joined.ScheduleAsync(new StepTicket(lease.JobId, lease.StepIndex, lease.StepName, lease.Attempt + 1, DateTimeOffset.FromUnixTimeMilliseconds(next)), cancellationToken)
                    .ConfigureAwait(false);
            }

            return StepOutcome.RetryScheduled;
        }, cancellationToken);
    }

    /// <summary>
    /// A worker's final report on its step, in one write transaction: the job row locked, the lease checked (a report
    /// from a worker that no longer holds the step is settled without writing its result), then <paramref name="held"/>
    /// writes the result and the transaction commits.
    /// </summary>
    private async Task<StepOutcome> ReportAsync(
        StepLease lease, string? error, Func<DbConnection, DbTransaction, long, IStepSchedulerTransaction?, Task<StepOutcome>> held, CancellationToken cancellationToken)
    {
        var scheduler = _scheduler;
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var (turn, tx) = await BeginSchedulingWriteAsync(scheduler, connection, cancellationToken).ConfigureAwait(false);
            await using (turn.ConfigureAwait(false))
            await using (tx.ConfigureAwait(false))
            {
                var now = NowMs;
                if (!await LockJobAsync(connection, tx, lease.JobId, cancellationToken).ConfigureAwait(false))
                {
                    return StepOutcome.LeaseLost;
                }

                var holder = await ReadHolderAsync(connection, tx, lease, cancellationToken).ConfigureAwait(false);
                if (holder != Holder.Held)
                {
                    return await SettleUnheldAsync(connection, tx, lease, holder, now, cancellationToken, error).ConfigureAwait(false);
                }

                using var joined = scheduler?.Join(tx);
                var outcome = await held(connection, tx, now, joined).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return outcome;
            }
        }
    }

    public async Task<bool> ReturnStepAsync(StepLease lease, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                // The job row's lock, as for every write that appends an event: its number is MAX + 1 under that lock.
                if (!await LockJobAsync(connection, tx, lease.JobId, cancellationToken).ConfigureAwait(false))
                {
                    return false;
                }

                var now = NowMs;
                var rows = await ExecAsync(connection, tx,
                    "UPDATE steps SET state = 'pending', attempts = attempts - 1, worker = NULL, box = NULL, started_at = NULL, " +
                    "next_attempt_at = @now WHERE job_id = @job AND idx = @idx AND worker = @worker AND attempts = @attempt AND state = 'running'",
                    cancellationToken, ("now", now), ("job", lease.JobId), ("idx", (long)lease.StepIndex),
                    ("worker", lease.Worker), ("attempt", (long)lease.Attempt)).ConfigureAwait(false);
                if (rows != 1)
                {
                    return false;
                }

                // Said in the event log, so a reader of the stream sees why the same attempt starts again.
                await InsertEventAsync(connection, tx, lease.JobId, JobEventKind.StepReturned, lease.StepName,
                    new JsonObject { ["attempt"] = lease.Attempt, ["worker"] = lease.Worker, ["reason"] = reason }.ToJsonString(), now, cancellationToken)
                    .ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    private enum Holder
    {
        Held,
        CancelledWhileHeld,
        NotHeld,
    }

    private readonly record struct Startable(
        string Name, string State, int Attempts, string? Worker, int MaxAttempts, string Recipe, bool RecipeInline, string Inputs, string Folder,
        bool JobFinished, bool PreviousDone);

    /// <summary>Whether the caller of <paramref name="lease"/> still holds the step (or held it when the job was cancelled).</summary>
    private static async Task<Holder> ReadHolderAsync(DbConnection connection, DbTransaction? tx, StepLease lease, CancellationToken cancellationToken)
    {
        var command = Command(connection, tx,
            "SELECT state, worker, attempts, cancel_requested FROM steps WHERE job_id = @job AND idx = @idx",
            ("job", lease.JobId), ("idx", (long)lease.StepIndex));
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return Holder.NotHeld;
                }

                var mine = Str(reader, 1) == lease.Worker && reader.GetInt64(2) == lease.Attempt;
                if (!mine)
                {
                    return Holder.NotHeld;
                }

                return reader.GetString(0) switch
                {
                    "running" => Holder.Held,
                    "cancelled" when reader.GetInt64(3) != 0 => Holder.CancelledWhileHeld,
                    _ => Holder.NotHeld,
                };
            }
        }
    }

    /// <summary>A report from a worker that no longer holds the step: note a cancelled step's last word, otherwise write nothing.</summary>
    private static async Task<StepOutcome> SettleUnheldAsync(
        DbConnection connection, DbTransaction tx, StepLease lease, Holder holder, long now, CancellationToken cancellationToken, string? error = null)
    {
        if (holder != Holder.CancelledWhileHeld)
        {
            return StepOutcome.LeaseLost;
        }

        await ExecAsync(connection, tx,
            "UPDATE steps SET cancel_requested = 0, finished_at = @now, last_error = COALESCE(@error, last_error) WHERE job_id = @job AND idx = @idx",
            cancellationToken, ("now", now), ("error", error), ("job", lease.JobId), ("idx", (long)lease.StepIndex)).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return StepOutcome.Cancelled;
    }

    private static async Task FailJobAsync(
        DbConnection connection, DbTransaction tx, string jobId, int index, string name, string error, int attempts, long now, CancellationToken cancellationToken)
    {
        await ExecAsync(connection, tx,
            "UPDATE steps SET state = 'failed', last_error = @error, finished_at = @now WHERE job_id = @job AND idx = @idx",
            cancellationToken, ("error", error), ("now", now), ("job", jobId), ("idx", (long)index)).ConfigureAwait(false);
        await ExecAsync(connection, tx, "UPDATE steps SET state = 'cancelled' WHERE job_id = @job AND state = 'pending'",
            cancellationToken, ("job", jobId)).ConfigureAwait(false);
        var message = $"step '{name}' failed after {attempts} attempt(s): {error}";
        await ExecAsync(connection, tx, "UPDATE jobs SET state = 'failed', error = @error, updated_at = @now WHERE id = @job",
            cancellationToken, ("error", message), ("now", now), ("job", jobId)).ConfigureAwait(false);
        await InsertEventAsync(connection, tx, jobId, JobEventKind.StepFailed, name,
            new JsonObject { ["attempt"] = attempts, ["error"] = error }.ToJsonString(), now, cancellationToken).ConfigureAwait(false);
        await InsertEventAsync(connection, tx, jobId, JobEventKind.JobFailed, null,
            new JsonObject { ["error"] = message }.ToJsonString(), now, cancellationToken).ConfigureAwait(false);
    }
}
