using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Miaoya.Jobs;

namespace Miaoya.Server.Tests;

/// <summary><c>GET /v1/jobs</c>: newest first, cursor paging (<c>next</c> and the Link header), order, state, bad values.</summary>
public sealed class JobListingTests : IAsyncLifetime
{
    private ServerHarness _h = null!;

    public async Task InitializeAsync() => _h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with { NoWorker = true });

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private async Task<List<string>> CreateJobsAsync(int count)
    {
        var store = _h.Server.Services.GetRequiredService<IJobStore>();
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = NewJob.NewJobId();
            ids.Add((await store.CreateJobAsync(new NewJob
            {
                Id = id,
                Recipe = "v2",
                InputsJson = """{"identity":"listed"}""",
                OutputFolder = Path.Combine(_h.JobsDirectory, id),
                Steps = ["inpaint"],
            })).Id);
        }

        return ids;
    }

    [Fact]
    public async Task List_NewestFirst_FollowsNextAndLinkToTheEnd()
    {
        var ids = await CreateJobsAsync(5);

        var seen = new List<string>();
        var url = "/v1/jobs?limit=2";
        var pages = 0;
        string? lastNext = null;
        while (url is not null)
        {
            using var response = await _h.Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            seen.AddRange(body.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()!));
            pages++;
            if (body.TryGetProperty("next", out var next))
            {
                lastNext = next.GetString();
                var link = Assert.Single(response.Headers.GetValues("Link"));
                Assert.Equal($"</v1/jobs?limit=2&after={lastNext}>; rel=\"next\"", link);
                url = link[1..link.IndexOf('>', StringComparison.Ordinal)];
            }
            else
            {
                Assert.False(response.Headers.Contains("Link"));
                url = null;
            }
        }

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);

        // The same cursor with the same order gives the same page, whatever was added since.
        await CreateJobsAsync(1);
        var again = JsonDocument.Parse(await _h.Client.GetStringAsync($"/v1/jobs?limit=2&after={lastNext}")).RootElement;
        Assert.Equal([ids[0]], again.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task List_OrderAscAndState_AreKeptInTheNextLink()
    {
        var ids = await CreateJobsAsync(3);

        using var first = await _h.Client.GetAsync("/v1/jobs?order=asc&limit=2&state=queued");
        var body = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(ids[..2], body.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        var link = Assert.Single(first.Headers.GetValues("Link"));
        Assert.StartsWith("</v1/jobs?state=queued&order=asc&limit=2&after=", link, StringComparison.Ordinal);

        var rest = JsonDocument.Parse(await _h.Client.GetStringAsync(link[1..link.IndexOf('>', StringComparison.Ordinal)])).RootElement;
        Assert.Equal([ids[2]], rest.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        Assert.False(rest.TryGetProperty("next", out _));
        Assert.Empty(JsonDocument.Parse(await _h.Client.GetStringAsync("/v1/jobs?state=succeeded")).RootElement.GetProperty("jobs").EnumerateArray());

        var backends = JsonDocument.Parse(await _h.Client.GetStringAsync("/v1/backends")).RootElement.GetProperty("queue");
        Assert.Equal((3, 0), (backends.GetProperty("queued_jobs").GetInt32(), backends.GetProperty("running_jobs").GetInt32()));
    }

    [Fact]
    public async Task List_ByKind_GivesOnlyThatKind_KeepsItInTheNextLink_AndTheDocumentListsTheKinds()
    {
        var store = _h.Server.Services.GetRequiredService<IJobStore>();
        async Task<string> CreateAsync(string inputs)
        {
            var id = NewJob.NewJobId();
            return (await store.CreateJobAsync(new NewJob { Id = id, Recipe = "v2", InputsJson = inputs, OutputFolder = Path.Combine(_h.JobsDirectory, id), Steps = ["inpaint"] })).Id;
        }

        // A portrait job's inputs name no kind (JobInputs leaves "portrait" out); an ID photo's say "idphoto".
        var portrait = await CreateAsync("""{"recipe":"v2","pipeline":"v2","template":"a.png","seed":1,"overrides":[]}""");
        var photo1 = await CreateAsync("""{"recipe":"idphoto","pipeline":"idphoto","template":"me.png","seed":0,"overrides":[],"kind":"idphoto","idphoto":{"spec":"us-2x2"}}""");
        var photo2 = await CreateAsync("""{"recipe":"idphoto","pipeline":"idphoto","template":"me.png","seed":0,"overrides":[],"kind":"idphoto","idphoto":{"spec":"us-2x2"}}""");

        var portraits = JsonDocument.Parse(await _h.Client.GetStringAsync("/v1/jobs?kind=portrait")).RootElement.GetProperty("jobs");
        Assert.Equal([(portrait, "portrait")], portraits.EnumerateArray().Select(j => (j.GetProperty("id").GetString(), j.GetProperty("kind").GetString())));

        using var first = await _h.Client.GetAsync("/v1/jobs?kind=idphoto&limit=1&state=queued");
        var body = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal([photo2], body.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        var link = Assert.Single(first.Headers.GetValues("Link"));
        Assert.StartsWith("</v1/jobs?state=queued&kind=idphoto&limit=1&after=", link, StringComparison.Ordinal);
        var rest = JsonDocument.Parse(await _h.Client.GetStringAsync(link[1..link.IndexOf('>', StringComparison.Ordinal)])).RootElement;
        Assert.Equal([photo1], rest.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        Assert.False(rest.TryGetProperty("next", out _));

        // A kind that is not one: 400 naming the value and the kinds there are.
        using var bad = await _h.Client.GetAsync("/v1/jobs?kind=Portrait");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("kind", problem.GetProperty("field").GetString());
        Assert.Contains("'Portrait' is not a job kind; use portrait or idphoto.", problem.GetProperty("errors").GetProperty("kind")[0].GetString(), StringComparison.Ordinal);

        // The OpenAPI document lists the kinds the parameter takes.
        var parameters = JsonDocument.Parse(await _h.Client.GetStringAsync("/openapi/v1.json")).RootElement
            .GetProperty("paths").GetProperty("/v1/jobs").GetProperty("get").GetProperty("parameters").EnumerateArray();
        var kind = Assert.Single(parameters, p => p.GetProperty("name").GetString() == "kind");
        Assert.Equal("query", kind.GetProperty("in").GetString());
        Assert.Equal(["portrait", "idphoto"], kind.GetProperty("schema").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData("after=abc", "after")]
    [InlineData("after=0", "after")]
    [InlineData("after=-5", "after")]
    [InlineData("after=99999999999999999999", "after")]
    [InlineData("order=newest", "order")]
    [InlineData("limit=10001", "limit")]
    [InlineData("state=done", "state")]
    [InlineData("kind=photo", "kind")]
    public async Task List_BadQueryValue_Is400NamingTheParameter(string query, string field)
    {
        using var response = await _h.Client.GetAsync("/v1/jobs?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }
}
