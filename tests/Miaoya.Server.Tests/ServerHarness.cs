using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Miaoya.Fleet;
using Miaoya.MockWebUi;
using Miaoya.Runner;

namespace Miaoya.Server.Tests;

/// <summary>In-process mock WebUI boxes and <c>miaoya serve</c> on a free loopback port, with an HTTP client carrying the key.</summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    public const string Key = "test-key-0123456789abcdef";

    private ServerHarness(IReadOnlyList<MockWebUiServer> boxes, MiaoyaServer server, string folder, ServerOptions options)
    {
        Boxes = boxes;
        Server = server;
        Folder = folder;
        Options = options;
        Client = new HttpClient { BaseAddress = server.Urls[0], Timeout = TimeSpan.FromMinutes(5) };
        Client.DefaultRequestHeaders.Add("X-Api-Key", Key);
    }

    public IReadOnlyList<MockWebUiServer> Boxes { get; }

    public MiaoyaServer Server { get; }

    public HttpClient Client { get; }

    public string Folder { get; }

    public ServerOptions Options { get; }

    public string JobsDirectory => Options.Runner.JobsDirectory;

    public string UploadDirectory => Options.UploadDirectory!;

    public static string Astronaut => Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png");

    public static async Task<ServerHarness> StartAsync(int boxes = 2, TimeSpan latency = default, Func<ServerOptions, ServerOptions>? configure = null, Action<MockWebUiOptions>? mock = null)
    {
        var servers = Enumerable.Range(0, boxes).Select(_ =>
        {
            var box = new MockWebUiOptions { Latency = latency };
            mock?.Invoke(box);
            return MockWebUiServer.Start(box);
        }).ToArray();
        var folder = Path.Combine(Path.GetTempPath(), "miaoya-server-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "uploads"));
        var options = new ServerOptions
        {
            Urls = ["http://127.0.0.1:0"],
            UploadDirectory = Path.Combine(folder, "uploads"),
            ApiKey = Key,
            Boxes = servers.Select((s, i) => new BoxOptions { Name = $"box{i}", Url = s.Url }).ToArray(),
            ConfigureFleet = f => f.HealthInterval = TimeSpan.FromMilliseconds(200),
            Runner = new JobRunnerOptions
            {
                JobsDirectory = Path.Combine(folder, "jobs"),
                OwnershipCheckInterval = TimeSpan.FromMilliseconds(500),
                PollInterval = TimeSpan.FromMilliseconds(50),
                Slots = 4,
            },
        };
        options = configure?.Invoke(options) ?? options;
        var server = await MiaoyaServer.StartAsync(options);
        return new ServerHarness(servers, server, folder, options);
    }

    /// <summary>A multipart submission of the astronaut template with the given fields.</summary>
    public static MultipartFormDataContent Form(string? recipe = "v2", byte[]? template = null, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        if (template is not null || recipe is not null)
        {
            var image = new ByteArrayContent(template ?? File.ReadAllBytes(Astronaut));
            image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(image, "template", "astronaut.png");
        }

        if (recipe is not null)
        {
            form.Add(new StringContent(recipe), "recipe");
        }

        var hasLora = false;
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
            hasLora |= name == "lora";
        }

        if (!hasLora)
        {
            form.Add(new StringContent("miaoya_demo_face:0.9"), "lora");
        }

        return form;
    }

    public async Task<JsonElement> SubmitAsync(HttpContent content)
    {
        using var response = await Client.PostAsync("/v1/jobs", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Reads a job's event stream until the server ends it (the job finished) or <paramref name="until"/> says stop.</summary>
    public Task<List<ServerSentEvent>> ReadEventsAsync(string id, long? lastEventId = null, Func<ServerSentEvent, bool>? until = null) =>
        ReadEventsAsync(Client, id, lastEventId, until);

    /// <summary>The same with any client.</summary>
    public static async Task<List<ServerSentEvent>> ReadEventsAsync(HttpClient client, string id, long? lastEventId = null, Func<ServerSentEvent, bool>? until = null, string? accessToken = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/events{(accessToken is null ? "" : "?access_token=" + Uri.EscapeDataString(accessToken))}");
        if (lastEventId is { } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var events = new List<ServerSentEvent>();
        string? eventId = null, name = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    var e = new ServerSentEvent(eventId is null ? null : long.Parse(eventId, System.Globalization.CultureInfo.InvariantCulture), name ?? "message", JsonDocument.Parse(data.ToString()).RootElement.Clone());
                    events.Add(e);
                    if (until?.Invoke(e) == true)
                    {
                        return events;
                    }
                }

                (eventId, name) = (null, null);
                data.Clear();
                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    eventId = value;
                    break;
                case "event":
                    name = value;
                    break;
                case "data":
                    data.Append(value);
                    break;
            }
        }

        return events;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
        foreach (var box in Boxes)
        {
            box.Dispose();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal sealed record ServerSentEvent(long? Id, string Name, JsonElement Data);
