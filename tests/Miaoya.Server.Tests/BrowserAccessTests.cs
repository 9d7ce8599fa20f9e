using System.Net;
using System.Text.Json;

namespace Miaoya.Server.Tests;

/// <summary>What a web front end on another origin needs: CORS for its origin, and an event-stream token for EventSource.</summary>
public sealed class BrowserAccessTests
{
    [Fact]
    public async Task EventToken_OpensTheEventStreamWithoutTheKey_OnlyThere_AndAForgedOrExpiredOneIs401()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        using var form = ServerHarness.Form("v1-face", null);
        var id = (await h.SubmitAsync(form)).GetProperty("id").GetString()!;
        using var anonymous = new HttpClient { BaseAddress = h.Client.BaseAddress };

        // No token without the key.
        using (var refused = await anonymous.PostAsync("/v1/event-tokens", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var issued = await h.Client.PostAsync("/v1/event-tokens", null);
        issued.EnsureSuccessStatusCode();
        var body = JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement;
        var token = body.GetProperty("token").GetString()!;
        Assert.InRange(body.GetProperty("expires_in_s").GetDouble(), 240, 300);
        Assert.Contains("access_token=", body.GetProperty("usage").GetString(), StringComparison.Ordinal);

        // The stream opens with the token alone and runs to the end of the job.
        var events = await ServerHarness.ReadEventsAsync(anonymous, id, accessToken: token);
        Assert.Equal("job_succeeded", events[^1].Name);

        // Only the event stream: the same token does not read the job or list the jobs.
        using (var job = await anonymous.GetAsync($"/v1/jobs/{id}?access_token={Uri.EscapeDataString(token)}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, job.StatusCode);
        }

        // A token with its expiry changed no longer matches its signature; garbage is refused the same way.
        var forged = (long.Parse(token.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture) + 3600) + "." + token.Split('.')[1];
        foreach (var bad in new[] { forged, "nonsense", "1.AAAA" })
        {
            using var stream = await anonymous.GetAsync($"/v1/jobs/{id}/events?access_token={Uri.EscapeDataString(bad)}");
            Assert.Equal(HttpStatusCode.Unauthorized, stream.StatusCode);
            Assert.Contains("POST /v1/event-tokens", await stream.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Cors_AnswersTheListedOriginsPreflightWithoutTheKey_AndNotOthers()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with { CorsOrigins = ["https://console.example.com"] });
        using var anonymous = new HttpClient { BaseAddress = h.Client.BaseAddress };

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/jobs");
        preflight.Headers.Add("Origin", "https://console.example.com");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key");
        using (var answer = await anonymous.SendAsync(preflight))
        {
            Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
            Assert.Equal("https://console.example.com", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("x-api-key", string.Join(",", answer.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        }

        using var other = new HttpRequestMessage(HttpMethod.Options, "/v1/jobs");
        other.Headers.Add("Origin", "https://evil.example.net");
        other.Headers.Add("Access-Control-Request-Method", "POST");
        using (var answer = await anonymous.SendAsync(other))
        {
            Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));
        }

        // A real request from the page still needs the key, and its answer names the origin.
        using var list = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs");
        list.Headers.Add("Origin", "https://console.example.com");
        list.Headers.Add("X-Api-Key", ServerHarness.Key);
        using (var answer = await anonymous.SendAsync(list))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("https://console.example.com", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
    }

    [Theory]
    [InlineData("https://console.example.com/")]
    [InlineData("console.example.com")]
    [InlineData("ftp://console.example.com")]
    [InlineData("https://console.example.com/app")]
    public async Task Cors_AnOriginThatIsNotOne_IsAConfigurationError(string origin)
    {
        var e = await Assert.ThrowsAsync<ServerConfigurationException>(() => ServerHarness.StartAsync(boxes: 1, configure: o => o with { CorsOrigins = [origin] }));

        Assert.Contains($"--cors-origin: '{origin}' is not an origin", e.Message, StringComparison.Ordinal);
    }
}
