using Microsoft.Extensions.Logging;
using Miaoya.Fleet;
using Miaoya.Jobs;
using Miaoya.Runner;
using Miaoya.Runner.Engine;

namespace Miaoya.Server;

/// <summary>What the endpoints share: the store, the submitter, the worker and fleet of this process, the ETA model.</summary>
internal sealed class ServerState(
    ServerOptions options, IJobStore store, JobSubmitter submitter, JobEngine? worker, WebUiFleet? fleet, EtaEstimator eta, TimeProvider time, ILogger<ServerState> logger)
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _laterDeletes = new(StringComparer.Ordinal);

    public ServerOptions Options { get; } = options;

    public IJobStore Store { get; } = store;

    public JobSubmitter Submitter { get; } = submitter;

    public JobEngine? Worker { get; } = worker;

    public WebUiFleet? Fleet { get; } = fleet;

    public EtaEstimator Eta { get; } = eta;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    public string JobsDirectory { get; } = Path.GetFullPath(options.Runner.JobsDirectory);

    /// <summary>Whether a job's folder lies inside this server's jobs directory (nothing outside it is read or deleted).</summary>
    public bool IsInsideJobs(string folder)
    {
        var full = Path.GetFullPath(folder);
        return full.StartsWith(JobsDirectory.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>Deletes a job's folder and everything in it (user photos are personal data), retrying briefly while files are in use.</summary>
    public async Task DeleteFolderAsync(string folder, CancellationToken cancellationToken)
    {
        if (!IsInsideJobs(folder))
        {
            Logger.LogWarning("Not deleting {Folder}: it is outside the jobs directory {Jobs}", folder, JobsDirectory);
            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }

                return;
            }
            catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && attempt < 10)
            {
                // A file still being renamed into place by a step that was just stopped.
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), Time, cancellationToken);
            }
        }
    }

    /// <summary>Deletes the folder again after <paramref name="delay"/>, in case a worker elsewhere wrote into it meanwhile.</summary>
    public void DeleteFolderLater(string folder, TimeSpan delay)
    {
        lock (_gate)
        {
            _laterDeletes.Add(folder);
        }

        _ = Task.Run(async () =>
        {
            await Task.Delay(delay, Time);
            await DeleteLaterNowAsync(folder);
        });
    }

    /// <summary>At shutdown: the pending second deletions now.</summary>
    public async Task DrainAsync()
    {
        string[] folders;
        lock (_gate)
        {
            folders = [.. _laterDeletes];
        }

        foreach (var folder in folders)
        {
            await DeleteLaterNowAsync(folder);
        }
    }

    private async Task DeleteLaterNowAsync(string folder)
    {
        lock (_gate)
        {
            if (!_laterDeletes.Remove(folder))
            {
                return;
            }
        }

        try
        {
            await DeleteFolderAsync(folder, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Logger.LogWarning("Second deletion of {Folder} failed: {Error}", folder, e.Message);
        }
    }
}
