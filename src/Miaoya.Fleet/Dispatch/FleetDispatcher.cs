using System.Diagnostics;
using Miaoya.WebUi;

namespace Miaoya.Fleet;

/// <summary>
/// Placement of calls on boxes: one FIFO queue; when a box frees (or comes back) it goes to the oldest waiting call it can
/// serve (the call's checks pass on its capabilities, and a generation call needs one of its slots; the tagger, rembg and
/// detect need none). With <see cref="FleetOptions.Affinity"/> a younger call whose checkpoint the box has loaded may go
/// first (bounded by <see cref="FleetOptions.AffinityLookahead"/> and <see cref="FleetOptions.AffinityMaxSkips"/>, so
/// nothing starves). A call no box could ever run (every box is probed and lacks something) fails at once.
/// Knows nothing of HTTP or of time; not thread-safe: the fleet calls it under its lock, and tests call it directly.
/// </summary>
internal sealed class FleetDispatcher(IReadOnlyList<FleetBox> boxes, FleetOptions options, FleetMetrics metrics)
{
    private readonly LinkedList<FleetCall> _queue = new();

    // What a placement round knows of the boxes, taken once per round (every list below is rebuilt in one pass over the
    // boxes) so that the waiting calls are matched against the few boxes that can take a call now, not against all.
    private readonly WebUiCapabilities?[] _probed = new WebUiCapabilities?[boxes.Count];
    private readonly List<FleetBox> _admitted = [];
    private readonly List<FleetBox> _free = [];
    private readonly List<FleetCall> _unchecked = [];
    private long _capabilitiesVersion;
    private int _otherWaiting;
    private int _placedWaiting;

    /// <summary>Calls waiting for a box.</summary>
    public int QueueDepth => _queue.Count;

    /// <summary>Waiting calls this box could run (it has what they need).</summary>
    public int WaitingFor(FleetBox box) => box.Capabilities is null ? 0 : _queue.Count(c => c.Problems(box).Count == 0);

    /// <summary>Into the queue by age: a call placed again keeps its place ahead of younger ones.</summary>
    public void Enqueue(FleetCall call)
    {
        call.Reset();
        var after = _queue.Last;
        while (after is not null && after.Value.Sequence > call.Sequence)
        {
            after = after.Previous;
        }

        if (after is null)
        {
            _queue.AddFirst(call.Node);
        }
        else
        {
            _queue.AddAfter(after, call.Node);
        }

        if (!call.Needs.IsGeneration)
        {
            _otherWaiting++;
        }

        if (call.Needs.Box is not null)
        {
            _placedWaiting++;
        }

        call.CheckedAt = -1;
        _unchecked.Add(call);
    }

    /// <summary>A waiting call gives up: out of the queue, or, if it was just given a box, the box's slot back.</summary>
    public void Withdraw(FleetCall call)
    {
        if (call.Node.List is not null)
        {
            Remove(call);
        }
        else if (call.Given is { } box)
        {
            Free(box, call.Needs);
        }
    }

    /// <summary>Every waiting call, out of the queue (the fleet stops).</summary>
    public List<FleetCall> Drain()
    {
        var calls = _queue.ToList();
        _queue.Clear();
        _unchecked.Clear();
        _otherWaiting = 0;
        _placedWaiting = 0;
        return calls;
    }

    /// <summary>Hands free boxes to waiting calls; see the type's summary for the order.</summary>
    public void Dispatch()
    {
        // First pass: affinity may hold a box back from an older call for a younger one that needs no switch. Second
        // pass: a box still free goes to the oldest call it can serve, so no box idles while a call it could run waits
        // (the younger call it was held for may have gone to another box with the same model). A pass stops as soon as
        // no box can take a generation call and no other call waits: the cost of a round follows the boxes that are
        // free, not the length of the queue or the size of the fleet.
        var started = Stopwatch.GetTimestamp();
        var capabilitiesChanged = RefreshBoxes();
        FailPlacedOnClosedBoxes();
        FailNeverRunnable(capabilitiesChanged);
        if (_queue.Count > 0 && (_free.Count > 0 || _otherWaiting > 0))
        {
            var passedOver = new HashSet<FleetCall>();
            Pass(passedOver);
            Pass(null);
            foreach (var call in passedOver.Where(c => c.Given is null))
            {
                call.Skips++;
            }
        }

        metrics.Dispatched(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Frees the call's slot on the box.</summary>
    public static void Free(FleetBox box, BoxNeeds needs)
    {
        if (needs.IsGeneration)
        {
            box.GenerationInFlight--;
        }
        else
        {
            box.OtherInFlight--;
        }
    }

    /// <summary>
    /// The boxes as this round sees them: which are admitted and probed, which of those have a generation slot free.
    /// True when some box's capabilities changed since the last round (a probe), so every waiting call is checked again.
    /// </summary>
    private bool RefreshBoxes()
    {
        var changed = false;
        _admitted.Clear();
        _free.Clear();
        for (var i = 0; i < boxes.Count; i++)
        {
            var box = boxes[i];
            if (!ReferenceEquals(_probed[i], box.Capabilities))
            {
                _probed[i] = box.Capabilities;
                changed = true;
            }

            if (!box.Health.Admits || box.Capabilities is null)
            {
                continue;
            }

            _admitted.Add(box);
            if (box.GenerationInFlight < box.Slots)
            {
                _free.Add(box);
            }
        }

        if (changed)
        {
            _capabilitiesVersion++;
        }

        return changed;
    }

    /// <summary>
    /// A call no box could ever run fails at once: checked when it is queued, and every waiting call again when a box's
    /// capabilities change (whether a call can ever run depends on nothing else).
    /// </summary>
    private void FailNeverRunnable(bool capabilitiesChanged)
    {
        if (capabilitiesChanged)
        {
            _unchecked.Clear();
            _unchecked.AddRange(_queue);
        }

        foreach (var call in _unchecked)
        {
            if (call.Node.List is null || call.CheckedAt == _capabilitiesVersion)
            {
                continue;
            }

            if (NeverRunnable(call) is { } problems)
            {
                Remove(call);
                call.Assigned.TrySetException(new WebUiBoxesException(call.Needs.Purpose, problems));
                continue;
            }

            call.CheckedAt = _capabilitiesVersion;
        }

        _unchecked.Clear();
    }

    /// <summary>
    /// A call placed on one box (<see cref="BoxNeeds.Box"/>) that takes no calls now fails at once as the box's fault, so
    /// that its step is placed again rather than waiting out a quarantine; and so does one placed on a box this fleet lacks.
    /// A box not yet probed is waited for.
    /// </summary>
    private void FailPlacedOnClosedBoxes()
    {
        if (_placedWaiting == 0)
        {
            return;
        }

        for (var node = _queue.First; node is not null;)
        {
            var next = node.Next;
            var call = node.Value;
            if (call.Needs.Box is { } placed)
            {
                var box = boxes.FirstOrDefault(b => b.Name == placed);
                var reason = box is null ? "this instance has no box of that name"
                    : box.Health.Health == BoxHealth.Quarantined ? "it is quarantined"
                    : null;
                if (reason is not null)
                {
                    Remove(call);
                    call.Assigned.TrySetException(new WebUiBoxUnavailableException(placed, call.Needs.Purpose, reason));
                }
            }

            node = next;
        }
    }

    private void Pass(HashSet<FleetCall>? passedOver)
    {
        var node = _queue.First;
        while (node is not null && (_free.Count > 0 || _otherWaiting > 0))
        {
            var next = node.Next;
            var call = node.Value;
            if (call.Needs.IsGeneration && _free.Count == 0)
            {
                node = next;
                continue;
            }

            var candidates = Candidates(call);
            var box = candidates.Count == 0 ? null : Choose(call, candidates, node, passedOver);
            if (box is not null)
            {
                Remove(call);
                var dispatch = Take(box, call.Needs);
                if (box.GenerationInFlight >= box.Slots)
                {
                    _free.Remove(box);
                }

                call.Given = box;
                call.Assigned.TrySetResult((box, dispatch));
            }

            node = next;
        }
    }

    private void Remove(FleetCall call)
    {
        _queue.Remove(call.Node);
        if (!call.Needs.IsGeneration)
        {
            _otherWaiting--;
        }

        if (call.Needs.Box is not null)
        {
            _placedWaiting--;
        }
    }

    /// <summary>The healthy boxes that could run the call now; a retried call avoids the boxes it failed on while another could run it.</summary>
    private List<FleetBox> Candidates(FleetCall call)
    {
        if (call.FailedOn.Count > 0)
        {
            return CandidatesAvoiding(call);
        }

        // Nothing to avoid: the admitted boxes (generation calls: those with a slot free) that have what it needs.
        var free = new List<FleetBox>();
        foreach (var box in call.Needs.IsGeneration ? _free : _admitted)
        {
            if (call.Problems(box).Count == 0)
            {
                free.Add(box);
            }
        }

        return free;
    }

    private List<FleetBox> CandidatesAvoiding(FleetCall call)
    {
        var free = new List<FleetBox>();
        var avoidable = false;
        foreach (var box in _admitted)
        {
            if (call.Problems(box).Count > 0)
            {
                continue;
            }

            if (!call.FailedOn.Contains(box))
            {
                avoidable = true;
            }

            if (!call.Needs.IsGeneration || box.GenerationInFlight < box.Slots)
            {
                free.Add(box);
            }
        }

        if (avoidable)
        {
            free.RemoveAll(call.FailedOn.Contains);
        }
        else
        {
            call.FailedOn.Clear(); // every box that could run it failed it once: try them again
        }

        return free;
    }

    /// <summary>The box for the call among the free <paramref name="candidates"/>, or null to hold it back (first pass only: <paramref name="passedOver"/> set).</summary>
    private FleetBox? Choose(FleetCall call, List<FleetBox> candidates, LinkedListNode<FleetCall> node, HashSet<FleetCall>? passedOver)
    {
        if (!call.Needs.IsGeneration || call.Needs.Checkpoint is null || !options.Affinity)
        {
            return LeastBusy(candidates);
        }

        var matching = candidates.Where(b => b.Loaded is not null && b.Loaded == call.Target(b)).ToList();
        if (matching.Count > 0)
        {
            return LeastBusy(matching);
        }

        // Every free box would have to switch models for this call. A younger call (within the lookahead) that one of
        // them could run without a switch goes first on that box, unless this call has been passed over often enough.
        var window = Window(node);
        var open = candidates;
        if (passedOver is not null && call.Skips < options.AffinityMaxSkips)
        {
            open = candidates.Where(b => !window.Any(w => w.Needs.IsGeneration && b.Loaded is not null && w.Target(b) == b.Loaded && w.Problems(b).Count == 0 && !w.FailedOn.Contains(b))).ToList();
            if (open.Count < candidates.Count)
            {
                passedOver.Add(call);
            }

            if (open.Count == 0)
            {
                return null;
            }
        }

        // Switch the box whose loaded checkpoint the fewest waiting calls want.
        return open.OrderBy(b => window.Count(w => b.Loaded is not null && w.Target(b) == b.Loaded)).ThenBy(b => b.Busy).ThenBy(b => b.Index).First();
    }

    private List<FleetCall> Window(LinkedListNode<FleetCall> node)
    {
        var window = new List<FleetCall>();
        for (var n = node.Next; n is not null && window.Count < options.AffinityLookahead; n = n.Next)
        {
            window.Add(n.Value);
        }

        return window;
    }

    private static FleetBox LeastBusy(List<FleetBox> candidates) => candidates.OrderBy(b => b.Busy).ThenBy(b => b.Index).First();

    /// <summary>When every box is known and none has what the call needs: the problems per box; else null (it may yet run).</summary>
    private Dictionary<string, IReadOnlyList<BoxProblem>>? NeverRunnable(FleetCall call)
    {
        var problems = new Dictionary<string, IReadOnlyList<BoxProblem>>();
        // A call placed on one box can never run when that box lacks what it needs (the others are not asked).
        foreach (var box in call.Needs.Box is { } placed ? boxes.Where(b => b.Name == placed) : boxes)
        {
            if (box.Capabilities is null)
            {
                return null;
            }

            if (call.Problems(box) is { Count: > 0 } lacking)
            {
                problems[box.Name] = lacking;
            }
            else
            {
                return null;
            }
        }

        return problems.Count > 0 ? problems : null;
    }

    /// <summary>Occupies the box for the call; returns the box's dispatch number (whether a later generation call was sent since).</summary>
    private long Take(FleetBox box, BoxNeeds needs)
    {
        if (!needs.IsGeneration)
        {
            box.OtherInFlight++;
            return box.Dispatches;
        }

        box.GenerationInFlight++;
        if (needs.Checkpoint is { } name)
        {
            var wanted = box.Capabilities!.FindCheckpoint(name)?.Title ?? name;
            if (box.Loaded != wanted)
            {
                metrics.ModelSwitched(box);
                box.Loaded = wanted;
            }
        }

        return ++box.Dispatches;
    }
}
