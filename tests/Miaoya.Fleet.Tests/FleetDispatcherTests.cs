using Miaoya.WebUi;
using static Miaoya.Fleet.Tests.FleetModel;

namespace Miaoya.Fleet.Tests;

/// <summary>Placement alone: queue order, slots, affinity and refusal, with boxes in memory and no HTTP.</summary>
public sealed class FleetDispatcherTests
{
    [Fact]
    public void Calls_wait_in_order_of_age_and_a_freed_box_takes_the_oldest()
    {
        var m = new FleetModel(boxes: 1, affinity: false);
        var first = m.Submit();
        var second = m.Submit();
        var third = m.Submit();

        Assert.Equal("box0", Placed(first));
        Assert.Null(Placed(second));
        Assert.Equal(2, m.Dispatcher.QueueDepth);

        m.Finish(first);
        Assert.Equal("box0", Placed(second));
        Assert.Null(Placed(third));
    }

    [Fact]
    public void A_box_with_two_slots_runs_two_generation_calls_and_non_generation_calls_take_no_slot()
    {
        var m = new FleetModel(boxes: 1, slots: 2);
        var a = m.Submit();
        var b = m.Submit();
        var c = m.Submit();
        var tagger = m.Submit(checkpoint: null, generation: false);

        Assert.Equal("box0", Placed(a));
        Assert.Equal("box0", Placed(b));
        Assert.Null(Placed(c));
        Assert.Equal("box0", Placed(tagger));
        Assert.Equal(2, m.Boxes[0].GenerationInFlight);
        Assert.Equal(1, m.Boxes[0].OtherInFlight);
    }

    [Fact]
    public void With_affinity_a_younger_call_for_the_loaded_checkpoint_goes_first_and_the_older_one_is_not_starved()
    {
        var m = new FleetModel(boxes: 1);
        m.Options.AffinityMaxSkips = 2;
        var warm = m.Submit("chilloutmix");
        var other = m.Submit("realistic");
        var same1 = m.Submit("chilloutmix");
        var same2 = m.Submit("chilloutmix");
        var same3 = m.Submit("chilloutmix");
        Assert.Equal(Title("chilloutmix"), m.Boxes[0].Loaded);

        m.Finish(warm);
        Assert.Equal("box0", Placed(same1)); // no switch: goes before the older "realistic" call
        m.Finish(same1);
        Assert.Equal("box0", Placed(same2));
        m.Finish(same2);

        // Passed over twice (AffinityMaxSkips): now it goes first, and the box switches.
        Assert.Equal("box0", Placed(other));
        Assert.Null(Placed(same3));
        Assert.Equal(Title("realistic"), m.Boxes[0].Loaded);
        Assert.Equal(2, m.Boxes[0].Counts.ModelSwitches);
    }

    [Fact]
    public void Without_affinity_calls_go_strictly_in_order()
    {
        var m = new FleetModel(boxes: 1, affinity: false);
        var warm = m.Submit("chilloutmix");
        var other = m.Submit("realistic");
        var same = m.Submit("chilloutmix");

        m.Finish(warm);
        Assert.Equal("box0", Placed(other));
        Assert.Null(Placed(same));
    }

    [Fact]
    public void A_free_box_with_the_checkpoint_loaded_is_preferred_over_a_less_busy_one()
    {
        var m = new FleetModel(boxes: 2, slots: 2);
        m.Boxes[0].Loaded = Title("realistic");
        m.Boxes[1].Loaded = Title("chilloutmix");
        var busy = m.Submit("chilloutmix");
        var next = m.Submit("chilloutmix");

        Assert.Equal("box1", Placed(busy));
        Assert.Equal("box1", Placed(next));
        Assert.Equal(0, m.Boxes[0].Counts.ModelSwitches + m.Boxes[1].Counts.ModelSwitches);
    }

    [Fact]
    public void A_quarantined_box_takes_no_calls_and_a_call_no_box_can_ever_run_fails_naming_each_box()
    {
        var m = new FleetModel(boxes: 2);
        for (var i = 0; i < m.Options.QuarantineAfterFailures; i++)
        {
            m.Boxes[0].Health.CallFailed("HTTP 500", refused: false);
        }

        var a = m.Submit();
        var b = m.Submit();
        Assert.Equal("box1", Placed(a));
        Assert.Null(Placed(b));

        var lacking = m.Submit(check: caps => [new BoxProblem("inpaint.controlnet.depth.model", "control_v11f1p_sd15_depth is not on the box")]);
        var error = Assert.IsType<WebUiBoxesException>(lacking.Assigned.Task.Exception?.InnerException);
        Assert.Contains("box0", error.Message, StringComparison.Ordinal);
        Assert.Contains("box1", error.Message, StringComparison.Ordinal);
        Assert.Contains("control_v11f1p_sd15_depth", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_call_placed_again_avoids_the_box_it_failed_on_while_another_can_run_it()
    {
        var m = new FleetModel(boxes: 2, affinity: false);
        var call = m.Submit();
        Assert.Equal("box0", Placed(call));
        m.Finish(call);
        call.FailedOn.Add(m.Boxes[0]);

        m.Dispatcher.Enqueue(call);
        m.Dispatcher.Dispatch();
        Assert.Equal("box1", Placed(call));
    }

    [Fact]
    public void A_withdrawn_call_leaves_the_queue_and_a_call_behind_it_is_placed()
    {
        var m = new FleetModel(boxes: 1, affinity: false);
        var running = m.Submit();
        var gives_up = m.Submit();
        var behind = m.Submit();

        m.Dispatcher.Withdraw(gives_up);
        Assert.Equal(1, m.Dispatcher.QueueDepth);
        m.Finish(running);
        Assert.Equal("box0", Placed(behind));
        Assert.False(gives_up.Assigned.Task.IsCompleted);
    }

    [Fact]
    public void A_box_on_trial_takes_one_generation_call_at_a_time()
    {
        var m = new FleetModel(boxes: 1, slots: 4);
        var health = m.Boxes[0].Health;
        for (var i = 0; i < m.Options.QuarantineAfterFailures; i++)
        {
            health.CallFailed("HTTP 502", refused: false);
        }

        health.CheckPassed();
        Assert.True(health.OnTrial);
        var first = m.Submit();
        var second = m.Submit();
        Assert.Equal("box0", Placed(first));
        Assert.Null(Placed(second));

        health.CallSucceeded();
        m.Finish(first);
        var third = m.Submit();
        Assert.Equal("box0", Placed(second));
        Assert.Equal("box0", Placed(third));
    }
}
