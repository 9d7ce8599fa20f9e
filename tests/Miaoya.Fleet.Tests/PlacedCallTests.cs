using Miaoya.WebUi;
using static Miaoya.Fleet.Tests.FleetHarness;

namespace Miaoya.Fleet.Tests;

/// <summary>A call placed on one box (a job step whose slot the engine booked there across instances): <see cref="BoxNeeds.Box"/>.</summary>
public sealed class PlacedCallTests
{
    [Fact]
    public async Task A_placed_call_runs_on_its_box_only_even_when_another_is_free()
    {
        await using var h = await StartAsync(2, mock: (_, o) => o.Latency = TimeSpan.FromMilliseconds(20));
        var boxes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            h.Fleet.RunAsync(Generation(Chilloutmix) with { Box = "box1" }, (box, ct) => Task.FromResult(box.Name)))).WaitAsync(Guard);
        Assert.All(boxes, b => Assert.Equal("box1", b));
        Assert.Equal(["box0", "box1"], h.Fleet.Boxes().Select(b => b.Name));
        Assert.All(h.Fleet.Boxes(), b => Assert.True(b.Admitted));
    }

    [Fact]
    public async Task A_call_placed_on_a_quarantined_box_fails_at_once_as_the_boxs_fault_and_one_on_an_unknown_box_too()
    {
        await using var h = await StartAsync(2, mock: (_, o) => o.Latency = TimeSpan.FromMilliseconds(20));
        h.Servers[0].GoDown();
        await WaitUntilAsync(() => h.Box("box0").Health == BoxHealth.Quarantined, "box0 is quarantined");
        Assert.Contains(h.Fleet.Boxes(), b => b.Name == "box0" && b.Quarantined && !b.Admitted);

        var quarantined = await Assert.ThrowsAsync<WebUiBoxUnavailableException>(() =>
            h.Fleet.RunAsync(Generation(Chilloutmix) with { Box = "box0" }, (box, ct) => Task.FromResult(box.Name)).WaitAsync(Guard));
        Assert.Equal("box0", quarantined.Box);
        Assert.Contains("quarantined", quarantined.Message, StringComparison.Ordinal);
        Assert.Equal(FailureKind.Box, Failures.Classify(quarantined)); // the step is tried again, placed elsewhere

        var unknown = await Assert.ThrowsAsync<WebUiBoxUnavailableException>(() =>
            h.Fleet.RunAsync(Generation(Chilloutmix) with { Box = "box9" }, (box, ct) => Task.FromResult(box.Name)).WaitAsync(Guard));
        Assert.Contains("no box of that name", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_placed_call_whose_box_lacks_what_it_needs_fails_naming_that_box_only()
    {
        await using var h = await StartAsync(2);
        var error = await Assert.ThrowsAsync<WebUiBoxesException>(() => h.Fleet.RunAsync(
            Generation(Chilloutmix) with { Box = "box1", Check = caps => [new BoxProblem("inpaint.controlnet.softedge.model", "not on this box")] },
            (box, ct) => Task.FromResult(box.Name)).WaitAsync(Guard));
        Assert.Equal(["box1"], error.Problems.Keys);
    }
}
