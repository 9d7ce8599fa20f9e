using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Miaoya.MockWebUi.Recording;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

/// <summary>mock-webui --record-from / --replay: a mock stands in for the real box being recorded.</summary>
public sealed class RecordReplayTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-recording-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Record_KeepsImagesAsFiles_AndNoCredentialAnywhere()
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ann:s3cretpass" });
        using var proxy = RecordingProxy.Start(new RecordingProxyOptions { Upstream = box.Url, Directory = _directory, Auth = "ann:s3cretpass" });
        using var http = new HttpClient { BaseAddress = proxy.Url };

        var flags = await http.GetStringAsync(new Uri("sdapi/v1/cmd-flags", UriKind.Relative));
        using var generated = await PostAsync(http, "sdapi/v1/txt2img", Txt2Img(seed: 7));
        var answer = JsonNode.Parse(await generated.Content.ReadAsStringAsync())!;

        Assert.Contains("ann:s3cretpass", flags, StringComparison.Ordinal); // the box echoes it; the recording must not
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        Assert.Equal(2, proxy.Exchanges);
        var image = Assert.Single(Directory.GetFiles(Path.Combine(_directory, "images")));
        Assert.EndsWith(".png", image, StringComparison.Ordinal);
        Assert.Equal(Convert.FromBase64String(answer["images"]![0]!.GetValue<string>()), File.ReadAllBytes(image));
        var mapping = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(_directory, "mappings"), "*txt2img.json")));
        Assert.Contains("\"@image:images/", mapping, StringComparison.Ordinal);
        Assert.Contains("\"JsonMatcher\"", mapping, StringComparison.Ordinal);
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:s3cretpass"));
        foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            var text = Encoding.UTF8.GetString(bytes);
            Assert.DoesNotContain("s3cretpass", text, StringComparison.Ordinal);
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            Assert.DoesNotContain("Authorization", text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Record_ForwardsTheClientsOwnAuthorization_AndStripsCredentialsFromTheUrl()
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Auth = "bob:hunter2hunter2" });
        var withCredentials = new UriBuilder(box.Url) { UserName = "carl", Password = "urlsecret99" }.Uri;
        using var proxy = RecordingProxy.Start(new RecordingProxyOptions { Upstream = withCredentials, Directory = _directory });
        using var http = new HttpClient { BaseAddress = proxy.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:hunter2hunter2")));

        using var response = await http.GetAsync(new Uri("sdapi/v1/sd-models", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(box.Url, RecordingProxy.WithoutCredentials(withCredentials).Url);
        Assert.Equal("carl:urlsecret99", RecordingProxy.WithoutCredentials(withCredentials).Auth);
        foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain("hunter2hunter2", text, StringComparison.Ordinal);
            Assert.DoesNotContain("urlsecret99", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Replay_AnswersAsRecorded_IgnoringKeyOrder_AndInRecordedOrderForEqualRequests()
    {
        using (var box = MockWebUiServer.Start())
        using (var proxy = RecordingProxy.Start(new RecordingProxyOptions { Upstream = box.Url, Directory = _directory }))
        using (var http = new HttpClient { BaseAddress = proxy.Url })
        {
            (await PostAsync(http, "sdapi/v1/txt2img", Txt2Img(seed: 7))).Dispose();
            await http.GetStringAsync(new Uri("sdapi/v1/options", UriKind.Relative));
            (await PostAsync(http, "sdapi/v1/options", new JsonObject { ["samples_format"] = "jpg" })).Dispose();
            await http.GetStringAsync(new Uri("sdapi/v1/options", UriKind.Relative));
            await http.GetStringAsync(new Uri("controlnet/module_list?alias_names=true", UriKind.Relative));
        }

        using var replay = ReplayServer.Start(_directory);
        using var client = new HttpClient { BaseAddress = replay.Url };
        var reordered = new JsonObject();
        foreach (var (name, value) in Txt2Img(seed: 7).AsEnumerable().Reverse())
        {
            reordered[name] = value?.DeepClone();
        }

        using var txt2img = await PostAsync(client, "sdapi/v1/txt2img", reordered);
        var first = JsonNode.Parse(await client.GetStringAsync(new Uri("sdapi/v1/options", UriKind.Relative)))!;
        var second = JsonNode.Parse(await client.GetStringAsync(new Uri("sdapi/v1/options", UriKind.Relative)))!;
        var third = JsonNode.Parse(await client.GetStringAsync(new Uri("sdapi/v1/options", UriKind.Relative)))!;
        var modules = await client.GetStringAsync(new Uri("controlnet/module_list?alias_names=true", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, txt2img.StatusCode);
        var images = JsonNode.Parse(await txt2img.Content.ReadAsStringAsync())!["images"]!.AsArray();
        using (var image = Image.Load<Rgba32>(Convert.FromBase64String(images[0]!.GetValue<string>())))
        {
            Assert.Equal((64, 64), (image.Width, image.Height));
        }

        Assert.NotEqual("jpg", first["samples_format"]!.GetValue<string>());
        Assert.Equal("jpg", second["samples_format"]!.GetValue<string>());
        Assert.Equal("jpg", third["samples_format"]!.GetValue<string>()); // the last answer repeats
        Assert.Contains("softedge_pidinet", modules, StringComparison.Ordinal);
        Assert.Equal(0, replay.Misses);
    }

    [Fact]
    public async Task Replay_UnrecordedRequest_Is404NamingTheClosestRecordedOne()
    {
        using (var box = MockWebUiServer.Start())
        using (var proxy = RecordingProxy.Start(new RecordingProxyOptions { Upstream = box.Url, Directory = _directory }))
        using (var http = new HttpClient { BaseAddress = proxy.Url })
        {
            (await PostAsync(http, "sdapi/v1/txt2img", Txt2Img(seed: 7))).Dispose();
        }

        using var replay = ReplayServer.Start(_directory);
        using var client = new HttpClient { BaseAddress = replay.Url };

        using var otherSeed = await PostAsync(client, "sdapi/v1/txt2img", Txt2Img(seed: 8));
        using var otherPath = await client.GetAsync(new Uri("sdapi/v1/loras", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, otherSeed.StatusCode);
        var detail = JsonNode.Parse(await otherSeed.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
        Assert.Contains("POST /sdapi/v1/txt2img", detail, StringComparison.Ordinal);
        Assert.Contains("0001-post-sdapi-v1-txt2img.json", detail, StringComparison.Ordinal);
        Assert.Contains("at $.seed: recorded 7, got 8", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, otherPath.StatusCode);
        Assert.Contains("nothing was recorded at this path", await otherPath.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, replay.Misses);
    }

    [Fact]
    public void Replay_NotARecording_SaysHowToMakeOne()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => ReplayServer.Start(_directory));

        Assert.Contains("--record-from", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Images_DataUriAndPlainBase64_RoundTrip()
    {
        using var image = new Image<Rgba32>(8, 8, new Rgba32(10, 20, 30));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        var base64 = Convert.ToBase64String(stream.ToArray());
        var saved = new Dictionary<string, byte[]>();
        var node = new JsonObject { ["a"] = base64, ["b"] = new JsonArray("data:image/png;base64," + base64, "short"), ["c"] = new string('A', 100) };

        var externalised = RecordedImages.Externalise(node, (path, data) => saved[path] = data)!;
        foreach (var (path, data) in saved)
        {
            Directory.CreateDirectory(Path.Combine(_directory, "images"));
            File.WriteAllBytes(Path.Combine(_directory, path), data);
        }

        Assert.StartsWith(RecordedImages.Marker + "images/", externalised["a"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("data:image/png;base64," + RecordedImages.Marker, externalised["b"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(new string('A', 100), externalised["c"]!.GetValue<string>()); // base64, but not an image
        Assert.Single(saved);
        var inlined = RecordedImages.Inline(externalised, _directory)!;
        Assert.Equal(base64, inlined["a"]!.GetValue<string>());
        Assert.Equal("data:image/png;base64," + base64, inlined["b"]![0]!.GetValue<string>());
    }

    private static JsonObject Txt2Img(long seed) => new()
    {
        ["prompt"] = "a red apple",
        ["seed"] = seed,
        ["steps"] = 2,
        ["width"] = 64,
        ["height"] = 64,
        ["sampler_name"] = "Euler a",
    };

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string path, JsonNode body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return await http.PostAsync(new Uri(path, UriKind.Relative), content);
    }
}
