using System.Globalization;
using Microsoft.Extensions.Logging;
using Miaoya.Jobs;
using Miaoya.Jobs.Scheduling;
using Miaoya.Pipeline;
using Miaoya.WebUi;
using Quartz;

namespace Miaoya.Runner.Engine;

/// <summary>
/// Places steps on boxes across every instance of a store. A step that takes a box's generation slot is scheduled in the
/// waiting group (<see cref="StepSchedulerFactory.WaitingForBoxGroup"/>, never fired); a placement round, under the store's
/// placement lock, moves the oldest due ones into the execution group of a box with a slot free (<see cref="StepSchedulerFactory.BoxGroup"/>,
/// which Quartz limits to the box's <c>MaxConcurrent</c> across the cluster) and the step's calls then go to that box only.
/// So a step is never "running" while it waits for a box, FIFO order and checkpoint affinity hold across instances, and a
/// box never gets more steps than its slots. A box that is quarantined (here, or by another instance within
/// <see cref="SharedQuarantine"/>) gets nothing, and its placed steps that have not fired go back to waiting.
/// Rounds run when this instance schedules or finishes a step (<see cref="Signal"/>), and every <see cref="JobRunnerOptions.PlacementInterval"/>
/// for what other instances did.
/// </summary>
internal sealed class BoxPlacer : IAsyncDisposable
{
    /// <summary>How long another instance's report that a box is quarantined holds without being made again.</summary>
    internal static readonly TimeSpan SharedQuarantine = TimeSpan.FromSeconds(45);

    /// <summary>How often an instance that sees a box quarantined says so again.</summary>
    private static readonly TimeSpan QuarantineReport = TimeSpan.FromSeconds(15);

    private readonly IScheduler _scheduler;
    private readonly BoxLedger _ledger;
    private readonly IBoxRoster? _roster;
    private readonly IJobStore _store;
    private readonly TimeSpan _interval;
    private readonly string _instance;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, (string Health, string? Loaded, DateTimeOffset At)> _published = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BoxNeeds?> _needs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _skips = new(StringComparer.Ordinal);
    private readonly Dictionary<(BoxNeeds Needs, string Box), (WebUiCapabilities Caps, bool Ok)> _checked = [];
    private readonly Dictionary<string, long> _ending = new(StringComparer.Ordinal); // trigger → when it ended (timestamp)
    private Task? _loop;

    /// <summary>How soon the next round runs while a firing that ended here still holds its slot.</summary>
    private static readonly TimeSpan EndingRecheck = TimeSpan.FromMilliseconds(10);

    public BoxPlacer(IScheduler scheduler, BoxLedger ledger, IBoxRoster? roster, IJobStore store, TimeSpan interval, ILogger logger)
    {
        _scheduler = scheduler;
        _ledger = ledger;
        _roster = roster;
        _store = store;
        _interval = interval;
        _instance = scheduler.SchedulerInstanceId;
        _clock = StepSchedulerFactory.ClockOf(scheduler);
        _logger = logger;
    }

    /// <summary>Steps placed so far by this instance.</summary>
    public long Placed { get; private set; }

    /// <summary>
    /// A firing here is ending (its step reported): a round follows as soon as Quartz has released its box's slot (its
    /// firing row is gone, a few milliseconds later), so that the next step is placed on the box without waiting a whole
    /// <see cref="JobRunnerOptions.PlacementInterval"/>.
    /// </summary>
    public void Ending(string trigger)
    {
        lock (_ending)
        {
            _ending[trigger] = TimeProvider.System.GetTimestamp();
        }

        Signal();
    }

    /// <summary>Asks for a round soon (a step was scheduled or finished here).</summary>
    public void Signal()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // A round is asked for already.
        }
        catch (ObjectDisposedException)
        {
            // Stopped.
        }
    }

    public void Start() => _loop ??= Task.Run(() => LoopAsync(_stop.Token));

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await PlaceAsync(stop);
                bool waitingForRelease;
                lock (_ending)
                {
                    waitingForRelease = _ending.Count > 0;
                }

                await _wake.WaitAsync(waitingForRelease ? EndingRecheck : _interval, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database is unreachable for a moment, or a step's folder is unreadable: the next round tries again.
                _logger.LogWarning("Placing steps on boxes failed: {Error}", e.Message);
                try
                {
                    await Task.Delay(_interval, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One round: reports this instance's view of the boxes, then places what it can. Returns the steps moved.</summary>
    internal async Task<int> PlaceAsync(CancellationToken cancellationToken)
    {
        var boxes = _roster?.Boxes() ?? [];
        await PublishAsync(boxes, cancellationToken);
        var lockHandle = await _ledger.LockAsync(cancellationToken);
        await using (lockHandle)
        {
            var now = _clock.GetUtcNow();
            var affinity = _roster?.Affinity ?? new AffinityRules(false, 0, 0);
            var view = await _ledger.ReadAsync(StepSchedulerFactory.WaitingForBoxGroup, now, Math.Max(64, affinity.Lookahead * 2), cancellationToken);
            var moves = new List<(string Trigger, string Job, string? Group)>();
            var open = boxes.Where(b => b.Admitted && !QuarantinedElsewhere(view, b.Name, now)).ToList();

            // Placed steps that have not fired go back to waiting when their box closed (quarantined). A box this instance does
            // not know is another instance's business.
            var closed = boxes.Where(b => b.Quarantined || QuarantinedElsewhere(view, b.Name, now)).Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var placed in view.Placed.Where(p => closed.Contains(p.Box)))
            {
                moves.Add((placed.Trigger, placed.Job, StepSchedulerFactory.WaitingForBoxGroup));
            }

            // A firing that ended here keeps its slot (its row) for a few milliseconds more: rounds follow every 10 ms until it
            // is gone, so that the next step is placed on its box then, and Quartz, woken by the move, fires it at once.
            lock (_ending)
            {
                // Done with once its row is gone (or after a few seconds, whatever keeps it: the rounds go back to their pace).
                var firing = view.Firing.Select(f => f.Trigger).ToHashSet(StringComparer.Ordinal);
                foreach (var (trigger, at) in _ending.ToList())
                {
                    if (!firing.Contains(trigger) || TimeProvider.System.GetElapsedTime(at) > TimeSpan.FromSeconds(5))
                    {
                        _ending.Remove(trigger);
                    }
                }
            }

            var free = open.ToDictionary(b => b.Name, b => b.Slots - view.Booked(b.Name), StringComparer.Ordinal);
            var loaded = open.ToDictionary(b => b.Name, b => view.Boxes.TryGetValue(b.Name, out var shared) && shared.Loaded is not null ? shared.Loaded : b.Loaded, StringComparer.Ordinal);
            var waiting = new List<(WaitingStep Step, BoxNeeds Needs)>();
            foreach (var step in view.Waiting)
            {
                var needs = await NeedsAsync(step.Job, cancellationToken);
                if (needs is null || _roster is null || NeverRunnable(needs, boxes))
                {
                    // Takes no slot (or there are no boxes to place on, or none could ever run it: the step fails with the fleet's
                    // own message naming what each box lacks): it runs without a box of its own.
                    moves.Add((step.Trigger, step.Job, null));
                    continue;
                }

                waiting.Add((step, needs));
            }

            foreach (var (step, box) in Choose(waiting, open, free, loaded, affinity))
            {
                moves.Add((step.Trigger, step.Job, StepSchedulerFactory.BoxGroup(box)));
            }

            foreach (var (trigger, job, group) in moves)
            {
                await MoveAsync(trigger, job, group, cancellationToken);
            }

            return moves.Count;
        }
    }

    /// <summary>Which waiting steps go to which box this round, in the fleet's order: see the type's summary of <c>FleetDispatcher</c>.</summary>
    private List<(WaitingStep Step, string Box)> Choose(
        List<(WaitingStep Step, BoxNeeds Needs)> waiting, List<RosterBox> open, Dictionary<string, int> free, Dictionary<string, string?> loaded, AffinityRules affinity)
    {
        var placed = new List<(WaitingStep, string)>();
        var remaining = waiting.ToList();
        if (remaining.Count == 0 || free.Values.All(f => f <= 0))
        {
            return placed;
        }

        bool Fits(BoxNeeds needs, RosterBox box) => free[box.Name] > 0 && CanRun(needs, box);
        bool Matches(BoxNeeds needs, RosterBox box) =>
            needs.Checkpoint is null || (loaded[box.Name] is { } l && l == (box.Capabilities?.FindCheckpoint(needs.Checkpoint)?.Title ?? needs.Checkpoint));
        void Place(int index, RosterBox box)
        {
            var (step, _) = remaining[index];
            placed.Add((step, box.Name));
            free[box.Name]--;
            if (remaining[index].Needs.Checkpoint is { } checkpoint)
            {
                loaded[box.Name] = box.Capabilities?.FindCheckpoint(checkpoint)?.Title ?? checkpoint;
            }

            _skips.Remove(step.Trigger);
            remaining.RemoveAt(index);
        }

        RosterBox LeastBooked(IEnumerable<RosterBox> boxes) => boxes.OrderByDescending(b => (double)free[b.Name] / b.Slots).ThenBy(open.IndexOf).First();

        // Steps passed over often enough go first, anywhere; then, with affinity, each step that a free box can run without
        // a model switch (a younger one may go before an older one here); then the rest, oldest first.
        for (var i = 0; i < remaining.Count && affinity.Enabled; i++)
        {
            if (_skips.GetValueOrDefault(remaining[i].Step.Trigger) >= affinity.MaxSkips && open.Where(b => Fits(remaining[i].Needs, b)).ToList() is { Count: > 0 } any)
            {
                Place(i--, LeastBooked(any));
            }
        }

        for (var i = 0; i < remaining.Count && affinity.Enabled; i++)
        {
            var needs = remaining[i].Needs;
            if (needs.Checkpoint is not null && open.Where(b => Fits(needs, b) && Matches(needs, b)).ToList() is { Count: > 0 } same)
            {
                var box = LeastBooked(same);
                for (var older = 0; older < i; older++)
                {
                    if (Fits(remaining[older].Needs, box))
                    {
                        // Passed over for a younger step that needs no switch: counted, so that it goes first in time.
                        _skips[remaining[older].Step.Trigger] = _skips.GetValueOrDefault(remaining[older].Step.Trigger) + 1;
                    }
                }

                Place(i--, box);
            }
        }

        for (var i = 0; i < remaining.Count; i++)
        {
            var needs = remaining[i].Needs;
            var candidates = open.Where(b => Fits(needs, b)).ToList();
            if (candidates.Count == 0)
            {
                continue;
            }

            var window = remaining.Skip(i + 1).Take(affinity.Lookahead).ToList();
            if (affinity.Enabled && needs.Checkpoint is not null)
            {
                // A box whose loaded checkpoint a younger step wants is kept for it, unless this step has waited long enough.
                var kept = candidates.Where(b => loaded[b.Name] is not null && window.Any(w => w.Needs.Checkpoint is not null && Matches(w.Needs, b) && Fits(w.Needs, b))).ToList();
                if (kept.Count == candidates.Count && _skips.GetValueOrDefault(remaining[i].Step.Trigger) < affinity.MaxSkips)
                {
                    _skips[remaining[i].Step.Trigger] = _skips.GetValueOrDefault(remaining[i].Step.Trigger) + 1;
                    continue;
                }

                if (kept.Count < candidates.Count)
                {
                    candidates = candidates.Except(kept).ToList();
                }

                // A busy box has this step's checkpoint loaded and a younger step can use a free one without a switch (the
                // tagger needs no checkpoint): this step waits for that box, which frees within a call, and the free box
                // does the younger work meanwhile — rather than both boxes switching back and forth.
                if (_skips.GetValueOrDefault(remaining[i].Step.Trigger) < affinity.MaxSkips &&
                    open.Any(b => free[b.Name] <= 0 && Matches(needs, b) && CanRun(needs, b)) &&
                    window.Any(w => candidates.Any(b => Fits(w.Needs, b) && (w.Needs.Checkpoint is null || Matches(w.Needs, b)))))
                {
                    _skips[remaining[i].Step.Trigger] = _skips.GetValueOrDefault(remaining[i].Step.Trigger) + 1;
                    continue;
                }
            }

            // Switch the box whose loaded checkpoint the fewest waiting steps want.
            var box = candidates
                .OrderBy(b => window.Count(w => w.Needs.Checkpoint is not null && Matches(w.Needs, b)))
                .ThenByDescending(b => (double)free[b.Name] / b.Slots)
                .ThenBy(open.IndexOf)
                .First();
            Place(i--, box);
        }

        return placed;
    }

    /// <summary>Every box is probed and none has what the step needs.</summary>
    private bool NeverRunnable(BoxNeeds needs, IReadOnlyList<RosterBox> boxes) =>
        boxes.Count > 0 && boxes.All(b => b.Capabilities is not null && !CanRun(needs, b));

    /// <summary>Whether the box has what the step needs: checked once per step, box and probe of the box.</summary>
    private bool CanRun(BoxNeeds needs, RosterBox box)
    {
        if (box.Capabilities is not { } caps)
        {
            return false;
        }

        var key = (needs, box.Name);
        if (_checked.TryGetValue(key, out var known) && ReferenceEquals(known.Caps, caps))
        {
            return known.Ok;
        }

        bool ok;
        try
        {
            ok = (needs.Check?.Invoke(caps) ?? []).Count == 0;
        }
        catch (Exception e)
        {
            _logger.LogWarning("Checking what {Step} needs on box {Box} failed: {Error}", needs.Purpose, box.Name, e.Message);
            ok = false;
        }

        _checked[key] = (caps, ok);
        return ok;
    }

    /// <summary>Another instance reported the box quarantined, recently enough to believe it.</summary>
    private bool QuarantinedElsewhere(LedgerView view, string box, DateTimeOffset now) =>
        view.Boxes.TryGetValue(box, out var shared) && shared.Health == BoxLedger.Quarantined && shared.ReportedBy != _instance && now - shared.UpdatedAt < SharedQuarantine;

    /// <summary>Reports what changed in this instance's view of each box (a quarantine again every <see cref="QuarantineReport"/>).</summary>
    private async Task PublishAsync(IReadOnlyList<RosterBox> boxes, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        foreach (var box in boxes)
        {
            var health = box.Quarantined ? BoxLedger.Quarantined : box.Admitted ? BoxLedger.Healthy : null;
            if (health is null)
            {
                continue; // not probed yet: nothing to tell
            }

            if (_published.TryGetValue(box.Name, out var last) && last.Health == health && last.Loaded == box.Loaded &&
                (health != BoxLedger.Quarantined || now - last.At < QuarantineReport))
            {
                continue;
            }

            await _ledger.ReportBoxAsync(box.Name, box.Loaded, health, _instance, now, cancellationToken);
            _published[box.Name] = (health, box.Loaded, now);
        }
    }

    /// <summary>What the step attempt of Quartz job <paramref name="attempt"/> (<c>job/step/attempt</c>) needs from a box, read once from its job's folder; null when it takes no slot or is gone.</summary>
    private async Task<BoxNeeds?> NeedsAsync(string attempt, CancellationToken cancellationToken)
    {
        if (_needs.TryGetValue(attempt, out var cached))
        {
            return cached;
        }

        BoxNeeds? needs = null;
        var parts = attempt.Split('/');
        if (parts.Length == 3 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var index) &&
            await _store.GetJobAsync(parts[0], cancellationToken) is { IsFinished: false } job && index < job.Steps.Count)
        {
            try
            {
                needs = await PortraitPipeline.PlacementNeedsAsync(job.OutputFolder, job.Steps[index].Name, cancellationToken);
            }
            catch (PipelineException e)
            {
                _logger.LogWarning("Job {Job}: step {Step} cannot be placed on a box ({Error}); it runs without one", job.Id, job.Steps[index].Name, e.Message);
            }
        }

        if (_needs.Count > 10_000)
        {
            _needs.Clear();
            _skips.Clear();
            _checked.Clear();
        }

        _needs[attempt] = needs;
        return needs;
    }

    /// <summary>
    /// Moves a step's trigger into the execution <paramref name="group"/> (a box's, the waiting one, or none), keeping its
    /// due time and what it carries. Rescheduling (not an update in place) wakes this instance's scheduler thread at once.
    /// A trigger that fired meanwhile is simply replaced: its firing finds the step running and does nothing
    /// (<see cref="IJobStore.StartStepAsync"/>).
    /// </summary>
    private async Task MoveAsync(string trigger, string job, string? group, CancellationToken cancellationToken)
    {
        var key = new TriggerKey(trigger, QuartzStepScheduler.Group);
        if (await _scheduler.GetTrigger(key, cancellationToken) is not { } existing)
        {
            return; // fired and gone, or its job was deleted
        }

        var takeOver = existing.JobDataMap.ContainsKey(QuartzStepScheduler.TakeOverKey) && existing.JobDataMap.GetBoolean(QuartzStepScheduler.TakeOverKey);
        var replaced = await _scheduler.RescheduleJob(key, QuartzStepScheduler.Trigger(trigger, job, existing.StartTimeUtc, group, takeOver), cancellationToken);
        if (replaced is not null && group?.StartsWith(StepSchedulerFactory.BoxGroupPrefix, StringComparison.Ordinal) == true)
        {
            Placed++;
            _logger.LogDebug("Step {Trigger} placed in {Group}", trigger, group);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is { } loop)
        {
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
        _wake.Dispose();
        await _ledger.DisposeAsync();
    }
}
