using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

public sealed class RequestPipelineTests
{
    private readonly MockState _state = new();
    private readonly FaultInjector _faults = new(new MockRandom(1));
    private readonly RouteTable _routes = new(BasicAuth.Parse(null), new Lacking(new HashSet<string>()));
    private readonly RequestPipeline _pipeline;
    private int _drops;
    private int _handled;

    public RequestPipelineTests()
    {
        _pipeline = new RequestPipeline(_state, _faults, _routes);
        _routes.Get("/sdapi/v1/memory", _ =>
        {
            _handled++;
            return Task.FromResult(MockHttpResult.Json(new JsonObject { ["ram"] = 1 }));
        });
    }

    private Task<MockHttpResult> SendAsync(string method, string path, string? body = null) =>
        _pipeline.HandleAsync(new MockRequest(method, path, body), () => _drops++);

    [Fact]
    public async Task HandleAsync_BoxDown_DropsTheConnectionWithoutRouting()
    {
        _state.GoDown();

        var answer = await SendAsync("GET", "/sdapi/v1/memory");

        Assert.Equal((1, 0), (_drops, _handled));
        Assert.Equal(new MockHttpResult(200, ""), answer);
    }

    [Fact]
    public async Task HandleAsync_BoxGoesDownWhileTheRouteRuns_DropsTheConnectionInsteadOfAnswering()
    {
        _routes.Post("/sdapi/v1/txt2img", _ =>
        {
            _state.GoDown();
            _state.ComeBack(); // back already, but this call's box died under it
            return Task.FromResult(MockHttpResult.Json(new JsonObject()));
        });

        var answer = await SendAsync("POST", "/sdapi/v1/txt2img");
        var next = await SendAsync("GET", "/sdapi/v1/memory");

        Assert.Equal(new MockHttpResult(200, ""), answer);
        Assert.Equal(1, _drops);
        Assert.Equal("""{"ram":1}""", next.Body);
    }

    [Fact]
    public async Task HandleAsync_StatusFaultOnTheFirstCall_AnswersTheWebUiErrorThenTheRoute()
    {
        _faults.Add(new MockFault("/sdapi/v1/memory/") { StatusCode = 503, Times = 1 });

        var faulted = await SendAsync("GET", "/sdapi/v1/memory");
        var normal = await SendAsync("GET", "/sdapi/v1/memory");

        Assert.Equal(new MockHttpResult(503, """{"error":"HTTPException","detail":"Service Unavailable","body":"","errors":"503: Service Unavailable"}"""), faulted);
        Assert.Equal((200, 1), (normal.Status, _handled));
    }

    [Fact]
    public async Task HandleAsync_StatusFaultOnAnUnknownPath_StillAnswersTheFault()
    {
        _faults.Add(new MockFault("/nope") { StatusCode = 418 });

        var answer = await SendAsync("GET", "/nope");

        Assert.Equal(new MockHttpResult(418, """{"error":"HTTPException","detail":"Error","body":"","errors":"418: Error"}"""), answer);
    }

    [Fact]
    public async Task HandleAsync_DropConnectionFault_DropsWithoutRouting()
    {
        _faults.Add(new MockFault("/sdapi/v1/memory") { Kind = MockFaultKind.DropConnection, Times = 1 });

        var answer = await SendAsync("GET", "/sdapi/v1/memory");

        Assert.Equal((1, 0, ""), (_drops, _handled, answer.Body));
    }

    [Fact]
    public async Task HandleAsync_MalformedJsonFault_Is200WithBrokenJson()
    {
        _faults.Add(new MockFault("/sdapi/v1/memory") { Kind = MockFaultKind.MalformedJson });

        var answer = await SendAsync("GET", "/sdapi/v1/memory");

        Assert.Equal(200, answer.Status);
        Assert.Null(MockClient.TryParse(answer.Body));
        Assert.Equal(0, _handled);
    }

    [Fact]
    public async Task HandleAsync_TruncatedBase64Fault_CutsTheFirstImageToAnInvalidLength()
    {
        _routes.Post("/rembg", _ => Task.FromResult(MockHttpResult.Json(new JsonObject { ["image"] = "AAAABBBBCCCCDDDD" })));
        _faults.Add(new MockFault("/rembg") { Kind = MockFaultKind.TruncatedBase64 });

        var answer = await SendAsync("POST", "/rembg");

        Assert.Equal("""{"image":"AAAABBBBC"}""", answer.Body);
    }

    [Fact]
    public async Task HandleAsync_RouteThrowsAWebUiError_AnswersItsBody()
    {
        _routes.Post("/sdapi/v1/options", _ => throw MockRouteException.Internal("KeyError", "'nope'"));

        var answer = await SendAsync("POST", "/sdapi/v1/options");

        Assert.Equal(new MockHttpResult(500, """{"error":"KeyError","detail":"","body":"","errors":"'nope'"}"""), answer);
    }

    [Fact]
    public async Task HandleAsync_BodyIsNotJson_IsFastApis422JsonDecode()
    {
        _routes.Post("/sdapi/v1/options", request => Task.FromResult(MockHttpResult.Json(request.BodyObject())));

        var answer = await SendAsync("POST", "/sdapi/v1/options", "{\"a\":");

        Assert.Equal(422, answer.Status);
        var issue = JsonNode.Parse(answer.Body)!["detail"]![0]!;
        Assert.Equal("""["body",0]""", issue["loc"]!.ToJsonString());
        Assert.Equal("value_error.jsondecode", issue["type"]!.GetValue<string>());
    }
}
