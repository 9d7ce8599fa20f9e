using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

public sealed class AuthAndFaultTests
{
    private static AuthenticationHeaderValue Basic(string pair) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));

    private static async Task<(int Status, JsonNode? Json)> GetAsync(MockClient c, string path, AuthenticationHeaderValue? auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = auth;
        using var response = await c.Http.SendAsync(request);
        return ((int)response.StatusCode, MockClient.TryParse(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task ApiAuth_ProtectsSdapiAndTagger_ButNotExtensionRoutes()
    {
        using var c = new MockClient(new MockWebUiOptions { Auth = "user:pass" });
        var missing = await GetAsync(c, "sdapi/v1/options", null);
        Assert.Equal(401, missing.Status);
        Assert.Equal("Not authenticated", missing.Json!["detail"]!.GetValue<string>());
        Assert.Equal("HTTPException", missing.Json["error"]!.GetValue<string>());

        var wrong = await GetAsync(c, "sdapi/v1/options", Basic("user:nope"));
        Assert.Equal((401, "Incorrect username or password"), (wrong.Status, wrong.Json!["detail"]!.GetValue<string>()));
        Assert.Equal(200, (await GetAsync(c, "sdapi/v1/options", Basic("user:pass"))).Status);

        Assert.Equal(401, (await GetAsync(c, "tagger/v1/interrogators", null)).Status);
        Assert.Equal(200, (await GetAsync(c, "sdapi/v1/loras", null)).Status);
        Assert.Equal(200, (await GetAsync(c, "controlnet/version", null)).Status);
        Assert.Equal(200, (await c.PostAsync("rembg", new JsonObject { ["model"] = "None" })).Status);
    }

    [Fact]
    public async Task StatusFault_WithTimes1_Gives503ThenNormalAnswer()
    {
        using var c = new MockClient();
        c.Server.AddFault(new MockFault("/sdapi/v1/options") { StatusCode = 503, Times = 1 });
        var first = await c.GetAsync("sdapi/v1/options");
        Assert.Equal(503, first.Status);
        Assert.Equal("Service Unavailable", first.Json!["detail"]!.GetValue<string>());
        Assert.Equal(200, (await c.GetAsync("sdapi/v1/options")).Status);
    }

    [Fact]
    public async Task DropConnectionFault_ClosesWithoutResponse()
    {
        using var c = new MockClient();
        c.Server.AddFault(new MockFault("/sdapi/v1/sd-models") { Kind = MockFaultKind.DropConnection });
        await Assert.ThrowsAsync<HttpRequestException>(() => c.Http.GetAsync(new Uri("sdapi/v1/sd-models", UriKind.Relative)));
        c.Server.ClearFaults();
        Assert.Equal(200, (await c.GetAsync("sdapi/v1/sd-models")).Status);
    }

    [Fact]
    public async Task MalformedJsonFault_Is200WithUnparseableBody()
    {
        using var c = new MockClient();
        c.Server.AddFault(new MockFault("/sdapi/v1/txt2img") { Kind = MockFaultKind.MalformedJson });
        var r = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["width"] = 64, ["height"] = 64 });
        Assert.Equal(200, r.Status);
        Assert.Null(r.Json);
        Assert.NotEmpty(r.Text);
    }

    [Fact]
    public async Task TruncatedBase64Fault_KeepsShapeButImageDoesNotDecode()
    {
        using var c = new MockClient();
        c.Server.AddFault(new MockFault("/sdapi/v1/txt2img") { Kind = MockFaultKind.TruncatedBase64 });
        var r = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["width"] = 64, ["height"] = 64 });
        Assert.Equal(200, r.Status);
        Assert.NotNull(r.Json!["info"]);
        Assert.ThrowsAny<Exception>(() => TestImages.Decode(r.Json["images"]![0]).Dispose());
    }

    [Fact]
    public async Task LatencyFault_DelaysThenAnswersNormally()
    {
        using var c = new MockClient();
        await c.GetAsync("sdapi/v1/progress");
        c.Server.AddFault(new MockFault("/sdapi/v1/sd-vae") { Kind = MockFaultKind.Latency, Latency = TimeSpan.FromMilliseconds(300) });
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = await c.GetAsync("sdapi/v1/sd-vae");
        Assert.Equal(200, r.Status);
        Assert.True(sw.ElapsedMilliseconds >= 280, sw.ElapsedMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task FaultRate_IsDeterministicWithSeed()
    {
        async Task<List<int>> RunAsync()
        {
            using var c = new MockClient(new MockWebUiOptions { Seed = 42 });
            c.Server.AddFault(new MockFault("/sdapi/v1/sd-vae") { StatusCode = 500, Rate = 0.5 });
            var statuses = new List<int>();
            for (var i = 0; i < 12; i++)
            {
                statuses.Add((await c.GetAsync("sdapi/v1/sd-vae")).Status);
            }

            return statuses;
        }

        var a = await RunAsync();
        Assert.Equal(a, await RunAsync());
        Assert.Contains(500, a);
        Assert.Contains(200, a);
    }

    [Fact]
    public async Task FailRate_AnswersGenerationWithOutOfMemory500()
    {
        using var c = new MockClient(new MockWebUiOptions { FailRate = 1.0 });
        var r = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["width"] = 64, ["height"] = 64 });
        Assert.Equal(500, r.Status);
        Assert.Equal("OutOfMemoryError", r.Json!["error"]!.GetValue<string>());
        Assert.Contains("CUDA out of memory", r.Json["errors"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(200, (await c.GetAsync("sdapi/v1/options")).Status); // list endpoints are not generation-type
    }
}
