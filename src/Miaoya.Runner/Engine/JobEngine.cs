using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Miaoya.Jobs;
using Miaoya.Jobs.Scheduling;
using Miaoya.Pipeline;
using Miaoya.Runner.Telemetry;
using Miaoya.WebUi;
using Quartz;

namespace Miaoya.Runner.Engine;

/// <summary>
/// Runs queued jobs on Quartz.NET. The store schedules each due step as a Quartz trigger in the transaction that makes it
/// due; Quartz decides when and on which instance it fires (its ADO.NET store: the SQLite file, or PostgreSQL with
/// clustering), recovers firings of a node that died, and cancels firings cluster-wide. A firing starts its step in the
/// store (<see cref="IJobStore.StartStepAsync"/>), runs it with <see cref="PortraitPipeline.RunStepAsync(string, string, IProgress{PipelineProgress}?, CancellationToken)"/>, and reports.
/// While it runs it checks every <see cref="JobRunnerOptions.OwnershipCheckInterval"/> that the step is still its own, and
/// stops without writing when the job was cancelled or deleted or the engine gave the step to another node.
/// </summary>
public sealed class JobEngine : IAsyncDisposable
{
    private readonly IJobStore _store;
    private readonly PortraitPipeline _pipeline;
    private readonly JobRunnerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<StepLease, CancellationTokenSource> _active = new();
    private IScheduler? _scheduler;
    private int _running;
    private volatile bool _stopping;

    private readonly string _storeLocation;
    private readonly string? _postgresSchema;
    private readonly ILoggerFactory _loggerFactory;
    private readonly SemaphoreSlim _attach = new(1, 1);
    private readonly IBoxRoster? _boxes;
    private readonly JobMetrics? _metrics;
    private readonly JobSpans _spans;
    private QuartzStepScheduler? _stepScheduler;
    private BoxPlacer? _placer;

    /// <param name="store">The job records; the engine attaches itself to it (<see cref="IJobStore.AttachScheduler"/>).</param>
    /// <param name="storeLocation">Where <paramref name="store"/> lives (a SQLite path or a PostgreSQL connection string): Quartz's tables go there too.</param>
    /// <param name="pipeline">Runs each step (its remote calls go to the fleet's boxes).</param>
    /// <param name="options">Folders, slots (the scheduler's threads), the worker name and check intervals.</param>
    /// <param name="loggerFactory">The engine's and Quartz's logs.</param>
    /// <param name="time">The clock of progress events and checks (tests); the scheduler keeps the database's.</param>
    /// <param name="postgresSchema">PostgreSQL: the schema the store's tables are in (null: the search path).</param>
    /// <param name="boxes">
    /// The fleet's boxes: a step that takes a box's generation slot is placed on one before it starts, and each box's
    /// <c>MaxConcurrent</c> holds across every instance of the store (<see cref="BoxPlacer"/>). Null: steps go to whichever
    /// box the pipeline's boxes pick when they run (one box, or tests).
    /// </param>
    /// <param name="metrics">Where step durations, retries and finished jobs are counted (null: nowhere). Spans are made whenever the <c>Miaoya.Jobs</c> activity source has a listener.</param>
    public JobEngine(
        IJobStore store, string storeLocation, PortraitPipeline pipeline, JobRunnerOptions options, ILoggerFactory loggerFactory,
        TimeProvider? time = null, string? postgresSchema = null, IBoxRoster? boxes = null, JobMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(storeLocation);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _store = store;
        _storeLocation = storeLocation;
        _postgresSchema = postgresSchema;
        _pipeline = pipeline;
        _options = options;
        _loggerFactory = loggerFactory;
        _time = time ?? TimeProvider.System;
        _logger = loggerFactory.CreateLogger<JobEngine>();
        _boxes = boxes;
        _metrics = metrics;
        _spans = new JobSpans(_time);
    }

    /// <summary>This instance's name in the cluster; its workers in step records are "&lt;name&gt;/&lt;firing&gt;".</summary>
    public string Name => Scheduler.SchedulerInstanceId;

    /// <summary>Steps running right now on this instance.</summary>
    public int Running => Volatile.Read(ref _running);

    private IScheduler Scheduler => _scheduler ?? throw new InvalidOperationException("The engine has not been attached to its store yet.");

    /// <summary>Whether <paramref name="worker"/> (a step record's worker) is a firing of this instance.</summary>
    public bool IsOwnWorker(string? worker) => _scheduler is { } s && worker is not null && worker.StartsWith(s.SchedulerInstanceId + "/", StringComparison.Ordinal);

    /// <summary>
    /// Builds the scheduler over the store's database (creating Quartz's tables if missing) and attaches it to the store, so
    /// that jobs created from now on are scheduled; runs nothing yet. An API-only instance stops here.
    /// </summary>
    public async Task AttachAsync(CancellationToken cancellationToken = default)
    {
        await _attach.WaitAsync(cancellationToken);
        try
        {
            if (_scheduler is not null)
            {
                return;
            }

            var settings = new StepSchedulerSettings
            {
                Location = _storeLocation,
                PostgresSchema = _postgresSchema,
                InstanceId = JobStore.IsPostgres(_storeLocation) ? _options.WorkerName : null, // SQLite: one fixed id (its recovery needs it)
                Threads = Math.Max(1, _options.Slots),
                BoxLimits = _boxes?.Boxes().ToDictionary(b => b.Name, b => b.Slots, StringComparer.Ordinal) ?? [],
            };
            var scheduler = await StepSchedulerFactory.CreateAsync(settings, new StepJobFactory(() => this), _loggerFactory, cancellationToken);
            _stepScheduler = new QuartzStepScheduler(
                scheduler, JobStore.IsPostgres(_storeLocation) ? null : SqliteWriteGate.For(_storeLocation), placeOnBoxes: _boxes is not null, () => _placer?.Signal());
            _store.AttachScheduler(_stepScheduler);
            _scheduler = scheduler;
        }
        finally
        {
            _attach.Release();
        }
    }

    /// <summary>Starts running steps; schedules any due step that has no trigger (jobs queued by an earlier release).</summary>
    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await AttachAsync(cancellationToken);
        await Scheduler.Start(cancellationToken);
        var ledger = await BoxLedger.OpenAsync(_storeLocation, _postgresSchema, Scheduler.SchedulerName, QuartzStepScheduler.Group, cancellationToken);
        _placer = new BoxPlacer(Scheduler, ledger, _boxes, _store, _options.PlacementInterval, _loggerFactory.CreateLogger<BoxPlacer>());
        _placer.Start();
        var added = 0;
        foreach (var ticket in await _store.ListDueStepsAsync(int.MaxValue, cancellationToken))
        {
            added += await _stepScheduler!.ScheduleIfMissingAsync(ticket, cancellationToken) ? 1 : 0;
        }

        if (added > 0)
        {
            _logger.LogInformation("Scheduled {Count} due step(s) that had no trigger", added);
        }
    }

    /// <summary>Runs until <paramref name="stoppingToken"/> is cancelled, then stops (running steps are handed back).</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await StartAsync(stoppingToken);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }

        await StopAsync();
    }

    /// <summary>
    /// Runs until no job is queued or running any more (every job succeeded, failed or was cancelled), or until
    /// <paramref name="cancellationToken"/> is cancelled: the batch command's way. Stops the engine before returning.
    /// </summary>
    public async Task RunUntilIdleAsync(TimeSpan checkInterval, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        try
        {
            while (true)
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
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await StopAsync();
        }
    }

    /// <summary>
    /// Stops the steps of <paramref name="jobId"/> (cancel or delete it in the store first): here at once, on other instances
    /// through Quartz's cluster-wide interrupt. Returns once none runs here any more.
    /// </summary>
    public async Task StopJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        foreach (var cts in _active.Where(a => a.Key.JobId == jobId).Select(a => a.Value).ToList())
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

        var record = await _store.GetJobAsync(jobId, cancellationToken);
        foreach (var step in record?.Steps.Where(s => s.Attempts > 0) ?? [])
        {
            try
            {
                await Scheduler.Interrupt(QuartzStepScheduler.KeyOf(jobId, step.Index, step.Attempts), cancellationToken);
            }
            catch (SchedulerException e)
            {
                _logger.LogDebug("Interrupting job {Job} step {Step} elsewhere failed: {Error}", jobId, step.Name, e.Message);
            }
        }

        while (_active.Keys.Any(l => l.JobId == jobId))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken);
        }

        // Cancelled or deleted between two steps: no step ends its span.
        _spans.EndJob(jobId, JobSpans.Cancelled);
    }

    /// <summary>Stops the scheduler: running steps are handed back and run again (here after a restart, or on another node).</summary>
    public async Task StopAsync()
    {
        if (_scheduler is not { } scheduler || scheduler.Status is SchedulerStatus.Shutdown or SchedulerStatus.Created)
        {
            return;
        }

        _stopping = true;
        if (_placer is { } placer)
        {
            _placer = null;
            await placer.DisposeAsync();
        }

        await scheduler.Shutdown(waitForJobsToComplete: true);
        _spans.EndAll();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_scheduler is { } scheduler && scheduler.Status != SchedulerStatus.Shutdown)
        {
            await scheduler.Shutdown(waitForJobsToComplete: false);
        }

        _attach.Dispose();
    }

    /// <summary>One firing (called by <see cref="RunStepJob"/>).</summary>
    /// <param name="firing">The firing.</param>
    /// <param name="firingToken">Quartz's interrupt (a cancel from any instance, or a shutdown).</param>
    internal async Task RunFiringAsync(StepFiring firing, CancellationToken firingToken)
    {
        // Placed on a box (its execution group): the step's calls go there. Without the fleet's boxes any box will do; on a box
        // this instance cannot use now (quarantined here, or not in its fleet: a recovery firing from another's placement) the
        // step waits to be placed again, before it starts, so no attempt is used.
        var box = _boxes is not null && firing.ExecutionGroup is { } g && g.StartsWith(StepSchedulerFactory.BoxGroupPrefix, StringComparison.Ordinal)
            ? g[StepSchedulerFactory.BoxGroupPrefix.Length..] : null;
        if (box is not null && !_boxes!.Boxes().Any(b => b.Name == box && !b.Quarantined))
        {
            await WaitForPlacementAgainAsync(firing, box);
            return;
        }

        var (jobId, stepIndex) = (firing.JobId, firing.StepIndex);
        var lease = await _store.StartStepAsync(jobId, stepIndex, Name + "/" + firing.Id, firing.Recovering, CancellationToken.None);
        if (lease is null)
        {
            _logger.LogDebug("Job {Job}: step {Step} has nothing to run (stale trigger)", jobId, stepIndex);
            return;
        }

        Interlocked.Increment(ref _running);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(firingToken);
        _active[lease] = stop;
        try
        {
            await RunLeaseAsync(lease, box, stop);
        }
        finally
        {
            _active.TryRemove(lease, out _);
            Interlocked.Decrement(ref _running);
            if (box is not null)
            {
                _placer?.Ending(firing.Trigger); // its box's slot frees as Quartz ends this firing
            }
            else
            {
                _placer?.Signal();
            }
        }
    }

    /// <summary>A new trigger for the firing's step attempt, waiting to be placed on a box, at the firing's place in the queue.</summary>
    private async Task WaitForPlacementAgainAsync(StepFiring firing, string box)
    {
        var due = firing.ScheduledAt ?? StepSchedulerFactory.ClockOf(Scheduler).GetUtcNow();
        var name = $"{firing.QuartzJob}/again-{Guid.NewGuid().ToString("N")[..8]}";
        await Scheduler.ScheduleJob(QuartzStepScheduler.Trigger(name, firing.QuartzJob, due, StepSchedulerFactory.WaitingForBoxGroup, firing.Recovering), cancellationToken: CancellationToken.None);
        _logger.LogInformation("Job {Job}: step {Step} was placed on box {Box}, which this instance cannot use now; it waits to be placed again", firing.JobId, firing.StepIndex, box);
        _placer?.Signal();
    }

    private async Task RunLeaseAsync(StepLease lease, string? box, CancellationTokenSource step)
    {
        var watch = new OwnershipWatch();
        using var stopChecks = new CancellationTokenSource();
        // The job's span starts at the job's creation when its first step starts here (the trace shows the wait in the queue).
        var created = JobSpans.Enabled && !_spans.HasJob(lease.JobId) && lease is { StepIndex: 0, Attempt: 1 } ? await JobCreatedAsync(lease.JobId) : null;
        var span = _spans.StartStep(lease, box, created);
        var started = _time.GetTimestamp();
        var checks = WatchOwnershipAsync(lease, watch, step, stopChecks.Token);
        var progress = new StepProgressReporter(this, lease, watch);
        _logger.LogInformation("Job {Job}: step {Step} (attempt {Attempt}) starts on {Worker}", lease.JobId, lease.StepName, lease.Attempt, lease.Worker);
        try
        {
            var result = await _pipeline.RunStepAsync(lease.OutputFolder, lease.StepName, box, progress, step.Token);
            await stopChecks.CancelAsync();
            await checks;
            await progress.DrainAsync();
            if (watch.Status == LeaseStatus.Lost)
            {
                StepEnded(lease, span, started, JobSpans.Lost);
                return;
            }

            var outputs = result.Record.Outputs.Append(result.Final).OfType<FileRecord>().Select(o => new StepOutput(o.File, o.Sha256)).ToList();
            var outcome = await _store.CompleteStepAsync(lease, outputs, CancellationToken.None);
            _logger.LogInformation("Job {Job}: step {Step} {Outcome}", lease.JobId, lease.StepName, outcome);
            await StepEndedAsync(lease, span, started, outcome, null);
        }
        catch (OperationCanceledException) when (step.IsCancellationRequested)
        {
            await stopChecks.CancelAsync();
            await checks;
            await progress.DrainAsync();
            var status = watch.Status == LeaseStatus.Held ? await _store.CheckStepAsync(lease, CancellationToken.None) : watch.Status;
            if (status == LeaseStatus.CancelRequested)
            {
                var outcome = await _store.FailStepAsync(lease, "cancelled", permanent: true, CancellationToken.None);
                await StepEndedAsync(lease, span, started, outcome, "cancelled");
            }
            else if (status == LeaseStatus.Held && _stopping)
            {
                // Orderly shutdown: the step runs again (after a restart, or on another node) without using an attempt;
                // Quartz stores the recovery firing because this one ends cancelled.
                await _store.ReturnStepAsync(lease, "the instance running it shut down", CancellationToken.None);
                StepEnded(lease, span, started, JobSpans.HandedBack);
                throw;
            }
            else
            {
                StepEnded(lease, span, started, JobSpans.Lost);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !step.IsCancellationRequested)
        {
            await stopChecks.CancelAsync();
            await checks;
            await progress.DrainAsync();
            if (watch.Status == LeaseStatus.Lost)
            {
                StepEnded(lease, span, started, JobSpans.Lost);
                return;
            }

            var outcome = await _store.FailStepAsync(lease, e.Message, RunFailures.IsPermanent(e), CancellationToken.None);
            _logger.LogWarning("Job {Job}: step {Step} attempt {Attempt} failed ({Outcome}): {Error}", lease.JobId, lease.StepName, lease.Attempt, outcome, e.Message);
            await StepEndedAsync(lease, span, started, outcome, e.Message);
        }
    }

    /// <summary>A step attempt was reported: its span and duration, and its job's span and count when the job is over.</summary>
    private async Task StepEndedAsync(StepLease lease, System.Diagnostics.Activity? span, long started, StepOutcome outcome, string? error)
    {
        StepEnded(lease, span, started, JobSpans.Name(outcome), error);
        try
        {
            var finished = outcome switch
            {
                StepOutcome.JobFailed => JobState.Failed,
                StepOutcome.Cancelled => JobState.Cancelled,
                // Completed: the job succeeded if that was its last step (the store knows).
                StepOutcome.Completed when await _store.GetJobAsync(lease.JobId, CancellationToken.None) is { IsFinished: true } job => job.State,
                _ => (JobState?)null,
            };
            if (finished is { } state)
            {
                _metrics?.JobFinished(state);
                _spans.EndJob(lease.JobId, JobSpans.Name(state));
            }
        }
        catch (Exception e)
        {
            // Telemetry only: the step's report is written; the job's span ends when the engine stops.
            _logger.LogDebug("Job {Job}: its state after step {Step} could not be read: {Error}", lease.JobId, lease.StepName, e.Message);
        }
    }

    /// <summary>When the job was created (for its span), or null when the store cannot say now.</summary>
    private async Task<DateTimeOffset?> JobCreatedAsync(string jobId)
    {
        try
        {
            return (await _store.GetJobAsync(jobId, CancellationToken.None))?.CreatedAt;
        }
        catch (Exception e)
        {
            _logger.LogDebug("Job {Job}: its creation time could not be read: {Error}", jobId, e.Message);
            return null;
        }
    }

    private void StepEnded(StepLease lease, System.Diagnostics.Activity? span, long started, string outcome, string? error = null)
    {
        _metrics?.StepEnded(lease.StepName, outcome, _time.GetElapsedTime(started));
        _spans.EndStep(lease, span, outcome, error);
    }

    private async Task WatchOwnershipAsync(StepLease lease, OwnershipWatch watch, CancellationTokenSource step, CancellationToken stop)
    {
        while (true)
        {
            try
            {
                await Task.Delay(_options.OwnershipCheckInterval, _time, stop);
                var status = await _store.CheckStepAsync(lease, stop);
                if (status == LeaseStatus.Held)
                {
                    continue;
                }

                watch.Status = status;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                // The store is unreachable for a moment: the step goes on; Quartz decides whether this node is alive.
                _logger.LogWarning("Checking job {Job} step {Step} failed: {Error}", lease.JobId, lease.StepName, e.Message);
                continue;
            }

            _logger.LogInformation("Job {Job}: step {Step} stops ({Status})", lease.JobId, lease.StepName, watch.Status);
            await step.CancelAsync();
            return;
        }
    }

    private async Task ReportProgressAsync(StepLease lease, OwnershipWatch watch, PipelineProgress value)
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

    /// <summary>What the checks learnt about the step, and the progress bookkeeping of one step.</summary>
    private sealed class OwnershipWatch
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
    private sealed class StepProgressReporter(JobEngine engine, StepLease lease, OwnershipWatch watch) : IProgress<PipelineProgress>
    {
        private readonly Lock _gate = new();
        private Task _tail = Task.CompletedTask;

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
                _tail = _tail.ContinueWith(_ => engine.ReportProgressAsync(lease, watch, value), TaskScheduler.Default).Unwrap();
            }
        }
    }
}
