using System.Data.Common;
using System.Text.Json;
using static Miaoya.Jobs.SqlCommands;

namespace Miaoya.Jobs;

/// <summary>Jobs as the API reads them: a job row with its steps, one job or a page, in one read each.</summary>
internal static class JobRows
{
    internal static async Task<JobRecord?> ReadJobAsync(DbConnection connection, DbTransaction? tx, string id, CancellationToken cancellationToken)
    {
        JobRecord job;
        var command = Command(connection, tx,
            "SELECT id, recipe, recipe_inline, inputs, output_folder, state, error, max_attempts, created_at, updated_at FROM jobs WHERE id = @id", ("id", id));
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                job = new JobRecord(
                    reader.GetString(0), reader.GetString(1), reader.GetInt64(2) != 0, reader.GetString(3), reader.GetString(4),
                    Parse<JobState>(reader.GetString(5)), Str(reader, 6), (int)reader.GetInt64(7),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)), []);
            }
        }

        var steps = new List<JobStep>();
        var stepsCommand = Command(connection, tx,
            "SELECT idx, name, state, attempts, last_error, started_at, finished_at, box, worker, next_attempt_at, cancel_requested, outputs " +
            "FROM steps WHERE job_id = @id ORDER BY idx", ("id", id));
        await using (stepsCommand.ConfigureAwait(false))
        {
            var reader = await stepsCommand.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    steps.Add(new JobStep(
                        (int)reader.GetInt64(0), reader.GetString(1), Parse<StepState>(reader.GetString(2)), (int)reader.GetInt64(3),
                        Str(reader, 4), Time(reader, 5), Time(reader, 6),
                        Str(reader, 7), Str(reader, 8),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)), reader.GetInt64(10) != 0,
                        JsonSerializer.Deserialize<List<StepOutput>>(reader.GetString(11), SqlJobStore.OutputsJson) ?? []));
                }
            }
        }

        return job with { Steps = steps };

        static DateTimeOffset? Time(DbDataReader reader, int ordinal) =>
            reader.GetValue(ordinal) is DBNull ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));
    }

    /// <summary>
    /// A page of jobs with their steps in two statements (jobs, then the steps of the page's seq range), in the caller's
    /// read transaction so both see one snapshot. Reads one job more than the query's limit to tell whether a next page exists.
    /// </summary>
    internal static async Task<JobPage> ReadJobsAsync(DbConnection connection, DbTransaction tx, JobQuery query, CancellationToken cancellationToken)
    {
        var (state, after, limit) = (query.State, query.After, query.Limit);
        var newest = query.Order == JobOrder.NewestFirst;
        var filter = new List<string>();
        if (state is not null)
        {
            filter.Add("state = @state");
        }

        // The kind as the inputs JSON names it; LIKE with '!' escaping the kind's '_' (a LIKE wildcard), the same in both dialects.
        var kindFilter = string.Empty;
        string? kindPattern = null;
        if (query.Kind is { } kind)
        {
            kindPattern = "%\"kind\":\"" + kind.Replace("_", "!_", StringComparison.Ordinal) + "\"%";
            kindFilter = query.KindWhenUnnamed == kind
                ? "(inputs LIKE @kind ESCAPE '!' OR inputs NOT LIKE '%\"kind\":%')"
                : "inputs LIKE @kind ESCAPE '!'";
            filter.Add(kindFilter);
        }

        if (after is not null)
        {
            filter.Add(newest ? "seq < @after" : "seq > @after");
        }

        var where = filter.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", filter) + " ";
        var take = (long)limit + 1;
        var stateName = state is null ? null : Name(state.Value);
        var parameters = new List<(string, object?)> { ("take", take) };
        if (stateName is not null)
        {
            parameters.Add(("state", stateName));
        }

        if (after is not null)
        {
            parameters.Add(("after", after.Value));
        }

        if (kindPattern is not null)
        {
            parameters.Add(("kind", kindPattern));
        }

        var rows = new List<(long Seq, JobRecord Job)>();
        var command = Command(connection, tx,
            "SELECT seq, id, recipe, recipe_inline, inputs, output_folder, state, error, max_attempts, created_at, updated_at FROM jobs " +
            where + (newest ? "ORDER BY seq DESC" : "ORDER BY seq") + " LIMIT @take",
            [.. parameters]);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add((reader.GetInt64(0), new JobRecord(
                        reader.GetString(1), reader.GetString(2), reader.GetInt64(3) != 0, reader.GetString(4), reader.GetString(5),
                        Parse<JobState>(reader.GetString(6)), Str(reader, 7), (int)reader.GetInt64(8),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)), [])));
                }
            }
        }

        var more = rows.Count > limit;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        if (rows.Count == 0)
        {
            return new JobPage([], null);
        }

        var low = Math.Min(rows[0].Seq, rows[^1].Seq);
        var high = Math.Max(rows[0].Seq, rows[^1].Seq);
        var steps = new Dictionary<string, List<JobStep>>(StringComparer.Ordinal);
        var stepsCommand = Command(connection, tx,
            "SELECT s.job_id, s.idx, s.name, s.state, s.attempts, s.last_error, s.started_at, s.finished_at, s.box, s.worker, " +
            "s.next_attempt_at, s.cancel_requested, s.outputs FROM steps s JOIN jobs j ON j.id = s.job_id " +
            "WHERE j.seq >= @low AND j.seq <= @high" + (state is null ? string.Empty : " AND j.state = @state")
            + (kindPattern is null ? string.Empty : " AND " + kindFilter.Replace("inputs", "j.inputs", StringComparison.Ordinal)) + " ORDER BY s.job_id, s.idx",
            [("low", low), ("high", high), .. stateName is null ? Array.Empty<(string, object?)>() : [("state", stateName)], .. kindPattern is null ? Array.Empty<(string, object?)>() : [("kind", kindPattern)]]);
        await using (stepsCommand.ConfigureAwait(false))
        {
            var reader = await stepsCommand.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var jobId = reader.GetString(0);
                    var list = steps.TryGetValue(jobId, out var l) ? l : steps[jobId] = [];
                    list.Add(new JobStep(
                        (int)reader.GetInt64(1), reader.GetString(2), Parse<StepState>(reader.GetString(3)), (int)reader.GetInt64(4),
                        Str(reader, 5), Time(reader, 6), Time(reader, 7),
                        Str(reader, 8), Str(reader, 9),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)), reader.GetInt64(11) != 0,
                        JsonSerializer.Deserialize<List<StepOutput>>(reader.GetString(12), SqlJobStore.OutputsJson) ?? []));
                }
            }
        }

        var jobs = rows.Select(r => r.Job with { Steps = steps.TryGetValue(r.Job.Id, out var s) ? s : [] }).ToArray();
        return new JobPage(jobs, more ? rows[^1].Seq : null);

        static DateTimeOffset? Time(DbDataReader reader, int ordinal) =>
            reader.GetValue(ordinal) is DBNull ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));
    }
}
