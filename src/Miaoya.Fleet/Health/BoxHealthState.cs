namespace Miaoya.Fleet;

/// <summary>
/// One box's health as a state machine, apart from dispatch and from HTTP (the shape of Polly's circuit breaker, whose
/// <c>CircuitStateController</c> is separate from the strategy that uses it): unknown until a check passes; healthy;
/// quarantined after <see cref="FleetOptions.QuarantineAfterFailures"/> failed calls or failed checks in a row, or at once
/// when the box refuses connections; a passing check re-admits a quarantined box on trial (half-open): it takes one
/// generation call at a time, the first call that succeeds ends the trial, and one failure quarantines it again.
/// Not thread-safe: the fleet changes it under its lock.
/// </summary>
internal sealed class BoxHealthState(int quarantineAfter, TimeProvider time)
{
    /// <summary>Whether calls are sent to the box.</summary>
    public BoxHealth Health { get; private set; }

    /// <summary>Re-admitted and not yet proven by a call that succeeded.</summary>
    public bool OnTrial { get; private set; }

    /// <summary>Calls failed by the box in a row (reset by a call that succeeds).</summary>
    public int CallFailures { get; private set; }

    /// <summary>Health checks failed in a row (reset by one that passes).</summary>
    public int CheckFailures { get; private set; }

    /// <summary>When the box last answered a call or a health check.</summary>
    public DateTimeOffset? LastSeen { get; private set; }

    /// <summary>The last failure of a call or a check on the box.</summary>
    public string? LastError { get; private set; }

    /// <summary>Calls may be placed on the box.</summary>
    public bool Admits => Health == BoxHealth.Healthy;

    /// <summary>Generation slots the box may use now: one while on trial.</summary>
    public int Slots(int configured) => OnTrial ? 1 : configured;

    /// <summary>A call ran to an answer: the box is proven, any trial ends.</summary>
    public void CallSucceeded()
    {
        CallFailures = 0;
        OnTrial = false;
        LastSeen = time.GetUtcNow();
    }

    /// <summary>The box answered, and the answer refused the request (the request's fault, not the box's).</summary>
    public void CallRefusedRequest() => LastSeen = time.GetUtcNow();

    /// <summary>A call failed because of the box; true when this failure quarantines it.</summary>
    /// <param name="error">What went wrong.</param>
    /// <param name="refused">The box refused the connection (or its client's breaker is open): nothing is listening, so no count is waited for.</param>
    public bool CallFailed(string error, bool refused)
    {
        LastError = error;
        CallFailures++;
        var quarantine = Health == BoxHealth.Healthy && (refused || OnTrial || CallFailures >= quarantineAfter);
        if (quarantine)
        {
            Quarantine();
        }

        return quarantine;
    }

    /// <summary>A health check passed; returns the state before it (a box not healthy is admitted, on trial if it was quarantined).</summary>
    public BoxHealth CheckPassed()
    {
        var before = Health;
        LastSeen = time.GetUtcNow();
        if (before != BoxHealth.Healthy)
        {
            Health = BoxHealth.Healthy;
            OnTrial = before == BoxHealth.Quarantined;
            CallFailures = 0;
        }

        // A box that answers checks but fails calls keeps its count of failed calls.
        CheckFailures = 0;
        return before;
    }

    /// <summary>A health check failed; true when this failure quarantines the box.</summary>
    public bool CheckFailed(string error)
    {
        LastError = error;
        CheckFailures++;
        var quarantine = Health == BoxHealth.Healthy && CheckFailures >= quarantineAfter;
        if (quarantine)
        {
            Quarantine();
        }

        return quarantine;
    }

    private void Quarantine()
    {
        Health = BoxHealth.Quarantined;
        OnTrial = false;
    }
}
