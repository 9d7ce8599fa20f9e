namespace Miaoya.MockWebUi;

/// <summary>
/// Generation-type calls in flight on the box and how often they overlapped; its own lock. A call counts from the moment it
/// reaches the <see cref="JobQueue"/> (waiting for its turn included) until it is answered, whatever the outcome: done,
/// failed, interrupted, or cut short by the box going down.
/// </summary>
/// <remarks>
/// A1111 renders one call at a time behind <c>queue_lock</c> (AUTOMATIC1111/stable-diffusion-webui modules/call_queue.py:8,
/// <c>queue_lock = threading.Lock()</c>; webui.py <c>create_api</c> hands it to <c>Api</c>, whose txt2img and img2img routes take
/// it, api.py:467,537), and so does the mock's <see cref="JobQueue"/>: two calls that reach the box together never render
/// together, the second waits. What a client with a concurrency limit of one must never do is have two calls at
/// the box at once, so that is what is counted, at the queue's door rather than after it.
/// </remarks>
internal sealed class RenderCounter
{
    private readonly Lock _gate = new();
    private int _inFlight;
    private int _maxInFlight;
    private long _started;
    private long _overlappingStarts;

    /// <summary>A call reached the queue; an overlapping start when another was in flight.</summary>
    public void Enter()
    {
        lock (_gate)
        {
            _started++;
            if (_inFlight > 0)
            {
                _overlappingStarts++;
            }

            _inFlight++;
            _maxInFlight = Math.Max(_maxInFlight, _inFlight);
        }
    }

    /// <summary>A call that <see cref="Enter"/> counted was answered (or ended without an answer).</summary>
    public void Exit()
    {
        lock (_gate)
        {
            _inFlight--;
        }
    }

    public MockRenderCounts Snapshot()
    {
        lock (_gate)
        {
            return new MockRenderCounts(_inFlight, _maxInFlight, _started, _overlappingStarts);
        }
    }

    /// <summary>Starts counting afresh: the calls in flight stay in flight (and are the new maximum); starts go back to zero.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _maxInFlight = _inFlight;
            _started = 0;
            _overlappingStarts = 0;
        }
    }
}
