using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

/// <summary>
/// Generation-type calls in flight at the mock (<see cref="MockWebUiServer.RenderCounts"/>, <c>/__mock/renders</c>): what a
/// test reads to prove that a box with MaxConcurrent=1 never had two calls at once. Renders are long (a minute) and ended by
/// interrupts, and every wait is on a condition, so a loaded machine makes the tests slower, not wrong.
/// </summary>
public sealed class RenderCountTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LongRender = TimeSpan.FromMinutes(1);

    private static JsonObject Txt2Img() => new() { ["prompt"] = "x", ["steps"] = 1, ["width"] = 64, ["height"] = 64 };

    private static AuthenticationHeaderValue Basic(string pair) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(10, cts.Token);
        }
    }

    /// <summary>POST /sdapi/v1/interrupt until every call has been answered (each interrupt ends the render in flight).</summary>
    private static async Task InterruptUntilDoneAsync(MockClient c, params Task[] calls)
    {
        using var cts = new CancellationTokenSource(Patience);
        while (!calls.All(t => t.IsCompleted))
        {
            await c.PostAsync("sdapi/v1/interrupt", null);
            await Task.WhenAny(Task.WhenAll(calls), Task.Delay(50, cts.Token));
        }
    }

    private static MockRenderCounts FromJson(JsonNode? json) => new(
        json!["in_flight"]!.GetValue<int>(),
        json["max_in_flight"]!.GetValue<int>(),
        json["started"]!.GetValue<long>(),
        json["overlapping_starts"]!.GetValue<long>());

    [Fact]
    public void Counter_EnterExitInTurn_NeverOverlaps()
    {
        var counter = new RenderCounter();

        counter.Enter();
        counter.Exit();
        counter.Enter();
        counter.Exit();

        Assert.Equal(new MockRenderCounts(InFlight: 0, MaxInFlight: 1, Started: 2, OverlappingStarts: 0), counter.Snapshot());
    }

    [Fact]
    public void Counter_ResetWhileOneIsInFlight_KeepsItInFlight_AndItsExitDoesNotGoNegative()
    {
        var counter = new RenderCounter();
        counter.Enter();
        counter.Enter();
        counter.Exit();

        counter.Reset();
        var reset = counter.Snapshot();
        counter.Exit();

        Assert.Equal(new MockRenderCounts(InFlight: 1, MaxInFlight: 1, Started: 0, OverlappingStarts: 0), reset);
        Assert.Equal(new MockRenderCounts(InFlight: 0, MaxInFlight: 1, Started: 0, OverlappingStarts: 0), counter.Snapshot());
    }

    [Fact]
    public async Task Counter_ManyThreadsAtOnce_CountsEveryStartAndEndsAtZero()
    {
        var counter = new RenderCounter();
        using var gate = new Barrier(4);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(() =>
        {
            gate.SignalAndWait(Patience);
            for (var i = 0; i < 10_000; i++)
            {
                counter.Enter();
                counter.Exit();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

        var counts = counter.Snapshot();
        Assert.Equal((0, 40_000L), (counts.InFlight, counts.Started));
        Assert.InRange(counts.MaxInFlight, 1, 4);
    }

    [Fact]
    public async Task SequentialRenders_NoOverlap_MaxOne()
    {
        using var c = new MockClient(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(50) });

        Assert.Equal(200, (await c.PostAsync("sdapi/v1/txt2img", Txt2Img())).Status);
        Assert.Equal(200, (await c.PostAsync("sdapi/v1/img2img", new JsonObject
        {
            ["init_images"] = new JsonArray(TestImages.Solid(64, 64, new SixLabors.ImageSharp.PixelFormats.Rgba32(10, 20, 30, 255))),
            ["steps"] = 1,
        })).Status);
        var served = await c.GetAsync("__mock/renders");

        var expected = new MockRenderCounts(InFlight: 0, MaxInFlight: 1, Started: 2, OverlappingStarts: 0);
        Assert.Equal(expected, c.Server.RenderCounts);
        Assert.Equal(200, served.Status);
        Assert.Equal(expected, FromJson(served.Json));
        Assert.Equal("""{"in_flight":0,"max_in_flight":1,"started":2,"overlapping_starts":0}""", served.Text);
    }

    [Fact]
    public async Task ConcurrentRenders_SecondArrivesWhileTheFirstRenders_IsAnOverlappingStart()
    {
        using var c = new MockClient(new MockWebUiOptions { Latency = LongRender });
        var first = c.PostAsync("sdapi/v1/txt2img", Txt2Img());
        await WaitUntilAsync(() => c.Server.RenderCounts.InFlight == 1);
        var second = c.PostAsync("sdapi/v1/txt2img", Txt2Img());
        await WaitUntilAsync(() => c.Server.RenderCounts.InFlight == 2);

        var during = await c.GetAsync("__mock/renders");
        var jobCount = (await c.GetAsync("sdapi/v1/progress")).Json!["state"]!["job_count"]!.GetValue<int>();
        await InterruptUntilDoneAsync(c, first, second);

        Assert.Equal(new MockRenderCounts(InFlight: 2, MaxInFlight: 2, Started: 2, OverlappingStarts: 1), FromJson(during.Json));
        Assert.Equal(1, jobCount); // the box still renders one at a time; the second waited
        Assert.Equal((200, 200), ((await first).Status, (await second).Status));
        Assert.Equal(new MockRenderCounts(InFlight: 0, MaxInFlight: 2, Started: 2, OverlappingStarts: 1), c.Server.RenderCounts);
        Assert.Equal(c.Server.RenderCounts, FromJson((await c.GetAsync("__mock/renders")).Json));
    }

    [Fact]
    public async Task FailedRender_DoesNotStayInFlight()
    {
        using var c = new MockClient(new MockWebUiOptions { FailRate = 1, Latency = TimeSpan.FromMilliseconds(50) });

        var answer = await c.PostAsync("sdapi/v1/txt2img", Txt2Img());

        Assert.Equal(500, answer.Status);
        Assert.Equal(new MockRenderCounts(InFlight: 0, MaxInFlight: 1, Started: 1, OverlappingStarts: 0), c.Server.RenderCounts);
    }

    [Fact]
    public async Task InterruptedRender_DoesNotStayInFlight()
    {
        using var c = new MockClient(new MockWebUiOptions { Latency = LongRender });
        var rendering = c.PostAsync("sdapi/v1/txt2img", Txt2Img());
        await WaitUntilAsync(() => c.Server.JobRunning);

        await InterruptUntilDoneAsync(c, rendering);

        Assert.Equal(200, (await rendering).Status);
        Assert.Equal(0, c.Server.RenderCounts.InFlight);
    }

    [Fact]
    public async Task ClientGoneMidRender_StaysInFlightUntilTheRenderEnds()
    {
        // A1111 does not notice a client that hung up: the render goes on, and so does the call's place at the box.
        using var c = new MockClient(new MockWebUiOptions { Latency = LongRender });
        using var hangUp = new CancellationTokenSource();
        var rendering = c.Http.PostAsync(new Uri("sdapi/v1/txt2img", UriKind.Relative),
            new StringContent(Txt2Img().ToJsonString(), Encoding.UTF8, "application/json"), hangUp.Token);
        await WaitUntilAsync(() => c.Server.JobRunning);

        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rendering);
        var afterHangUp = c.Server.RenderCounts.InFlight;
        await c.PostAsync("sdapi/v1/interrupt", null);
        await WaitUntilAsync(() => c.Server.RenderCounts.InFlight == 0);

        Assert.Equal(1, afterHangUp);
        Assert.Equal(new MockRenderCounts(InFlight: 0, MaxInFlight: 1, Started: 1, OverlappingStarts: 0), c.Server.RenderCounts);
    }

    [Fact]
    public async Task BoxGoesDownMidRender_DoesNotStayInFlight()
    {
        using var c = new MockClient(new MockWebUiOptions { Latency = LongRender });
        var rendering = c.PostAsync("sdapi/v1/txt2img", Txt2Img());
        await WaitUntilAsync(() => c.Server.JobRunning);

        c.Server.GoDown();
        await Assert.ThrowsAsync<HttpRequestException>(() => rendering);

        Assert.Equal(0, c.Server.RenderCounts.InFlight);
    }

    [Fact]
    public async Task Reset_OverHttpAndInProcess_StartsAfresh_KeepingWhatIsInFlight()
    {
        using var c = new MockClient(new MockWebUiOptions { Latency = LongRender });
        var first = c.PostAsync("sdapi/v1/txt2img", Txt2Img());
        await WaitUntilAsync(() => c.Server.RenderCounts.InFlight == 1);
        var second = c.PostAsync("sdapi/v1/txt2img", Txt2Img());
        await WaitUntilAsync(() => c.Server.RenderCounts.InFlight == 2);

        using var deleted = await c.Http.DeleteAsync(new Uri("__mock/renders", UriKind.Relative));
        var answered = FromJson(MockClient.TryParse(await deleted.Content.ReadAsStringAsync()));
        await InterruptUntilDoneAsync(c, first, second);
        var afterRenders = c.Server.RenderCounts;
        c.Server.ResetRenderCounts();

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(new MockRenderCounts(InFlight: 2, MaxInFlight: 2, Started: 0, OverlappingStarts: 0), answered);
        Assert.Equal(new MockRenderCounts(InFlight: 0, MaxInFlight: 2, Started: 0, OverlappingStarts: 0), afterRenders);
        Assert.Equal(new MockRenderCounts(0, 0, 0, 0), c.Server.RenderCounts);
        Assert.Equal(new MockRenderCounts(0, 0, 0, 0), FromJson((await c.GetAsync("__mock/renders")).Json));
    }

    [Fact]
    public async Task Route_WithAuth_NeedsTheMocksCredentials_AndOtherMethodsAre405()
    {
        using var c = new MockClient(new MockWebUiOptions { Auth = "user:pass" });

        var anonymous = await c.GetAsync("__mock/renders");
        using var call = new HttpRequestMessage(HttpMethod.Get, new Uri("__mock/renders", UriKind.Relative));
        call.Headers.Authorization = Basic("user:pass");
        using var allowed = await c.Http.SendAsync(call);
        var posted = await c.PostAsync("__mock/renders", null, Basic("user:pass"));

        Assert.Equal(401, anonymous.Status);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(405, posted.Status);
    }

    [Fact]
    public async Task CallsThatNeverReachTheQueue_AreNotCounted()
    {
        using var c = new MockClient();

        var invalid = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["width"] = "wide" }); // 422 before the queue
        await c.GetAsync("sdapi/v1/options");
        await c.GetAsync("sdapi/v1/progress");

        Assert.Equal(422, invalid.Status);
        Assert.Equal(new MockRenderCounts(0, 0, 0, 0), c.Server.RenderCounts);
    }
}
