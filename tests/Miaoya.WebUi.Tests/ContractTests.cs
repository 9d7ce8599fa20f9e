using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.MockWebUi;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.WebUi.Tests;

/// <summary>Every client method against the mock WebUI, on both profiles where they differ.</summary>
public sealed class ContractTests(MockServers servers) : IClassFixture<MockServers>
{
    private static readonly EncodedImage Astronaut = new(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png")));

    private TestClient Connect(string profile) => new(servers[profile].Url);

    [Theory]
    [InlineData("webui-1.10", SamplerDialect.SplitOrCombined, 3, TaggerFlavor.Picobyte)]
    [InlineData("webui-1.8", SamplerDialect.Combined, 2, TaggerFlavor.Toriato)]
    public async Task Probe_ReadsTheServersDialectAndExtensions(string profile, SamplerDialect dialect, int controlNetApi, TaggerFlavor tagger)
    {
        using var test = Connect(profile);

        var capabilities = await test.Client.ProbeAsync();

        Assert.Equal(dialect, capabilities.SamplerDialect);
        Assert.Equal(controlNetApi, capabilities.ControlNetApiVersion);
        Assert.Equal(tagger, capabilities.TaggerFlavor);
        Assert.Equal(3, capabilities.ControlNetUnitCount);
        Assert.True(capabilities.HasTagger);
        Assert.True(capabilities.HasRembg);
        Assert.Contains("controlnet", capabilities.AlwaysOnScripts);
        Assert.Contains(capabilities.ControlNetModules, m => m == "softedge_pidinet");
        Assert.Contains(capabilities.ControlNetModules, m => m == "pidinet");
        Assert.NotNull(capabilities.FindCheckpoint("chilloutmix_NiPrunedFp32Fix"));
        Assert.Contains("ng_deepnegative_v1_75t", capabilities.Embeddings);
        Assert.Same(capabilities, await test.Client.GetCapabilitiesAsync());
    }

    [Theory]
    [InlineData("webui-1.10")]
    [InlineData("webui-1.8")]
    public async Task V1Inpaint_ChangesOnlyTheMaskedRegion_AndAppendsDetectedMaps(string profile)
    {
        using var test = Connect(profile);
        var capabilities = await test.Client.GetCapabilitiesAsync();
        var mask = FaceMask.Ellipse(512, 512, new SixLabors.ImageSharp.RectangleF(180, 75, 90, 100), grow: 0.1f, featherPixels: 0);
        var request = Payloads.V1Inpaint(capabilities, Astronaut, mask);

        var response = await test.Client.Img2ImgAsync(request);

        Assert.Equal(3_000_000_000L, response.Info!.Seed);
        Assert.Equal("chilloutmix_NiPrunedFp32Fix", response.Info.SdModelName);
        // One generated image, then a map for each unit except the one with save_detected_map = false.
        Assert.Equal(3, response.Images.Count);
        var result = Assert.Single(response.GeneratedImages);
        using var generated = result.Decode();
        using var original = Astronaut.Decode();
        Assert.Equal((512, 512), (generated.Width, generated.Height));
        Assert.True(Distance(generated[225, 130], original[225, 130]) > 40, "the face (masked) must change");
        Assert.True(Distance(generated[30, 450], original[30, 450]) < 6, "outside the mask must not change");
    }

    [Fact]
    public async Task Img2Img_UnknownSampler_IsRefusedBeforeAnythingIsSent()
    {
        using var server = MockWebUiServer.Start();
        using var test = new TestClient(server.Url);
        var request = new Img2ImgRequest { InitImages = [Astronaut], Steps = 1, Width = 64, Height = 64, SamplerName = "DPM++ SDE Karas" };

        var error = await Assert.ThrowsAsync<WebUiRequestException>(() => test.Client.Img2ImgAsync(request));

        Assert.Contains("\"DPM++ SDE\"", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.WireMock.LogEntries, e => e.RequestMessage!.Path == "/sdapi/v1/img2img");
    }

    [Fact]
    public async Task Txt2Img_ReturnsRequestedSize_AndSamplerEffective()
    {
        using var test = Connect("webui-1.10");

        var response = await test.Client.Txt2ImgAsync(new Txt2ImgRequest { Prompt = "portrait", Seed = 7, SamplerName = "Euler a", Steps = 4, Width = 96, Height = 64 });

        Assert.Equal((96, 64), Assert.Single(response.GeneratedImages).ReadSize());
        Assert.Equal(7, response.Info!.Seed);
        Assert.Equal("Euler a", response.Info.SamplerName);
    }

    [Fact]
    public async Task SamplesFormatOption_GivesJpegAndWebPResponses()
    {
        using var server = MockWebUiServer.Start();
        using var test = new TestClient(server.Url);
        var request = new Txt2ImgRequest { Steps = 1, Width = 32, Height = 32, SamplerName = "Euler a" };

        await test.Client.SetOptionsAsync(new Dictionary<string, JsonNode?> { ["samples_format"] = "jpg" });
        var jpeg = await test.Client.Txt2ImgAsync(request);
        await test.Client.SetOptionsAsync(new Dictionary<string, JsonNode?> { ["samples_format"] = "webp" });
        var webp = await test.Client.Txt2ImgAsync(request);

        Assert.Equal(ImageFileFormat.Jpeg, jpeg.Images[0].Format);
        Assert.Equal(ImageFileFormat.WebP, webp.Images[0].Format);
        Assert.Equal("webp", (await test.Client.GetOptionsAsync())["samples_format"].GetString());
        using var decoded = webp.Images[0].Decode();
        Assert.Equal(32, decoded.Width);
    }

    [Fact]
    public async Task SetOptions_UnknownCheckpoint_Is500NamingIt()
    {
        using var test = Connect("webui-1.10");

        var error = await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.SetOptionsAsync(new Dictionary<string, JsonNode?> { ["sd_model_checkpoint"] = "nope" }));

        Assert.Equal(500, error.StatusCode);
        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("webui-1.10", TaggerFlavor.Picobyte)]
    [InlineData("webui-1.8", TaggerFlavor.Toriato)]
    public async Task TaggerInterrogate_ReadsBothShapes_AndHonoursTheThreshold(string profile, TaggerFlavor flavor)
    {
        using var test = Connect(profile);
        var model = (await test.Client.GetTaggerInterrogatorsAsync()).Models[0];

        var loose = await test.Client.TaggerInterrogateAsync(new TaggerInterrogateRequest(Astronaut, model, 0.1));
        var strict = await test.Client.TaggerInterrogateAsync(new TaggerInterrogateRequest(Astronaut, model, 0.6));

        Assert.Equal(flavor, loose.Flavor);
        Assert.Contains("general", loose.Ratings.Keys);
        Assert.DoesNotContain("general", loose.Tags.Keys);
        Assert.True(strict.Tags.Count < loose.Tags.Count);
        Assert.All(strict.Tags.Values, score => Assert.True(score > 0.6));
    }

    [Fact]
    public async Task TaggerInterrogate_UnknownModel_Is404()
    {
        using var test = Connect("webui-1.10");

        var error = await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.TaggerInterrogateAsync(new TaggerInterrogateRequest(Astronaut, "no-such-model", 0.35)));

        Assert.Equal(404, error.StatusCode);
        Assert.Contains("Model not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Detect_Openpose_FacePointsSitOnTheFace()
    {
        using var test = Connect("webui-1.10");

        var detect = await test.Client.DetectAsync(new ControlNetDetectRequest { ControlnetModule = "openpose_faceonly", ControlnetInputImages = [Astronaut], ControlnetProcessorRes = 512 });

        Assert.Equal("Success", detect.Info);
        Assert.Single(detect.Images!);
        var pose = Assert.Single(detect.Poses!);
        var face = pose.People.SelectMany(p => p.FacePoints()).Select(p => pose.ToSourcePixels(p.X, p.Y, 512, 512)).ToList();
        Assert.Equal(70, face.Count);
        Assert.All(face, p => Assert.True(p.X is > 160 and < 300 && p.Y is > 60 and < 210, $"face point {p} is off the face"));
    }

    [Fact]
    public async Task Detect_UnknownModule_Is422()
    {
        using var test = Connect("webui-1.10");

        var error = await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.DetectAsync(new ControlNetDetectRequest { ControlnetModule = "openpose_fancy", ControlnetInputImages = [Astronaut] }));

        Assert.Equal(422, error.StatusCode);
        Assert.Contains("Module not available", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rembg_ReturnsPngWithTransparentBackground()
    {
        using var test = Connect("webui-1.10");

        var response = await test.Client.RembgAsync(new RembgRequest(Astronaut));

        using var cut = response.Image.Decode();
        Assert.Equal(ImageFileFormat.Png, response.Image.Format);
        Assert.Equal(0, cut[2, 2].A);
        Assert.Equal(255, cut[256, 256].A);
    }

    [Theory]
    [InlineData("webui-1.10")]
    [InlineData("webui-1.8")]
    public async Task ControlNetRoutes_AnswerTyped(string profile)
    {
        using var test = Connect(profile);

        var version = await test.Client.GetControlNetVersionAsync();
        var models = await test.Client.GetControlNetModelsAsync();
        var names = await test.Client.GetControlNetModulesAsync(aliasNames: false);
        var labels = await test.Client.GetControlNetModulesAsync(aliasNames: true);
        var types = await test.Client.GetControlNetControlTypesAsync();
        var settings = await test.Client.GetControlNetSettingsAsync();

        Assert.Equal(profile == "webui-1.8" ? 2 : 3, version!.Version);
        Assert.Contains("control_v11p_sd15_openpose [cab727d4]", models.ModelList);
        Assert.Contains("pidinet", names.ModuleList);
        Assert.Contains("softedge_pidinet", labels.ModuleList);
        Assert.True(names.ModuleDetail!["reference_only"].ModelFree);
        Assert.Contains("OpenPose", types.ControlTypes.Keys);
        Assert.Equal(3, settings.ControlNetUnitCount);
    }

    [Theory]
    [InlineData("webui-1.10")]
    [InlineData("webui-1.8")]
    public async Task CatalogRoutes_AnswerTyped(string profile)
    {
        using var test = Connect(profile);
        var client = test.Client;

        Assert.Contains(await client.GetSdModelsAsync(), m => m.ModelName == "chilloutmix_NiPrunedFp32Fix" && m.Title.EndsWith(']'));
        Assert.NotNull(await client.GetSdVaeAsync());
        Assert.Contains(await client.GetLorasAsync(), l => l.Name == "miaoya_demo_face");
        Assert.Contains("badhandv4", (await client.GetEmbeddingsAsync()).Loaded.Keys);
        Assert.Contains(await client.GetSamplersAsync(), s => s.Name == (profile == "webui-1.8" ? "DPM++ SDE Karras" : "DPM++ SDE"));
        var schedulers = await client.GetSchedulersAsync();
        if (profile == "webui-1.8")
        {
            Assert.Null(schedulers);
        }
        else
        {
            Assert.Contains(schedulers!, s => s.Name == "karras" && s.Label == "Karras");
        }

        Assert.NotEmpty(await client.GetUpscalersAsync());
        Assert.Contains("controlnet", (await client.GetScriptsAsync()).Img2img);
        Assert.Contains(await client.GetScriptInfoAsync(), s => s.Name == "controlnet" && s.IsAlwayson);
        Assert.Contains(await client.GetExtensionsAsync(), e => e.Name == "sd-webui-controlnet" && e.Enabled);
        Assert.NotNull((await client.GetMemoryAsync()).Ram);
        Assert.True((await client.GetCmdFlagsAsync())["api"].GetBoolean());
        Assert.Contains("sd_model_checkpoint", (await client.GetOptionsAsync()).Keys);
    }

    [Fact]
    public async Task ProgressInterruptSkipRefresh_Answer()
    {
        using var test = Connect("webui-1.10");
        var client = test.Client;

        var progress = await client.GetProgressAsync();
        await client.InterruptAsync();
        await client.SkipAsync();
        await client.RefreshCheckpointsAsync();
        await client.RefreshLorasAsync();

        Assert.Equal(0, progress.State!.JobCount);
    }

    [Fact]
    public async Task InterrogateAndPngInfo_Answer()
    {
        using var test = Connect("webui-1.10");
        var generated = await test.Client.Txt2ImgAsync(new Txt2ImgRequest { Prompt = "a red apple", Steps = 3, Width = 32, Height = 32, SamplerName = "Euler a" });

        var caption = await test.Client.InterrogateAsync(new InterrogateRequest(Astronaut, "deepdanbooru"));
        var info = await test.Client.PngInfoAsync(new PngInfoRequest(generated.Images[0]));

        Assert.False(string.IsNullOrWhiteSpace(caption.Caption));
        Assert.Contains("a red apple", info.Info, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.InterrogateAsync(new InterrogateRequest(Astronaut, "blip")));
        Assert.Equal(404, unknown.StatusCode);
    }

    [Fact]
    public async Task Auth_RequiredOnSdapi_NotOnControlNet()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ann:s3cret" });
        using var good = new TestClient(server.Url, auth: "ann:s3cret");
        using var none = new TestClient(server.Url);

        Assert.NotEmpty(await good.Client.GetSdModelsAsync());
        var error = await Assert.ThrowsAsync<WebUiApiException>(() => none.Client.GetSdModelsAsync());
        Assert.Equal(401, error.StatusCode);
        Assert.Equal(3, (await none.Client.GetControlNetVersionAsync())!.Version);
    }

    [Fact]
    public async Task Credentials_NeverReachTheLogs_EvenAtTrace()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ann:s3cret" });
        var logs = new CollectingLoggerProvider();
        using var test = new TestClient(server.Url, auth: "ann:s3cret", logs: logs);

        await test.Client.ProbeAsync();
        using var wrong = new TestClient(server.Url, auth: "ann:wr0ng", logs: logs);
        await Assert.ThrowsAsync<WebUiApiException>(() => wrong.Client.GetOptionsAsync());

        Assert.NotEmpty(logs.Lines);
        var token = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("ann:s3cret"));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("s3cret", StringComparison.Ordinal) || l.Contains("wr0ng", StringComparison.Ordinal) || l.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_InterruptsTheBox()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromSeconds(5) });
        using var test = new TestClient(server.Url);
        await test.Client.GetCapabilitiesAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            test.Client.Txt2ImgAsync(new Txt2ImgRequest { Steps = 1, Width = 16, Height = 16, SamplerName = "Euler a" }, cancel.Token));

        Assert.Equal(1, server.InterruptCount);
    }

    [Theory]
    [InlineData(MockFaultKind.MalformedJson, typeof(WebUiProtocolException))]
    [InlineData(MockFaultKind.TruncatedBase64, typeof(WebUiProtocolException))]
    [InlineData(MockFaultKind.DropConnection, typeof(WebUiTransportException))]
    public async Task Faults_OnGeneration_MapToTypedErrors_WithoutRetry(MockFaultKind kind, Type expected)
    {
        using var server = MockWebUiServer.Start();
        server.AddFault(new MockFault("/sdapi/v1/txt2img") { Kind = kind });
        using var test = new TestClient(server.Url, o => o.ValidateNames = false);

        var error = await Assert.ThrowsAnyAsync<WebUiException>(() => test.Client.Txt2ImgAsync(new Txt2ImgRequest { Steps = 1, Width = 16, Height = 16 }));

        Assert.IsType(expected, error);
        Assert.Equal("POST /sdapi/v1/txt2img", error.Endpoint);

        // WireMock logs a request after its callback returns; a dropped connection reaches the client before that.
        int Calls() => server.WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/txt2img");
        for (var wait = 0; wait < 100 && Calls() == 0; wait++)
        {
            await Task.Delay(50);
        }

        await Task.Delay(200); // a retry, had there been one, would be logged by now too
        Assert.Equal(1, Calls());
    }

    [Fact]
    public async Task Fault_503Once_OnControlCall_IsRetried()
    {
        using var server = MockWebUiServer.Start();
        server.AddFault(new MockFault("/sdapi/v1/options") { StatusCode = 503, Times = 1 });
        using var test = new TestClient(server.Url);

        var options = await test.Client.GetOptionsAsync();

        Assert.Contains("sd_model_checkpoint", options.Keys);
        Assert.Equal(2, server.WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/options"));
    }

    private static int Distance(Rgba32 a, Rgba32 b) => Math.Abs(a.R - b.R) + Math.Abs(a.G - b.G) + Math.Abs(a.B - b.B);
}
