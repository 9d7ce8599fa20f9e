using System.Collections.Concurrent;
using Miaoya.MockWebUi;
using Miaoya.WebUi;
using static Miaoya.Fleet.Tests.FleetHarness;

namespace Miaoya.Fleet.Tests;

public sealed class HealthTests
{
    private const string Txt2Img = "/sdapi/v1/txt2img";

    [Fact]
    public async Task A_box_that_goes_down_is_quarantined_and_readmitted_when_it_comes_back()
    {
        await using var h = await StartAsync(2, mock: (_, o) => o.Latency = TimeSpan.FromMilliseconds(20));
        h.Servers[0].GoDown();
        await WaitUntilAsync(() => h.Box("box0").Health == BoxHealth.Quarantined, "box0 is quarantined");
        Assert.NotNull(h.Box("box0").LastError);

        var whileDown = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => h.RenderOnFleetAsync(Chilloutmix))).WaitAsync(Guard);
        Assert.All(whileDown, b => Assert.Equal("box1", b));

        h.Servers[0].ComeBack();
        await WaitUntilAsync(() => h.Box("box0").Health == BoxHealth.Healthy, "box0 is re-admitted");
        var lastSeen = h.Box("box0").LastSeen;
        Assert.NotNull(lastSeen);

        // Both boxes take calls again: hold box1 busy and the next call goes to box0.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new ConcurrentBag<string>();
        var holders = Enumerable.Range(0, 2).Select(_ => h.Fleet.RunAsync(Generation(Chilloutmix), async (box, ct) =>
        {
            held.Add(box.Name);
            await gate.Task.WaitAsync(ct);
            return 0;
        })).ToArray();
        await WaitUntilAsync(() => held.Count == 2, "both boxes hold a call");
        Assert.Equal(["box0", "box1"], held.Order());
        gate.SetResult();
        await Task.WhenAll(holders).WaitAsync(Guard);
    }

    [Fact]
    public async Task A_box_dropping_connections_mid_call_the_calls_complete_on_another_box()
    {
        await using var h = await StartAsync(2, mock: (_, o) => o.Latency = TimeSpan.FromMilliseconds(30));
        h.Servers[0].AddFault(new MockFault(Txt2Img) { Kind = MockFaultKind.DropConnection, Latency = TimeSpan.FromMilliseconds(100) });

        var boxes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => h.RenderOnFleetAsync(Chilloutmix))).WaitAsync(Guard);

        Assert.All(boxes, b => Assert.Equal("box1", b));
        Assert.Equal(0, h.Servers[0].CompletedJobs("txt2img"));
        Assert.Equal(6, h.Servers[1].CompletedJobs("txt2img"));
        var box0 = h.Box("box0");
        Assert.True(box0.Failures >= 1, "box0's dropped calls are counted");
        Assert.Contains("connection", box0.LastError, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_box_that_dies_while_rendering_the_call_runs_again_on_another_box()
    {
        // box0 renders slowly (the call is surely in flight when it dies); box1 quickly.
        await using var h = await StartAsync(2, mock: (i, o) => o.Latency = i == 0 ? Guard : TimeSpan.FromMilliseconds(20));
        var attempts = new ConcurrentQueue<string>();
        var call = h.Fleet.RunAsync(Generation(Chilloutmix), async (box, ct) =>
        {
            attempts.Enqueue(box.Name);
            await RenderAsync(box, Chilloutmix, ct);
            return box.Name;
        });
        await WaitUntilAsync(() => h.Servers[0].JobRunning, "box0 renders the call");

        h.Servers[0].GoDown();

        Assert.Equal("box1", await call.WaitAsync(Guard));
        Assert.Equal(["box0", "box1"], attempts);
        Assert.Equal((0, 1), (h.Servers[0].CompletedJobs("txt2img"), h.Servers[1].CompletedJobs("txt2img")));
        Assert.Equal(1, h.Box("box0").Failures);
    }

    [Fact]
    public async Task All_boxes_down_then_back_the_waiting_calls_complete()
    {
        await using var h = await StartAsync(2, mock: (_, o) => o.Latency = TimeSpan.FromMilliseconds(300));
        var calls = Enumerable.Range(0, 4).Select(_ => h.RenderOnFleetAsync(Chilloutmix)).ToArray();
        await WaitUntilAsync(() => h.Fleet.Status().Sum(b => b.InFlight) == 2, "both boxes render");

        foreach (var server in h.Servers)
        {
            server.GoDown();
        }

        await WaitUntilAsync(() => h.Fleet.Status().All(b => b.Health == BoxHealth.Quarantined), "every box is quarantined");
        var failedChecks = h.Fleet.Status().Sum(b => b.ConsecutiveFailures);
        await WaitUntilAsync(() => h.Fleet.Status().Sum(b => b.ConsecutiveFailures) >= failedChecks + 4, "more health checks failed");
        Assert.All(calls, c => Assert.False(c.IsCompleted, "calls wait while every box is down"));
        Assert.Equal(4, h.Fleet.QueueDepth);

        foreach (var server in h.Servers)
        {
            server.ComeBack();
        }

        var boxes = await Task.WhenAll(calls).WaitAsync(Guard);
        Assert.Equal(4, boxes.Length);
        Assert.Equal(4, h.Servers.Sum(s => s.CompletedJobs("txt2img")));
        Assert.All(h.Fleet.Status(), b => Assert.Equal(BoxHealth.Healthy, b.Health));
    }

    [Fact]
    public async Task A_box_down_at_start_joins_when_it_comes_up()
    {
        await using var h = await StartAsync(2, beforeStart: (i, s) =>
        {
            if (i == 1)
            {
                s.GoDown();
            }
        });
        Assert.Equal((BoxHealth.Healthy, BoxHealth.Unknown), (h.Box("box0").Health, h.Box("box1").Health));

        h.Servers[1].ComeBack();
        await WaitUntilAsync(() => h.Box("box1").Health == BoxHealth.Healthy, "box1 is up");
        Assert.Equal(h.Servers[1].LoadedCheckpoint, h.Box("box1").LoadedCheckpoint);
    }

    [Fact]
    public async Task A_box_answering_500_is_quarantined_and_its_calls_run_elsewhere()
    {
        await using var h = await StartAsync(2);
        h.Servers[0].AddFault(new MockFault(Txt2Img) { StatusCode = 500 });

        var boxes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => h.RenderOnFleetAsync(Chilloutmix))).WaitAsync(Guard);

        Assert.All(boxes, b => Assert.Equal("box1", b));
        var box0 = h.Box("box0");
        Assert.True(box0.Failures >= 1);
        Assert.Contains("500", box0.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deterministic_500_fails_the_call_after_max_attempts_instead_of_looping()
    {
        await using var h = await StartAsync(2, fleet: o => o.MaxAttempts = 3);
        foreach (var server in h.Servers)
        {
            server.AddFault(new MockFault(Txt2Img) { StatusCode = 500 });
        }

        var e = await Assert.ThrowsAsync<WebUiApiException>(() => h.RenderOnFleetAsync(Chilloutmix).WaitAsync(Guard));

        Assert.Equal(500, e.StatusCode);
        Assert.Equal(3, h.Servers.Sum(s => s.WireMock.LogEntries.Count(l => l.RequestMessage?.Path == Txt2Img)));
        Assert.Equal(3, h.Fleet.Status().Sum(b => b.Failures));
    }

    [Fact]
    public async Task A_4xx_about_the_request_is_not_retried_on_another_box()
    {
        await using var h = await StartAsync(2);
        foreach (var server in h.Servers)
        {
            server.AddFault(new MockFault(Txt2Img) { StatusCode = 422 });
        }

        var e = await Assert.ThrowsAsync<WebUiApiException>(() => h.RenderOnFleetAsync(Chilloutmix).WaitAsync(Guard));

        Assert.Equal(422, e.StatusCode);
        Assert.Equal(1, h.Servers.Sum(s => s.WireMock.LogEntries.Count(l => l.RequestMessage?.Path == Txt2Img)));
        Assert.All(h.Fleet.Status(), b => Assert.Equal((0L, BoxHealth.Healthy), (b.Failures, b.Health)));
    }

    [Fact]
    public async Task A_box_refusing_our_credentials_is_a_box_failure_and_the_call_runs_elsewhere()
    {
        await using var h = await StartAsync(2);
        h.Servers[0].AddFault(new MockFault(Txt2Img) { StatusCode = 401 });

        Assert.Equal("box1", await h.RenderOnFleetAsync(Chilloutmix).WaitAsync(Guard));
        Assert.Equal(1, h.Box("box0").Failures);
    }

    [Fact]
    public async Task Health_checks_refresh_capabilities_so_a_lora_added_later_is_found()
    {
        var folder = Directory.CreateTempSubdirectory("miaoya-fleet-lora-").FullName;
        try
        {
            await using var h = await StartAsync(1, mock: (_, o) => o.LoraDirectory = folder, fleet: o => o.CapabilitiesRefresh = TimeSpan.FromMilliseconds(200));
            var needs = new BoxNeeds
            {
                Purpose = "inpaint",
                Check = caps => caps.Loras.Any(l => l.Name == "added_face") ? [] : [new BoxProblem("--lora", "LoRA added_face is not installed", IsInput: true)],
            };
            await Assert.ThrowsAsync<WebUiBoxesException>(() => h.Fleet.RunAsync(needs, (box, _) => Task.FromResult(box.Name)));

            await File.WriteAllBytesAsync(Path.Combine(folder, "added_face.safetensors"), [0]);
            using (var http = new HttpClient { BaseAddress = h.Servers[0].Url })
            {
                using var refreshed = await http.PostAsync(new Uri("sdapi/v1/refresh-loras", UriKind.Relative), null);
                refreshed.EnsureSuccessStatusCode();
            }

            string? ran = null;
            await WaitUntilAsync(async () =>
            {
                try
                {
                    ran = await h.Fleet.RunAsync(needs, (box, _) => Task.FromResult(box.Name));
                    return true;
                }
                catch (WebUiBoxesException)
                {
                    return false;
                }
            }, "the fleet sees the new LoRA");
            Assert.Equal("box0", ran);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
