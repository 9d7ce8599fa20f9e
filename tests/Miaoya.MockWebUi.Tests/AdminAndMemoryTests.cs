using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

/// <summary>The mock as something people expose for smoke tests: its admin API is not a side door, and its memory is bounded.</summary>
public sealed class AdminAndMemoryTests
{
    private static AuthenticationHeaderValue Basic(string pair) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));

    [Fact]
    public async Task AdminRequests_WithAuth_NeedTheMocksCredentials()
    {
        // /__admin/requests lists every request with its Authorization header: it was served without credentials.
        using var c = new MockClient(new MockWebUiOptions { Auth = "user:pass,second:pw" });
        using (var call = new HttpRequestMessage(HttpMethod.Get, new Uri("sdapi/v1/options", UriKind.Relative)))
        {
            call.Headers.Authorization = Basic("user:pass");
            using var answered = await c.Http.SendAsync(call);
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        using var anonymous = await c.Http.GetAsync(new Uri("__admin/requests", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.DoesNotContain("Basic", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var admin = new HttpRequestMessage(HttpMethod.Get, new Uri("__admin/requests", UriKind.Relative));
        admin.Headers.Authorization = Basic("user:pass");
        using var allowed = await c.Http.SendAsync(admin);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Contains("/sdapi/v1/options", await allowed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminRequests_WithoutAuth_StayOpen()
    {
        using var c = new MockClient();

        using var response = await c.Http.GetAsync(new Uri("__admin/requests", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task RequestLog_KeepsWithinItsByteBudget_DroppingTheOldest()
    {
        // Requests carry base64 images; a count limit of 200 entries let a long session hold gigabytes.
        using var c = new MockClient(new MockWebUiOptions { MaxRequestLogBytes = 1_000_000 });
        var padding = new string('A', 200_000);
        for (var i = 0; i < 12; i++)
        {
            await c.PostAsync("sdapi/v1/options", new JsonObject { ["note"] = $"{i}:{padding}" });
        }

        await c.GetAsync("sdapi/v1/options");

        var bodies = c.Server.WireMock.LogEntries.Sum(e => (long)(e.RequestMessage?.Body?.Length ?? 0) * 2);
        Assert.InRange(bodies, 0, 1_000_000);
        Assert.Contains(c.Server.WireMock.LogEntries, e => e.RequestMessage?.Body?.Contains("11:", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(c.Server.WireMock.LogEntries, e => e.RequestMessage?.Body?.StartsWith("{\"note\":\"0:", StringComparison.Ordinal) == true);
        Assert.Equal(13, c.Server.RequestCount);
    }
}
