using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

/// <summary>Starts a mock and talks to it with a raw HttpClient.</summary>
internal sealed class MockClient : IDisposable
{
    public MockClient(MockWebUiOptions? options = null)
    {
        Server = MockWebUiServer.Start(options);
        Http = new HttpClient { BaseAddress = Server.Url, Timeout = TimeSpan.FromSeconds(20) };
    }

    public MockClient(MockWebUiProfile profile) : this(new MockWebUiOptions { Profile = profile })
    {
    }

    public MockWebUiServer Server { get; }

    public HttpClient Http { get; }

    public async Task<(int Status, JsonNode? Json, string Text)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, TryParse(text), text);
    }

    public async Task<(int Status, JsonNode? Json, string Text)> PostAsync(string path, JsonNode? body, AuthenticationHeaderValue? auth = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
        {
            Content = new StringContent(body?.ToJsonString() ?? "", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = auth;
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, TryParse(text), text);
    }

    public static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        Http.Dispose();
        Server.Dispose();
    }
}

internal static class TestImages
{
    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static string AstronautBase64() => Convert.ToBase64String(File.ReadAllBytes(FixturePath("astronaut.png")));

    public static string Solid(int width, int height, Rgba32 colour)
    {
        using var image = new Image<Rgba32>(width, height, colour);
        return ToBase64(image);
    }

    /// <summary>White rectangle on black (mask), in pixels.</summary>
    public static string RectMask(int width, int height, Rectangle white)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32(0, 0, 0, 255));
        for (var y = white.Top; y < white.Bottom; y++)
        {
            for (var x = white.Left; x < white.Right; x++)
            {
                image[x, y] = new Rgba32(255, 255, 255, 255);
            }
        }

        return ToBase64(image);
    }

    public static string ToBase64(Image image)
    {
        using var ms = new MemoryStream();
        image.Save(ms, new PngEncoder());
        return Convert.ToBase64String(ms.ToArray());
    }

    public static Image<Rgba32> Decode(JsonNode? b64) => Image.Load<Rgba32>(Convert.FromBase64String(b64!.GetValue<string>()));
}
