using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Miaoya.Jobs;
using Miaoya.Pipeline;
using Miaoya.WebUi;

namespace Miaoya.Runner;

/// <summary>
/// Runs queued jobs: <see cref="JobRunnerOptions.Slots"/> loops each claim one step at a time from the store, run it with
/// <see cref="PortraitPipeline.RunStepAsync"/> (whose remote calls the <see cref="IWebUiBoxes"/> place on a box), keep the
/// lease alive, and report. A cancelled job's running step is stopped, which interrupts its box; a step whose lease was
/// taken over writes nothing to the store; stopping the worker hands running steps back without using up an attempt.
/// Steps already finished in a job's folder are not redone (the pipeline restores them), so a worker that was killed
/// and restarted, or another worker taking over an expired lease, continues where the work stopped.
/// </summary>
public sealed class JobWorker
{
    private readonly IJobStore _store;
    private readonly PortraitPipeline _pipeline;
    private readonly JobRunnerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<StepLease, CancellationTokenSource> _active = new();
    private int _running;

    public JobWorker(IJobStore store, PortraitPipeline pipeline, JobRunnerOptions options, TimeProvider time, ILogger<JobWorker> logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _pipeline = pipeline;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger;
        Name = options.WorkerName ?? string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}");
    }

    /// <summary>This worker's name in the store.</summary>
    public string Name { get; }

    /// <summary>Steps running right now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Runs until <paramref name="stoppingToken"/> is cancelled; then stops running steps and hands them back.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var slots = Enumerable.Range(0, Math.Max(1, _options.Slots)).Select(_ => SlotAsync(stoppingToken)).ToArray();
        await Task.WhenAll(slots);
    }

    /// <summary>
    /// Stops this worker's running steps of <paramref name="jobId"/> now, without waiting for the next heartbeat, and returns
    /// once they have ended (nothing more is written into the job's folder by this worker). Cancel or delete the job in the
    /// store first; the stopped step is then handed back (a no-op for a cancelled or deleted job). The HTTP service's
    /// DELETE calls this before deleting the job's files.
    /// </summary>
    public async Task StopJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var stopping = _active.Where(a => a.Key.JobId == jobId).Select(a => a.Value).ToList();
        foreach (var cts in stopping)
        {
            try
            {
                await cts.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The step ended meanwhile.
            }
        }

        while (_active.Keys.Any(l => l.JobId == jobId))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken);
        }
    }

    /// <summary>
    /// Runs until no job is queued or running any more (every job succeeded, failed or was cancelled), or until
    /// <paramref name="cancellationToken"/> is cancelled: the batch command's way.
    /// </summary>
    public async Task RunUntilIdleAsync(TimeSpan checkInterval, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = RunAsync(stop.Token);
        try
        {
            while (!work.IsCompleted)
            {
                await Task.Delay(checkInterval, _time, cancellationToken);
                var queued = await _store.ListJobsAsync(JobState.Queued, 1, cancellationToken);
                var running = queued.Count == 0 ? await _store.ListJobsAsync(JobState.Running, 1, cancellationToken) : queued;
                if (queued.Count == 0 && running.Count == 0)
                {
                    break;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await work;
        }
    }

    private async Task SlotAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            StepLease? lease;
            try
            {
                lease = await _store.ClaimNextStepAsync(Name, _options.LeaseDuration, null, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store is unreachable (PostgreSQL restarting, disk full): keep trying, nothing is lost.
                _logger.LogWarning("Claiming a step failed: {Error}", e.Message);
                lease = null;
            }

            if (lease is null)
            {
                try
                {
                    await Task.Delay(_options.PollInterval, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            Interlocked.Increment(ref _running);
            using var stopJob = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            _active[lease] = stopJob;
            try
            {
                await RunLeaseAsync(lease, stopJob.Token);
            }
            finally
            {
                _active.TryRemove(lease, out _);
                Interlocked.Decrement(ref _running);
            }
        }
    }

    private async Task RunLeaseAsync(StepLease lease, CancellationToken stoppingToken)
    {
        using var step = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var watch = new LeaseWatch();
        using var stopBeats = new CancellationTokenSource();
        var beats = HeartbeatAsync(lease, watch, step, stopBeats.Token);
        var progress = new StepProgressReporter(this, lease, watch);
        _logger.LogInformation("Job {Job}: step {Step} (attempt {Attempt}) starts on {Worker}", lease.JobId, lease.StepName, lease.Attempt, Name);
        try
        {
            var result = await _pipeline.RunStepAsync(lease.OutputFolder, lease.StepName, progress, step.Token);
            await stopBeats.CancelAsync();
            await beats;
            await progress.DrainAsync();
            if (watch.Status == LeaseStatus.Lost)
            {
                return;
            }

            var outputs = result.Record.Outputs.Append(result.Final).OfType<FileRecord>().Select(o => new StepOutput(o.File, o.Sha256)).ToList();
            var outcome = await _store.CompleteStepAsync(lease, outputs, CancellationToken.None);
            _logger.LogInformation("Job {Job}: step {Step} {Outcome}", lease.JobId, lease.StepName, outcome);
        }
        catch (OperationCanceledException) when (step.IsCancellationRequested)
        {
            await stopBeats.CancelAsync();
            await beats;
            await progress.DrainAsync();
            if (watch.Status == LeaseStatus.CancelRequested)
            {
                await _store.FailStepAsync(lease, "cancelled", permanent: true, CancellationToken.None);
            }
            else if (watch.Status == LeaseStatus.Held && stoppingToken.IsCancellationRequested)
            {
                // Orderly shutdown: the step runs again later (here or on another instance) without using an attempt.
                await _store.ReleaseStepAsync(lease, TimeSpan.Zero, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !step.IsCancellationRequested)
        {
            await stopBeats.CancelAsync();
            await beats;
            await progress.DrainAsync();
            if (watch.Status == LeaseStatus.Lost)
            {
                return;
            }

            var permanent = IsPermanent(e);
            var outcome = await _store.FailStepAsync(lease, e.Message, permanent, CancellationToken.None);
            _logger.LogWarning("Job {Job}: step {Step} attempt {Attempt} failed ({Outcome}): {Error}", lease.JobId, lease.StepName, lease.Attempt, outcome, e.Message);
        }
    }

    private async Task HeartbeatAsync(StepLease lease, LeaseWatch watch, CancellationTokenSource step, CancellationToken stop)
    {
        var interval = _options.LeaseDuration / 3;
        while (true)
        {
            try
            {
                await Task.Delay(interval, _time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                watch.Status = await _store.HeartbeatAsync(lease, _options.LeaseDuration, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                // A missed beat is not fatal; the lease lasts three intervals.
                _logger.LogWarning("Heartbeat for job {Job} step {Step} failed: {Error}", lease.JobId, lease.StepName, e.Message);
                continue;
            }

            if (watch.Status != LeaseStatus.Held)
            {
                _logger.LogInformation("Job {Job}: step {Step} stops ({Status})", lease.JobId, lease.StepName, watch.Status);
                await step.CancelAsync();
                return;
            }
        }
    }

    /// <summary>Errors that another attempt cannot mend (<see cref="RunFailures.IsPermanent"/>): the input or the request is wrong, or no box has what it needs.</summary>
    internal static bool IsPermanent(Exception error) => RunFailures.IsPermanent(error);

    private async Task ReportProgressAsync(StepLease lease, LeaseWatch watch, PipelineProgress value)
    {
        try
        {
            if (value.Box is { } box && box != watch.Box)
            {
                watch.Box = box;
                var status = await _store.SetStepBoxAsync(lease, box, CancellationToken.None);
                if (status != LeaseStatus.Held)
                {
                    watch.Status = status;
                }
            }

            var now = _time.GetUtcNow();
            if (value.Fraction is > 0 and < 1 && now - watch.LastEvent < _options.ProgressEventInterval)
            {
                return;
            }

            watch.LastEvent = now;
            var data = new JsonObject
            {
                ["fraction"] = Math.Round(value.Fraction, 3),
                ["eta_s"] = value.Eta is { } eta ? Math.Round(eta.TotalSeconds, 1) : null,
                ["box"] = watch.Box,
                ["message"] = value.Message,
            };
            await _store.AppendEventAsync(lease.JobId, JobEventKind.StepProgress, lease.StepName, data.ToJsonString(), CancellationToken.None);
        }
        catch (Exception e)
        {
            _logger.LogDebug("Progress of job {Job} not recorded: {Error}", lease.JobId, e.Message);
        }
    }

    /// <summary>What the heartbeat learnt about the lease, and the progress bookkeeping of one step.</summary>
    private sealed class LeaseWatch
    {
        private volatile int _status;

        public LeaseStatus Status
        {
            get => (LeaseStatus)_status;
            set => _status = (int)value;
        }

        public string? Box { get; set; }

        public DateTimeOffset LastEvent { get; set; }
    }

    /// <summary>Pipeline progress into the store's events, one at a time in order, never blocking the step.</summary>
    private sealed class StepProgressReporter(JobWorker worker, StepLease lease, LeaseWatch watch) : IProgress<PipelineProgress>
    {
        private readonly Lock _gate = new();
        private Task _tail = Task.CompletedTask;

        /// <summary>Completes once every report so far is in the store (so no progress event lands after the step's outcome).</summary>
        public Task DrainAsync()
        {
            lock (_gate)
            {
#pragma warning disable VSTHRD003 // the chain was started by this reporter, on the thread pool
                return _tail;
#pragma warning restore VSTHRD003
            }
        }

        public void Report(PipelineProgress value)
        {
            lock (_gate)
            {
                _tail = _tail.ContinueWith(_ => worker.ReportProgressAsync(lease, watch, value), TaskScheduler.Default).Unwrap();
            }
        }
    }
}
