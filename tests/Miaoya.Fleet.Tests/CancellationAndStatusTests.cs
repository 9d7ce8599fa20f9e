using Microsoft.Extensions.Configuration;
using static Miaoya.Fleet.Tests.FleetHarness;

namespace Miaoya.Fleet.Tests;

public sealed class CancellationAndStatusTests
{
    [Fact]
    public async Task Cancelling_a_call_interrupts_the_box_it_runs_on_and_no_other()
    {
        await using var h = await StartAsync(2, mock: (_, o) => o.Latency = Guard);
        using var cancelFirst = new CancellationTokenSource();
        using var cancelSecond = new CancellationTokenSource();
        var first = h.RenderOnFleetAsync(Chilloutmix, cancelFirst.Token);
        var second = h.RenderOnFleetAsync(Chilloutmix, cancelSecond.Token);
        await WaitUntilAsync(() => h.Fleet.Status().All(b => b.InFlight == 1), "both boxes render");
        await WaitUntilAsync(() => h.Servers.All(s => s.JobRunning), "both renders reached their boxes");

        // The first call went to box0 (both free: the first listed).
        await cancelFirst.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Guard));

        Assert.Equal((1, 0), (h.Servers[0].InterruptCount, h.Servers[1].InterruptCount));
        Assert.False(second.IsCompleted);
        Assert.Equal(0, h.Box("box0").InFlight);

        await cancelSecond.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.WaitAsync(Guard));
        Assert.Equal((1, 1), (h.Servers[0].InterruptCount, h.Servers[1].InterruptCount));
    }

    [Fact]
    public async Task Cancelling_a_waiting_call_removes_it_from_the_queue_without_touching_a_box()
    {
        await using var h = await StartAsync(1);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = h.Fleet.RunAsync(Generation(Chilloutmix), async (box, ct) =>
        {
            await gate.Task.WaitAsync(ct);
            return box.Name;
        });
        await WaitUntilAsync(() => h.Box("box0").InFlight == 1, "the first call runs");
        using var cancel = new CancellationTokenSource();
        var ran = false;
        var waiting = h.Fleet.RunAsync(Generation(Chilloutmix), (box, _) =>
        {
            ran = true;
            return Task.FromResult(box.Name);
        }, cancel.Token);
        Assert.Equal(1, h.Fleet.QueueDepth);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Guard));
        Assert.Equal(0, h.Fleet.QueueDepth);

        gate.SetResult();
        await running.WaitAsync(Guard);
        Assert.False(ran);
        Assert.Equal(0, h.Servers[0].InterruptCount);
        Assert.Equal(0, h.Box("box0").InFlight);
    }

    [Fact]
    public async Task Status_shows_queue_depth_waiting_in_flight_loaded_model_and_call_figures()
    {
        await using var h = await StartAsync(2, mock: (i, o) =>
        {
            if (i == 1)
            {
                o.Without.Add(Sd15);
            }
        });
        var initial = h.Fleet.Snapshot();
        Assert.All(initial.Boxes, b =>
        {
            Assert.Equal(BoxHealth.Healthy, b.Health);
            Assert.StartsWith(Chilloutmix, b.LoadedCheckpoint, StringComparison.Ordinal);
            Assert.Null(b.MeanCallSeconds);
            Assert.NotNull(b.LastSeen);
            Assert.Equal(1, b.MaxConcurrent);
        });

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> Hold(string checkpoint) => h.Fleet.RunAsync(Generation(checkpoint), async (box, ct) =>
        {
            await gate.Task.WaitAsync(ct);
            return box.Name;
        });

        var calls = new[] { Hold(Sd15), Hold(Chilloutmix), Hold(Sd15), Hold(Chilloutmix), Hold(Chilloutmix) };
        await WaitUntilAsync(() => h.Fleet.Status().All(b => b.InFlight == 1), "both boxes hold a call");
        var busy = h.Fleet.Snapshot();
        Assert.Equal(3, busy.QueueDepth);
        Assert.Equal(3, busy.Boxes[0].Waiting); // box0 has both checkpoints
        Assert.Equal(2, busy.Boxes[1].Waiting); // box1 lacks sd15
        Assert.StartsWith(Sd15, busy.Boxes[0].LoadedCheckpoint, StringComparison.Ordinal); // switched for the sd15 call
        Assert.Equal(1, busy.Boxes[0].ModelSwitches);

        gate.SetResult();
        await Task.WhenAll(calls).WaitAsync(Guard);
        await h.RenderOnFleetAsync(Chilloutmix).WaitAsync(Guard);
        var done = h.Fleet.Snapshot();
        Assert.Equal(0, done.QueueDepth);
        Assert.Equal(6, done.Boxes.Sum(b => b.Calls));
        Assert.All(done.Boxes, b => Assert.NotNull(b.MeanCallSeconds));
        Assert.All(done.Boxes, b => Assert.Equal((0, 0, 0L), (b.InFlight, b.Waiting, b.Failures)));
    }

    [Fact]
    public void Invalid_options_are_all_reported_at_once()
    {
        var options = new FleetOptions { QuarantineAfterFailures = 0, MaxAttempts = 0 };
        options.Boxes.Add(new BoxOptions { Url = new Uri("ftp://gpu-1/") });
        options.Boxes.Add(new BoxOptions { Url = new Uri("http://gpu-2:7860"), MaxConcurrent = 0, Username = "u" });

        var problems = options.Validate();

        Assert.Equal(5, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("Fleet:Boxes:0:Url", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Fleet:Boxes:1:MaxConcurrent", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Fleet:Boxes:1: set both", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Fleet:QuarantineAfterFailures", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Fleet:MaxAttempts", StringComparison.Ordinal));
    }

    [Fact]
    public void Configuration_keys_bind_as_the_readme_shows()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Fleet:Boxes:0:Url"] = "http://gpu-1:7860",
                ["Fleet:Boxes:0:Name"] = "gpu-1",
                ["Fleet:Boxes:0:Labels:0"] = "gpu=4090",
                ["Fleet:Boxes:0:MaxConcurrent"] = "2",
                ["Fleet:Boxes:1:Url"] = "http://gpu-2:7860",
                ["Fleet:Boxes:1:Username"] = "u",
                ["Fleet:Boxes:1:Password"] = "p",
                ["Fleet:Affinity"] = "false",
                ["Fleet:HealthInterval"] = "00:00:10",
                ["Fleet:QuarantineAfterFailures"] = "4",
            })
            .Build();
        var options = new FleetOptions();

        configuration.GetSection(FleetOptions.SectionName).Bind(options);

        Assert.Empty(options.Validate());
        Assert.Equal(2, options.Boxes.Count);
        Assert.Equal(("gpu-1", 2, "gpu=4090"), (options.Boxes[0].Name, options.Boxes[0].MaxConcurrent, options.Boxes[0].Labels.Single()));
        Assert.Equal(("u", "p"), (options.Boxes[1].Username, options.Boxes[1].Password));
        Assert.False(options.Affinity);
        Assert.Equal((TimeSpan.FromSeconds(10), 4), (options.HealthInterval, options.QuarantineAfterFailures));
    }
}
