using System.Net;
using System.Text;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Server.Tests;

/// <summary>Every refused submission is RFC 7807 problem details naming the field; nothing is queued and no upload stays behind.</summary>
public sealed class ProblemDetailsTests
{
    [Fact]
    public async Task BadSubmissions_AreProblemDetails_NamingTheField()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with { MaxImageBytes = 600_000, MaxImageSide = 1024, MaxRequestBytes = 2_000_000 });

        // A small photo for the checks that are not about size (the astronaut is over this server's per-image limit).
        var small = Png(256, 256);
        await AssertProblemAsync(h, ServerHarness.Form("no-such-recipe", small), HttpStatusCode.BadRequest, "recipe", "unknown recipe");
        await AssertProblemAsync(h, ServerHarness.Form(null, null, ("lora", "x")), HttpStatusCode.BadRequest, "template", "required");
        await AssertProblemAsync(h, ServerHarness.Form("v2", small, ("lora", "face:7")), HttpStatusCode.BadRequest, "lora", "0..2");
        await AssertProblemAsync(h, ServerHarness.Form("v2", small, ("seed", "twelve")), HttpStatusCode.BadRequest, "seed", "twelve");
        await AssertProblemAsync(h, ServerHarness.Form("v2", small, ("overrides", "inpaint.nonsense=3")), HttpStatusCode.BadRequest, "overrides", "inpaint.nonsense: no such field");
        await AssertProblemAsync(h, ServerHarness.Form(null, small, ("recipe_yaml", "pipeline: [unclosed")), HttpStatusCode.BadRequest, "recipe_yaml", null);
        await AssertProblemAsync(h, ServerHarness.Form("v3", small), HttpStatusCode.BadRequest, "face", "face");
        await AssertProblemAsync(h, ServerHarness.Form("v2", "not an image"u8.ToArray()), HttpStatusCode.BadRequest, "template", "PNG, JPEG or WebP");
        await AssertProblemAsync(h, ServerHarness.Form("v2", small, ("colour", "blue")), HttpStatusCode.BadRequest, "colour", "unknown field");

        // Per-image limit (the astronaut PNG is about 790 kB), pixel dimensions, whole body.
        await AssertProblemAsync(h, ServerHarness.Form("v2", File.ReadAllBytes(ServerHarness.Astronaut)), HttpStatusCode.RequestEntityTooLarge, "template", "bytes");
        await AssertProblemAsync(h, ServerHarness.Form("v2", Png(1100, 80)), HttpStatusCode.BadRequest, "template", "1100×80");
        // (With Expect: 100-continue, as curl sends for large bodies: the answer comes before the body is sent.)
        await AssertProblemAsync(h, ServerHarness.Form("v2", new byte[2_500_000]), HttpStatusCode.RequestEntityTooLarge, "body", "2000000", expectContinue: true);

        using var text = new StringContent("recipe=v2", Encoding.UTF8, "text/plain");
        await AssertProblemAsync(h, text, HttpStatusCode.UnsupportedMediaType, "body", "multipart/form-data");
        using var badJson = new StringContent("{\"recipe\": ", Encoding.UTF8, "application/json");
        await AssertProblemAsync(h, badJson, HttpStatusCode.BadRequest, "body", "JSON");

        using var badState = await h.Client.GetAsync("/v1/jobs?state=done");
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.True(JsonDocument.Parse(await badState.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("state", out _));
        using var unknown = await h.Client.GetAsync("/v1/jobs/x");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);

        // Nothing was queued, no job folder was left, no upload stayed on disk.
        Assert.Empty(JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs")).RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Empty(Directory.EnumerateDirectories(h.JobsDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
    }

    [Fact]
    public async Task UnreadableTemplate_NamesTemplate_AndHidesServerPaths()
    {
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        // A PNG signature followed by garbage: recognised as PNG, but it cannot be read.
        var broken = new byte[4096];
        new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(broken, 0);
        var problem = await AssertProblemAsync(h, ServerHarness.Form("v2", broken), HttpStatusCode.BadRequest, "template", null);
        Assert.DoesNotContain(h.Folder, problem.GetRawText(), StringComparison.Ordinal);
    }

    private static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(200, 180, 160));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static async Task<JsonElement> AssertProblemAsync(ServerHarness h, HttpContent content, HttpStatusCode status, string field, string? messagePart, bool expectContinue = false)
    {
        using (content)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = content };
            request.Headers.ExpectContinue = expectContinue;
            using var response = await h.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"expected {status} for {field}, got {response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
            Assert.Equal(field, problem.GetProperty("field").GetString());
            var messages = problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!).ToList();
            Assert.Single(messages);
            if (messagePart is not null)
            {
                Assert.Contains(messagePart, messages[0], StringComparison.OrdinalIgnoreCase);
            }

            return problem.Clone();
        }
    }
}
