using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Server.Tests;

/// <summary>What the hostile-input tests share: small templates, raw bodies, and the checks every refusal must pass.</summary>
internal static class Hostile
{
    /// <summary>
    /// The hostile-input classes run one after another (each starts servers and some burn CPU on purpose), so they do not
    /// starve the other classes' servers, whose leases last 3 s.
    /// </summary>
    public const string Collection = "Hostile input";

    /// <summary>Largest body any refusal may have (a refusal repeats some of the request; never all of it).</summary>
    public const int MaxRefusalBytes = 32 * 1024;

    private static readonly Lazy<byte[]> SmallAstronaut = new(() =>
    {
        using var image = Image.Load<Rgb24>(ServerHarness.Astronaut);
        image.Mutate(x => x.Resize(256, 256));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    });

    /// <summary>The astronaut scaled to 256×256 (its face is still found): cheap to decode and detect, for many submissions.</summary>
    public static byte[] Template => SmallAstronaut.Value;

    /// <summary>A plain one-colour PNG: a photo without a face.</summary>
    public static byte[] PlainPng(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(200, 180, 160));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <summary>A server with one mock box whose LoRA list has been probed (so unknown LoRAs are refused); no worker unless asked.</summary>
    public static async Task<ServerHarness> StartAsync(bool worker = false, Func<ServerOptions, ServerOptions>? configure = null)
    {
        var h = await ServerHarness.StartAsync(boxes: 1, configure: o => (configure?.Invoke(o) ?? o) with { NoWorker = !worker });
        try
        {
            await WaitForHealthyBoxesAsync(h);
            return h;
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }
    }

    public static async Task WaitForHealthyBoxesAsync(ServerHarness h)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var backends = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/backends")).RootElement;
            if (backends.GetProperty("boxes").EnumerateArray().All(b => b.GetProperty("health").GetString() == "healthy"))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the mock boxes were not probed healthy within 20 s");
            await Task.Delay(50);
        }
    }

    /// <summary>A multipart submission of the small astronaut (v2, the demo LoRA) with more fields.</summary>
    public static MultipartFormDataContent Form(params (string Name, string Value)[] fields) => ServerHarness.Form("v2", Template, fields);

    /// <summary>A body sent as it is, with a Content-Type header that is not checked on this side.</summary>
    public static ByteArrayContent Raw(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        }

        return content;
    }

    public static ByteArrayContent Raw(string body, string? contentType) => Raw(Encoding.UTF8.GetBytes(body), contentType);

    /// <summary>A JSON submission of the small astronaut (v2, the demo LoRA); each of <paramref name="rawFields"/> is raw JSON text and replaces the default.</summary>
    public static ByteArrayContent Json(params (string Name, string RawJson)[] rawFields)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["template"] = JsonSerializer.Serialize("data:image/png;base64," + Convert.ToBase64String(Template)),
            ["recipe"] = "\"v2\"",
            ["lora"] = "\"miaoya_demo_face:0.9\"",
        };
        foreach (var (name, raw) in rawFields)
        {
            if (raw.Length == 0)
            {
                fields.Remove(name);
            }
            else
            {
                fields[name] = raw;
            }
        }

        var body = new StringBuilder("{");
        foreach (var (name, raw) in fields)
        {
            body.Append(body.Length > 1 ? "," : "").Append(JsonSerializer.Serialize(name)).Append(':').Append(raw);
        }

        return Raw(body.Append('}').ToString(), "application/json");
    }

    /// <summary>The parts of a response the tests look at (read in full, the request disposed).</summary>
    public sealed record Answer(HttpStatusCode Status, string? MediaType, string Body, int BodyBytes, HttpResponseHeaders Headers)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

        public override string ToString() => $"{(int)Status} {MediaType}: {(Body.Length > 2000 ? Body[..2000] + "…" : Body)}";
    }

    public static async Task<Answer> PostAsync(ServerHarness h, HttpContent content)
    {
        using (content)
        {
            using var response = await h.Client.PostAsync("/v1/jobs", content);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, Encoding.UTF8.GetString(bytes), bytes.Length, response.Headers);
        }
    }

    /// <summary>What a refused submission must not leave behind: queued jobs, job folders, staging folders.</summary>
    public sealed record Leftovers(int Jobs, string[] JobFolders, string[] Uploads);

    public static async Task<Leftovers> LeftoversAsync(ServerHarness h)
    {
        var jobs = JsonDocument.Parse(await h.Client.GetStringAsync("/v1/jobs")).RootElement.GetProperty("jobs").GetArrayLength();
        return new Leftovers(
            jobs,
            [.. Directory.EnumerateDirectories(h.JobsDirectory).Order(StringComparer.Ordinal)],
            [.. Directory.EnumerateFileSystemEntries(h.UploadDirectory).Order(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Sends <paramref name="content"/> and checks the refusal: the status, RFC 7807 problem details naming
    /// <paramref name="field"/> (one message, containing <paramref name="messagePart"/> when given), a body under
    /// <see cref="MaxRefusalBytes"/>, and nothing queued, no job folder and no upload left.
    /// </summary>
    public static async Task<JsonElement> AssertProblemAsync(ServerHarness h, HttpContent content, HttpStatusCode status, string field, string? messagePart = null)
    {
        var before = await LeftoversAsync(h);
        var answer = await PostAsync(h, content);
        var problem = AssertProblem(answer, status, field, messagePart);
        await AssertNothingLeftAsync(h, before);
        return problem;
    }

    /// <summary>No job was queued, no job folder made and no upload left since <paramref name="before"/>.</summary>
    public static async Task AssertNothingLeftAsync(ServerHarness h, Leftovers before)
    {
        var after = await LeftoversAsync(h);
        Assert.Equal(before.Jobs, after.Jobs);
        Assert.Equal(before.JobFolders, after.JobFolders);
        Assert.Equal(before.Uploads, after.Uploads);
    }

    public static JsonElement AssertProblem(Answer answer, HttpStatusCode status, string field, string? messagePart = null)
    {
        Assert.True(answer.Status == status, $"expected {(int)status} naming {field}, got {answer}");
        var problem = AssertIsProblem(answer);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.True(problem.TryGetProperty("field", out var named), $"no field member: {answer}");
        Assert.True(named.GetString() == field, $"expected field {field}, got {answer}");
        var messages = problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.Single(messages);
        if (messagePart is not null)
        {
            Assert.Contains(messagePart, messages[0], StringComparison.OrdinalIgnoreCase);
        }

        return problem;
    }

    /// <summary>Problem details, with a title, within <see cref="MaxRefusalBytes"/>.</summary>
    public static JsonElement AssertIsProblem(Answer answer)
    {
        Assert.True(answer.MediaType == "application/problem+json", $"not problem details: {answer}");
        Assert.True(answer.BodyBytes < MaxRefusalBytes, $"a refusal of {answer.BodyBytes:N0} bytes: {answer}");
        var problem = answer.Json;
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.Equal((int)answer.Status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>The field a problem names (null when it names none).</summary>
    public static string? FieldOf(Answer answer) =>
        answer.MediaType == "application/problem+json" && answer.Json.TryGetProperty("field", out var field) ? field.GetString() : null;

    /// <summary>The server still answers: /healthz is 200 and a normal submission of the astronaut (v2) is accepted.</summary>
    public static async Task AssertStillServingAsync(ServerHarness h)
    {
        using (var health = await h.Client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        var accepted = await PostAsync(h, ServerHarness.Form("v2", null));
        Assert.True(accepted.Status == HttpStatusCode.Accepted, $"a normal submission after the hostile one: {accepted}");
    }

    /// <summary>Calls the mock boxes received on the routes that do work for a job (not the probes).</summary>
    public static int WorkCalls(ServerHarness h) =>
        h.Boxes.Sum(b => b.WireMock.LogEntries.Count(e => e.RequestMessage?.Path is "/tagger/v1/interrogate" or "/sdapi/v1/img2img" or "/sdapi/v1/txt2img" or "/sdapi/v1/interrogate"));

    public static string Nested(char open, char close, int depth) => new string(open, depth) + new string(close, depth);

    /// <summary>A flow mapping nested <paramref name="depth"/> deep: {a: {a: ... 1}}.</summary>
    public static string NestedMapping(int depth)
    {
        var text = new StringBuilder(depth * 5);
        text.Insert(0, "{a: ", depth).Append('1').Append('}', depth);
        return text.ToString();
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
