using System.Text;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

public sealed class RouteTableTests
{
    private static Task<MockHttpResult> Ok(MockRequest request) =>
        Task.FromResult(MockHttpResult.Json(new JsonObject { ["method"] = request.Method, ["path"] = request.Path }));

    private static RouteTable Table(string? auth = null, params string[] without)
    {
        var table = new RouteTable(BasicAuth.Parse(auth), new Lacking(new HashSet<string>(without, StringComparer.Ordinal)));
        table.Get("/sdapi/v1/options", Ok);
        table.Post("/sdapi/v1/options", Ok);
        table.Get("/controlnet/version", Ok, RouteAccess.Open, "controlnet");
        return table;
    }

    private static KeyValuePair<string, string> Basic(string pair) =>
        KeyValuePair.Create("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("get")]
    public void Resolve_KnownPathAndMethod_FindsTheRoute(string method)
    {
        var lookup = Table().Resolve(method, "/sdapi/v1/options");

        Assert.Equal(RouteOutcome.Found, lookup.Outcome);
        Assert.Equal(method.ToUpperInvariant(), lookup.Route!.Method);
        Assert.Equal(RouteAccess.ApiAuth, lookup.Route.Access);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("HEAD")]
    [InlineData("DELETE")]
    public void Resolve_KnownPathWithAnotherMethod_IsMethodNotAllowed(string method)
    {
        Assert.Equal(new RouteLookup(RouteOutcome.MethodNotAllowed, null), Table().Resolve(method, "/sdapi/v1/options"));
    }

    [Theory]
    [InlineData("/sdapi/v1/nope")]
    [InlineData("/sdapi/v1/OPTIONS")]
    [InlineData("/sdapi/v1")]
    [InlineData("/")]
    public void Resolve_UnknownPath_IsNotFound(string path)
    {
        Assert.Equal(RouteOutcome.NotFound, Table().Resolve("GET", path).Outcome);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public void Resolve_PathOfALackingExtension_IsNotFoundWhateverTheMethod(string method)
    {
        Assert.Equal(RouteOutcome.Found, Table().Resolve("GET", "/controlnet/version").Outcome);
        Assert.Equal(RouteOutcome.NotFound, Table(null, "controlnet").Resolve(method, "/controlnet/version").Outcome);
        Assert.Equal(RouteOutcome.Found, Table(null, "tagger").Resolve("GET", "/controlnet/version").Outcome);
    }

    [Fact]
    public async Task DispatchAsync_UnknownPathAndWrongMethod_AreStarlettesAnswers_WithoutAskingForCredentials()
    {
        var table = Table("user:pass");

        var missing = await table.DispatchAsync(new MockRequest("GET", "/sdapi/v1/nope"));
        var wrongMethod = await table.DispatchAsync(new MockRequest("PUT", "/sdapi/v1/options"));

        Assert.Equal(new MockHttpResult(404, """{"detail":"Not Found"}"""), missing);
        Assert.Equal(new MockHttpResult(405, """{"detail":"Method Not Allowed"}"""), wrongMethod);
    }

    [Fact]
    public async Task DispatchAsync_ApiAuthRouteWithoutCredentials_Throws401NotAuthenticated()
    {
        var table = Table("user:pass");

        var e = await Assert.ThrowsAsync<MockRouteException>(() => table.DispatchAsync(new MockRequest("GET", "/sdapi/v1/options")));

        Assert.Equal(401, e.Status);
        Assert.Equal("""{"error":"HTTPException","detail":"Not authenticated","body":"","errors":"401: Not authenticated"}""", e.ToResult().Body);
    }

    [Fact]
    public async Task DispatchAsync_ApiAuthRouteWithWrongPair_Throws401IncorrectPassword()
    {
        var table = Table("user:pass,u2:p2");

        var e = await Assert.ThrowsAsync<MockRouteException>(() =>
            table.DispatchAsync(new MockRequest("GET", "/sdapi/v1/options", headers: [Basic("user:p2")])));

        Assert.Equal((401, "Incorrect username or password"), (e.Status, e.Message));
    }

    [Fact]
    public async Task DispatchAsync_ApiAuthRouteWithAnyConfiguredPair_RunsTheHandler()
    {
        var table = Table("user:pass,u2:p2");

        var answer = await table.DispatchAsync(new MockRequest("post", "/sdapi/v1/options/", headers: [Basic("u2:p2")]));

        Assert.Equal(new MockHttpResult(200, """{"method":"post","path":"/sdapi/v1/options"}"""), answer);
    }

    [Fact]
    public async Task DispatchAsync_OpenRoute_AnswersWithoutCredentials()
    {
        var answer = await Table("user:pass").DispatchAsync(new MockRequest("GET", "/controlnet/version"));

        Assert.Equal(200, answer.Status);
    }

    [Fact]
    public void Add_SameMethodAndPathTwice_Throws()
    {
        var table = Table();

        Assert.Throws<InvalidOperationException>(() => table.Get("/sdapi/v1/options", Ok));
    }

    [Fact]
    public void Add_PathServedByAnotherExtension_Throws()
    {
        var table = Table();

        Assert.Throws<InvalidOperationException>(() => table.Post("/controlnet/version", Ok, RouteAccess.Open, "tagger"));
    }

    [Theory]
    [InlineData(MockWebUiProfile.WebUi110, true)]
    [InlineData(MockWebUiProfile.WebUi18, false)]
    [InlineData(MockWebUiProfile.Forge, true)]
    [InlineData(MockWebUiProfile.ReForge, true)]
    [InlineData(MockWebUiProfile.SdNext, false)]
    public void CatalogueRoutes_Schedulers_OnlyWithSplitSamplers(MockWebUiProfile profile, bool routed)
    {
        var table = new RouteTable(BasicAuth.Parse(null), new Lacking(new HashSet<string>()));

        new CatalogueRoutes(new Lacking(new HashSet<string>()), new LoraFolder(new MockWebUiOptions()), ProfileTraits.For(profile)).AddTo(table);

        Assert.Equal(routed ? RouteOutcome.Found : RouteOutcome.NotFound, table.Resolve("GET", "/sdapi/v1/schedulers").Outcome);
        Assert.Equal(RouteOutcome.Found, table.Resolve("GET", "/sdapi/v1/samplers").Outcome);
    }

    [Fact]
    public void CatalogueRoutes_OnlyTheLoraRoutesAreOpen()
    {
        var table = new RouteTable(BasicAuth.Parse(null), new Lacking(new HashSet<string>()));

        new CatalogueRoutes(new Lacking(new HashSet<string>()), new LoraFolder(new MockWebUiOptions()), ProfileTraits.For(MockWebUiProfile.WebUi110)).AddTo(table);

        Assert.Equal(
            ["GET /sdapi/v1/loras", "POST /sdapi/v1/refresh-loras"],
            table.Routes.Where(r => r.Access == RouteAccess.Open).Select(r => $"{r.Method} {r.Path}").Order(StringComparer.Ordinal));
        Assert.All(table.Routes, r => Assert.StartsWith("/sdapi/v1/", r.Path, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/sdapi/v1/options/", "/sdapi/v1/options")]
    [InlineData("/sdapi/v1/options//", "/sdapi/v1/options")]
    [InlineData("/", "/")]
    public void MockRequest_Path_LosesItsTrailingSlashButRootStays(string sent, string routed)
    {
        Assert.Equal(routed, new MockRequest("GET", sent).Path);
    }

    [Fact]
    public void MockRequest_Header_IsFoundInAnyCase()
    {
        var request = new MockRequest("GET", "/", headers: [KeyValuePair.Create("authorization", "Basic eA==")]);

        Assert.Equal("Basic eA==", request.Header("Authorization"));
        Assert.Null(request.Header("X-Other"));
    }
}
