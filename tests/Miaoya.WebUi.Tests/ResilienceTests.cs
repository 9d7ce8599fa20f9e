using System.Diagnostics;
using Miaoya.WebUi.Dto;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Miaoya.WebUi.Tests;

/// <summary>
/// Control calls retry transient failures; generation calls are never retried once sent; the breaker opens per box;
/// cancelling or timing out a generation sends <c>/sdapi/v1/interrupt</c>. Plain WireMock stubs, scaled-down durations.
/// </summary>
public sealed class ResilienceTests : IDisposable
{
    private const string Txt2ImgOk = """{"images":[],"parameters":{},"info":"{\"seed\":1,\"all_seeds\":[1]}"}""";

    private readonly WireMockServer _server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });

    public void Dispose() => _server.Dispose();

    private Uri Url => new(_server.Urls![0]);

    private int Count(string path) => _server.LogEntries.Count(e => e.RequestMessage!.Path == path);

    private static Txt2ImgRequest Small => new() { Steps = 1, Width = 8, Height = 8 };

    private void StubInterrupt() =>
        _server.Given(Request.Create().WithPath("/sdapi/v1/interrupt").UsingPost()).RespondWith(Response.Create().WithBody("{}"));

    [Fact]
    public async Task ControlCall_503Then200_IsRetried()
    {
        _server.Given(Request.Create().WithPath("/sdapi/v1/options").UsingGet()).InScenario("busy").WillSetStateTo("ready")
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("""{"detail":"busy"}"""));
        _server.Given(Request.Create().WithPath("/sdapi/v1/options").UsingGet()).InScenario("busy").WhenStateIs("ready")
            .RespondWith(Response.Create().WithBody("""{"sd_model_checkpoint":"chilloutmix"}"""));
        using var test = new TestClient(Url);

        var options = await test.Client.GetOptionsAsync();

        Assert.Equal("chilloutmix", options["sd_model_checkpoint"].GetString());
        Assert.Equal(2, Count("/sdapi/v1/options"));
    }

    [Fact]
    public async Task ControlCall_Retries_AreOneLogLineEach_WithoutStackTraces()
    {
        // A box outage used to log Polly's events, each with the exception's whole stack trace (4,260 frame lines against
        // 320 job-step lines in one outage); the client now logs one line per retry itself.
        _server.Given(Request.Create().WithPath("/sdapi/v1/options").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("""{"detail":"busy"}"""));
        var logs = new CollectingLoggerProvider();
        using var test = new TestClient(Url, o => o.ControlRetries = 2, logs: logs);

        await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.GetOptionsAsync());

        var retries = logs.Lines.Where(l => l.Contains(WebUiServiceCollectionExtensions.ResilienceLogCategory, StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, retries.Length);
        Assert.All(retries, l => Assert.Contains("/sdapi/v1/options failed (HTTP 503); retry", l, StringComparison.Ordinal));
        Assert.Contains("retry 1 of 2", retries[0], StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ControlCall_500_IsNotRetriedAndNamesTheEndpoint()
    {
        _server.Given(Request.Create().WithPath("/sdapi/v1/options").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(500).WithBody("""{"error":"RuntimeError","detail":"","body":"","errors":"model 'nope' not found"}"""));
        using var test = new TestClient(Url);

        var error = await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.SetOptionsAsync(new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["sd_model_checkpoint"] = "nope" }));

        Assert.Equal("POST /sdapi/v1/options failed with HTTP 500 (RuntimeError): model 'nope' not found", error.Message);
        Assert.Equal(1, Count("/sdapi/v1/options"));
    }

    [Fact]
    public async Task Generation_503_IsNotRetried()
    {
        _server.Given(Request.Create().WithPath("/sdapi/v1/txt2img").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("""{"detail":"busy"}"""));
        using var test = new TestClient(Url, o => o.ValidateNames = false);

        var error = await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.Txt2ImgAsync(Small));

        Assert.Equal(503, error.StatusCode);
        Assert.Equal(1, Count("/sdapi/v1/txt2img"));
    }

    [Fact]
    public async Task Generation_Timeout_IsNotRetriedAndSendsInterrupt()
    {
        using var box = new RawHttpServer(path => path == "/sdapi/v1/interrupt" ? "{}" : "hang");
        using var test = new TestClient(box.Url, o => { o.ValidateNames = false; o.GenerationTimeout = TimeSpan.FromSeconds(1); });

        var error = await Assert.ThrowsAsync<WebUiTransportException>(() => test.Client.Txt2ImgAsync(Small));

        Assert.Equal(WebUiTransportFailure.Timeout, error.Failure);
        Assert.Equal("POST /sdapi/v1/txt2img", error.Endpoint);
        Assert.Contains("not retried", error.Message, StringComparison.Ordinal);

        // The interrupt is sent without waiting: give a loaded machine up to 10 s to deliver it, then a moment more to
        // show anything that arrives twice.
        for (var waited = 0; waited < 10_000 && box.Count("/sdapi/v1/interrupt") == 0; waited += 50)
        {
            await Task.Delay(50);
        }

        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(1, box.Count("/sdapi/v1/txt2img"));
        Assert.Equal(1, box.Count("/sdapi/v1/interrupt"));
    }

    [Fact]
    public async Task Generation_DroppedConnection_IsNotRetriedAndMayStillBeRunning()
    {
        // A box that reads the request and closes the socket without answering, as a crashed one does.
        using var box = new RawHttpServer(_ => "close");
        using var test = new TestClient(box.Url, o => o.ValidateNames = false);
        var request = new Img2ImgRequest { InitImages = [TestImages.Png()], Steps = 1, Width = 8, Height = 8 };

        var error = await Assert.ThrowsAsync<WebUiTransportException>(() => test.Client.Img2ImgAsync(request));

        Assert.Equal(WebUiTransportFailure.ConnectionLost, error.Failure);
        Assert.True(error.GenerationMayStillBeRunning);
        Assert.Equal(1, box.Count("/sdapi/v1/img2img"));
    }

    [Fact]
    public async Task Generation_Cancelled_SendsInterrupt()
    {
        _server.Given(Request.Create().WithPath("/sdapi/v1/txt2img").UsingPost())
            .RespondWith(Response.Create().WithBody(Txt2ImgOk).WithDelay(TimeSpan.FromSeconds(5)));
        StubInterrupt();
        using var test = new TestClient(Url, o => o.ValidateNames = false);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => test.Client.Txt2ImgAsync(Small, cancel.Token));

        Assert.Equal(1, Count("/sdapi/v1/interrupt"));
    }

    [Fact]
    public async Task ConnectionRefused_IsATransportFailureNamingTheBox()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var test = new TestClient(new Uri($"http://127.0.0.1:{port}/"), o => o.ControlRetries = 1);

        var error = await Assert.ThrowsAsync<WebUiTransportException>(() => test.Client.GetSdModelsAsync());

        Assert.Equal(WebUiTransportFailure.ConnectionFailed, error.Failure);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("--api", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Breaker_OpensOnRepeatedFailures_AndRecovers()
    {
        _server.Given(Request.Create().WithPath("/sdapi/v1/progress").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(500).WithBody("""{"error":"RuntimeError","detail":"","body":"","errors":"CUDA error"}"""));
        using var test = new TestClient(Url, o =>
        {
            o.ControlRetries = 0;
            o.BreakerMinimumThroughput = 2;
            o.BreakerFailureRatio = 0.5;
            o.BreakerBreakDuration = TimeSpan.FromMilliseconds(600);
            o.BreakerSamplingDuration = TimeSpan.FromSeconds(10);
        });

        await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.GetProgressAsync());
        await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.GetProgressAsync());
        var open = await Assert.ThrowsAsync<WebUiTransportException>(() => test.Client.GetProgressAsync());
        Assert.Equal(WebUiTransportFailure.CircuitOpen, open.Failure);
        Assert.Equal(2, Count("/sdapi/v1/progress"));

        _server.ResetMappings();
        _server.Given(Request.Create().WithPath("/sdapi/v1/progress").UsingGet())
            .RespondWith(Response.Create().WithBody("""{"progress":0,"eta_relative":0,"state":{"skipped":false,"interrupted":false,"job":"","job_count":0,"job_timestamp":"0","job_no":0,"sampling_step":0,"sampling_steps":0},"current_image":null,"textinfo":null}"""));
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(200);
            try
            {
                var progress = await test.Client.GetProgressAsync();
                Assert.Equal(0, progress.State!.JobCount);
                return;
            }
            catch (WebUiTransportException e) when (e.Failure == WebUiTransportFailure.CircuitOpen)
            {
            }
        }

        Assert.Fail("the breaker did not let calls through again after its break duration");
    }

    [Fact]
    public async Task BasicAuth_IsSentOnEveryCall()
    {
        _server.Given(Request.Create().WithPath("/sdapi/v1/sd-models").UsingGet().WithHeader("Authorization", "Basic YW5uOnMzY3JldA=="))
            .RespondWith(Response.Create().WithBody("[]"));
        _server.Given(Request.Create().WithPath("/sdapi/v1/sd-models").UsingGet()).AtPriority(10)
            .RespondWith(Response.Create().WithStatusCode(401).WithBody("""{"error":"HTTPException","detail":"Not authenticated","body":"","errors":""}"""));
        using var good = new TestClient(Url, auth: "ann:s3cret");
        using var bad = new TestClient(Url, auth: "ann:wrong");

        Assert.Empty(await good.Client.GetSdModelsAsync());
        var error = await Assert.ThrowsAsync<WebUiApiException>(() => bad.Client.GetSdModelsAsync());

        Assert.Equal(401, error.StatusCode);
        Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal);
    }
}
