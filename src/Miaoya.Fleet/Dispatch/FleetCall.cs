using Miaoya.WebUi;

namespace Miaoya.Fleet;

/// <summary>One call waiting for a box, or running on one: what it needs, its age, and where it failed before.</summary>
internal sealed class FleetCall
{
    private readonly Dictionary<FleetBox, (WebUiCapabilities Caps, IReadOnlyList<BoxProblem> Problems, string? Target)> _evaluated = [];

    public FleetCall(BoxNeeds needs, long sequence)
    {
        Needs = needs;
        Sequence = sequence;
        Node = new LinkedListNode<FleetCall>(this);
    }

    public BoxNeeds Needs { get; }

    /// <summary>Its age: the queue is ordered by it, and a call placed again keeps it.</summary>
    public long Sequence { get; }

    public LinkedListNode<FleetCall> Node { get; }

    /// <summary>Completed with the box (and the box's dispatch number) when the call is placed, or with why it never can be.</summary>
    public TaskCompletionSource<(FleetBox Box, long Dispatch)> Assigned { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The dispatcher's capabilities version at which the call was last found runnable by some box (-1: not yet).</summary>
    public long CheckedAt { get; set; } = -1;

    /// <summary>Times a younger call went first for affinity.</summary>
    public int Skips { get; set; }

    /// <summary>The box the last placement gave it (its slot is taken until released).</summary>
    public FleetBox? Given { get; set; }

    /// <summary>Boxes it failed on: avoided while another box could run it.</summary>
    public HashSet<FleetBox> FailedOn { get; } = [];

    /// <summary>A fresh completion for the next placement (a retried call waits again).</summary>
    public void Reset()
    {
        Given = null;
        if (Assigned.Task.IsCompleted)
        {
            Assigned = new TaskCompletionSource<(FleetBox, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>What the box lacks for this call, evaluated once per probe of the box.</summary>
    public IReadOnlyList<BoxProblem> Problems(FleetBox box) => Evaluate(box).Problems;

    /// <summary>The call's checkpoint as the box titles it (or the name as given; null for no checkpoint), once per probe.</summary>
    public string? Target(FleetBox box) => Needs.Checkpoint is null || box.Capabilities is null ? Needs.Checkpoint : Evaluate(box).Target;

    private (WebUiCapabilities Caps, IReadOnlyList<BoxProblem> Problems, string? Target) Evaluate(FleetBox box)
    {
        var caps = box.Capabilities!;
        if (_evaluated.TryGetValue(box, out var cached) && ReferenceEquals(cached.Caps, caps))
        {
            return cached;
        }

        IReadOnlyList<BoxProblem> problems;
        try
        {
            problems = Needs.Box is { } placed && placed != box.Name
                ? [new BoxProblem(Needs.Purpose, $"the step was placed on box {placed}")]
                : Needs.Check?.Invoke(caps) ?? [];
        }
        catch (Exception e)
        {
            // A check that throws must not break dispatch (it runs under the fleet's lock): the box cannot run the call.
            problems = [new BoxProblem(Needs.Purpose, $"checking what {Needs.Purpose} needs failed: {e.Message}")];
        }

        var entry = (caps, problems, Needs.Checkpoint is { } name ? caps.FindCheckpoint(name)?.Title ?? name : null);
        _evaluated[box] = entry;
        return entry;
    }
}
