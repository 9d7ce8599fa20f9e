using Microsoft.Extensions.Time.Testing;

namespace Miaoya.Fleet.Tests;

/// <summary>The quarantine state machine alone, on a fake clock.</summary>
public sealed class BoxHealthStateTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));

    private BoxHealthState Healthy(int quarantineAfter = 3)
    {
        var state = new BoxHealthState(quarantineAfter, _time);
        Assert.Equal(BoxHealth.Unknown, state.CheckPassed());
        return state;
    }

    [Fact]
    public void A_box_is_unknown_and_takes_no_calls_until_a_check_passes()
    {
        var state = new BoxHealthState(3, _time);
        Assert.Equal(BoxHealth.Unknown, state.Health);
        Assert.False(state.Admits);
        Assert.Null(state.LastSeen);

        _time.Advance(TimeSpan.FromSeconds(7));
        state.CheckPassed();
        Assert.True(state.Admits);
        Assert.False(state.OnTrial);
        Assert.Equal(_time.GetUtcNow(), state.LastSeen);
    }

    [Fact]
    public void Failed_calls_in_a_row_quarantine_and_a_success_between_them_resets_the_count()
    {
        var state = Healthy();
        Assert.False(state.CallFailed("HTTP 500", refused: false));
        Assert.False(state.CallFailed("HTTP 500", refused: false));
        state.CallSucceeded();
        Assert.Equal(0, state.CallFailures);
        Assert.False(state.CallFailed("HTTP 500", refused: false));
        Assert.False(state.CallFailed("HTTP 500", refused: false));
        Assert.True(state.CallFailed("HTTP 502", refused: false));
        Assert.Equal(BoxHealth.Quarantined, state.Health);
        Assert.Equal("HTTP 502", state.LastError);

        // Already quarantined: no second transition to report.
        Assert.False(state.CallFailed("HTTP 502", refused: false));
    }

    [Fact]
    public void A_refused_connection_quarantines_at_once()
    {
        var state = Healthy();
        Assert.True(state.CallFailed("connection refused", refused: true));
        Assert.False(state.Admits);
    }

    [Fact]
    public void Failed_checks_quarantine_and_a_passing_check_readmits_on_trial()
    {
        var state = Healthy(quarantineAfter: 2);
        Assert.False(state.CheckFailed("timeout"));
        Assert.True(state.CheckFailed("timeout"));
        Assert.Equal(BoxHealth.Quarantined, state.Health);
        Assert.Equal(2, state.CheckFailures);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(BoxHealth.Quarantined, state.CheckPassed());
        Assert.True(state.Admits);
        Assert.True(state.OnTrial);
        Assert.Equal(0, state.CheckFailures);
        Assert.Equal(1, state.Slots(4));
    }

    [Fact]
    public void Half_open_one_failure_on_trial_quarantines_again_and_one_success_ends_the_trial()
    {
        var state = Healthy();
        state.CallFailed("refused", refused: true);
        state.CheckPassed();
        Assert.True(state.CallFailed("HTTP 500", refused: false));
        Assert.Equal(BoxHealth.Quarantined, state.Health);
        Assert.False(state.OnTrial);

        state.CheckPassed();
        state.CallSucceeded();
        Assert.False(state.OnTrial);
        Assert.Equal(4, state.Slots(4));
        Assert.False(state.CallFailed("HTTP 500", refused: false)); // a proven box has its full count again
    }

    [Fact]
    public void A_box_that_answers_checks_but_fails_calls_keeps_its_count_of_failed_calls()
    {
        var state = Healthy();
        state.CallFailed("HTTP 500", refused: false);
        state.CallFailed("HTTP 500", refused: false);
        state.CheckPassed();
        Assert.Equal(2, state.CallFailures);
        Assert.True(state.CallFailed("HTTP 500", refused: false));
    }

    [Fact]
    public void A_request_the_box_refused_counts_as_seen_not_as_a_failure()
    {
        var state = Healthy();
        state.CallFailed("HTTP 500", refused: false);
        _time.Advance(TimeSpan.FromMinutes(1));
        state.CallRefusedRequest();
        Assert.Equal(_time.GetUtcNow(), state.LastSeen);
        Assert.Equal(1, state.CallFailures);
    }
}
