using System.Globalization;
using Miaoya.Jobs;

namespace Miaoya.Runner;

/// <summary>
/// Retention of finished jobs: deletes jobs that succeeded, failed or were cancelled longer than <see cref="Keep"/> ago,
/// with their steps and events (<see cref="IJobStore.DeleteFinishedJobsAsync"/>, in transactions of <see cref="BatchSize"/>
/// jobs), then each one's folder (its photos are personal data) once its rows are gone, outside the transaction. A
/// queued or running job is never deleted. A folder that cannot be deleted is left to the orphan-folder sweep
/// (<see cref="JobSubmitter.RemoveOrphanFoldersAsync"/>), since the store no longer knows it.
/// </summary>
public sealed class JobRetention
{
    /// <summary>How long finished jobs are kept when neither <c>--keep-jobs</c> nor <c>Jobs:KeepJobs</c> says.</summary>
    public static TimeSpan DefaultKeep { get; } = TimeSpan.FromDays(30);

    /// <summary>The shortest retention: a job that has just finished may still have a cancelled step's worker writing into its folder.</summary>
    public static TimeSpan MinimumKeep { get; } = TimeSpan.FromHours(1);

    /// <summary>How often the server prunes (also once at start).</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromHours(1);

    /// <summary>Jobs deleted per transaction.</summary>
    public const int BatchSize = 100;

    private readonly IJobStore _store;
    private readonly TimeProvider _time;
    private readonly Func<DeletedJob, CancellationToken, Task> _deleteFolder;

    /// <summary>
    /// Prunes <paramref name="store"/> of jobs finished more than <paramref name="keep"/> (at least <see cref="MinimumKeep"/>)
    /// ago by <paramref name="time"/>; <paramref name="deleteFolder"/> deletes a removed job's folder (e.g. only inside the
    /// jobs directory), called after its rows are gone.
    /// </summary>
    public JobRetention(IJobStore store, TimeSpan keep, TimeProvider time, Func<DeletedJob, CancellationToken, Task> deleteFolder)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(deleteFolder);
        if (keep < MinimumKeep)
        {
            throw new ArgumentOutOfRangeException(nameof(keep), keep, $"Keep finished jobs at least {MinimumKeep.TotalHours:0} hour.");
        }

        _store = store;
        Keep = keep;
        _time = time;
        _deleteFolder = deleteFolder;
    }

    public TimeSpan Keep { get; }

    /// <summary>Deletes every job that finished before now − <see cref="Keep"/>, a batch at a time; returns them.</summary>
    public async Task<IReadOnlyList<DeletedJob>> PruneAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = _time.GetUtcNow() - Keep;
        var deleted = new List<DeletedJob>();
        while (true)
        {
            var batch = await _store.DeleteFinishedJobsAsync(cutoff, BatchSize, cancellationToken).ConfigureAwait(false);
            foreach (var job in batch)
            {
                await _deleteFolder(job, cancellationToken).ConfigureAwait(false);
            }

            deleted.AddRange(batch);
            if (batch.Count < BatchSize)
            {
                return deleted;
            }
        }
    }

    /// <summary>
    /// A folder deleter for callers without a jobs directory of their own (a batch on a shared store): the folder goes only
    /// when it is named after its job, as every job folder is (<c>&lt;jobs dir&gt;/&lt;job id&gt;</c>). Best effort: a folder
    /// that cannot be deleted now stays.
    /// </summary>
    public static Task DeleteJobFolderAsync(DeletedJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(job.OutputFolder));
        if (!string.Equals(Path.GetFileName(folder), job.Id, StringComparison.Ordinal) || !Directory.Exists(folder))
        {
            return Task.CompletedTask;
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the orphan-folder sweep.
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Reads a retention as people write it: <c>30d</c>, <c>12h</c>, <c>90m</c>, a .NET duration (<c>30.00:00:00</c>), or
    /// <c>0</c>/<c>off</c>/<c>forever</c> to keep every job (<paramref name="keep"/> null). False with <paramref name="problem"/>
    /// for anything else, or for less than <see cref="MinimumKeep"/>.
    /// </summary>
    public static bool TryParseKeep(string text, out TimeSpan? keep, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        keep = null;
        problem = null;
        var trimmed = text.Trim();
        if (trimmed is "0" || trimmed.Equals("off", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("forever", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        TimeSpan? value = null;
        (string Suffix, double Unit)[] units = [("d", TimeSpan.TicksPerDay), ("h", TimeSpan.TicksPerHour), ("m", TimeSpan.TicksPerMinute), ("s", TimeSpan.TicksPerSecond)];
        foreach (var (suffix, unit) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(trimmed[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
                && double.IsFinite(number) && number * unit < TimeSpan.MaxValue.Ticks)
            {
                value = TimeSpan.FromTicks((long)(number * unit));
                break;
            }
        }

        if (value is null && TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            value = span;
        }

        if (value is null)
        {
            problem = $"'{Limits.UserText.Quote(text)}' is not a duration; give e.g. 30d, 12h or 0 (keep every job).";
            return false;
        }

        if (value.Value == TimeSpan.Zero)
        {
            return true;
        }

        if (value.Value < MinimumKeep)
        {
            problem = $"'{Limits.UserText.Quote(text)}' is shorter than {MinimumKeep.TotalHours:0}h; give at least 1h, or 0 to keep every job.";
            return false;
        }

        keep = value;
        return true;
    }
}
