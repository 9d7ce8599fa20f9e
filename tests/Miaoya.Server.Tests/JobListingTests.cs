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

    [Theory]
    [InlineData("after=abc", "after")]
    [InlineData("after=0", "after")]
    [InlineData("after=-5", "after")]
    [InlineData("after=99999999999999999999", "after")]
    [InlineData("order=newest", "order")]
    [InlineData("limit=10001", "limit")]
    [InlineData("state=done", "state")]
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
