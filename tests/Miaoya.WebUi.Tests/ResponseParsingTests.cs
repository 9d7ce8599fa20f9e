using Miaoya.Imaging;
using Miaoya.WebUi.Dto;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Miaoya.WebUi.Tests;

/// <summary>Reading what the server sends back: info as a JSON string, 64-bit seeds, any image format, broken bodies.</summary>
public sealed class ResponseParsingTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });

    public void Dispose() => _server.Dispose();

    private Uri Url => new(_server.Urls![0]);

    private static Txt2ImgRequest Small => new() { Steps = 1, Width = 8, Height = 8 };

    private void Answer(string body) =>
        _server.Given(Request.Create().WithPath("/sdapi/v1/txt2img").UsingPost()).RespondWith(Response.Create().WithBody(body));

    [Fact]
    public async Task Info_IsParsedFromItsJsonString_WithSeedsAbove2To31()
    {
        var png = TestImages.Png();
        Answer($$"""{"images":["{{png.ToBase64()}}"],"parameters":{"prompt":"x"},"info":"{\"seed\": 4294967294, \"all_seeds\": [4294967294], \"subseed\": 3000000001, \"sampler_name\": \"DPM++ SDE\", \"sd_model_name\": \"chilloutmix_NiPrunedFp32Fix\", \"index_of_first_image\": 0, \"width\": 8, \"height\": 8, \"steps\": 1, \"extra_generation_params\": {\"Schedule type\": \"Karras\"}, \"infotexts\": [\"x\"]}"}""");
        using var test = new TestClient(Url, o => o.ValidateNames = false);

        var response = await test.Client.Txt2ImgAsync(Small);

        Assert.Equal(4_294_967_294L, response.Info!.Seed);
        Assert.Equal([4_294_967_294L], response.Info.AllSeeds);
        Assert.Equal(3_000_000_001L, response.Info.Subseed);
        Assert.Equal("Karras", response.Info.ExtraGenerationParams!["Schedule type"].GetString());
        Assert.Equal(png.Bytes.ToArray(), response.Images[0].Bytes.ToArray());
    }

    [Fact]
    public async Task Images_AreDecodedByContent_PngJpegWebPAndDataUrls()
    {
        var jpeg = TestImages.Jpeg();
        var webp = TestImages.WebP();
        var png = TestImages.Png();
        Answer($$"""{"images":["{{jpeg.ToBase64()}}","{{webp.ToDataUrl()}}","{{png.ToBase64()}}"],"parameters":{},"info":"{\"all_seeds\":[1,2],\"index_of_first_image\":0}"}""");
        using var test = new TestClient(Url, o => o.ValidateNames = false);

        var response = await test.Client.Txt2ImgAsync(Small);

        Assert.Equal([ImageFileFormat.Jpeg, ImageFileFormat.WebP, ImageFileFormat.Png], response.Images.Select(i => i.Format));
        Assert.Equal(webp.Bytes.ToArray(), response.Images[1].Bytes.ToArray());
        using var decoded = response.Images[1].Decode();
        Assert.Equal(8, decoded.Width);

        // Two seeds: two generated images; the third is a ControlNet map.
        Assert.Equal(2, response.GeneratedImages.Count);
    }

    [Fact]
    public async Task TruncatedBase64_IsAProtocolErrorNamingTheEndpoint()
    {
        var png = TestImages.Png().ToBase64();
        Answer($$"""{"images":["{{png[..^7]}}"],"parameters":{},"info":"{}"}""");
        using var test = new TestClient(Url, o => o.ValidateNames = false);

        var error = await Assert.ThrowsAsync<WebUiProtocolException>(() => test.Client.Txt2ImgAsync(Small));

        Assert.Equal("POST /sdapi/v1/txt2img", error.Endpoint);
        Assert.Contains("base64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedJson_IsAProtocolError()
    {
        Answer("""{"images":["abc" "info": """);
        using var test = new TestClient(Url, o => o.ValidateNames = false);

        var error = await Assert.ThrowsAsync<WebUiProtocolException>(() => test.Client.Txt2ImgAsync(Small));

        Assert.StartsWith("POST /sdapi/v1/txt2img on http://127.0.0.1:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FastApi422FromServer_BecomesFieldError()
    {
        _server.Given(Request.Create().WithPath("/sdapi/v1/txt2img").UsingPost()).RespondWith(Response.Create().WithStatusCode(422)
            .WithBody("""{"detail":[{"loc":["body","steps"],"msg":"value is not a valid integer","type":"type_error.integer"}]}"""));
        using var test = new TestClient(Url, o => o.ValidateNames = false);

        var error = await Assert.ThrowsAsync<WebUiApiException>(() => test.Client.Txt2ImgAsync(Small));

        Assert.Equal("steps", Assert.Single(error.FieldErrors).Field);
    }

    [Fact]
    public async Task RequestBody_IsTheSerializedPayload()
    {
        Answer("""{"images":[],"parameters":{},"info":"{}"}""");
        using var test = new TestClient(Url, o => o.ValidateNames = false);

        await test.Client.Txt2ImgAsync(Small with { Seed = 3_000_000_000, SamplerName = "DPM++ SDE", Scheduler = "karras" });

        var sent = System.Text.Json.Nodes.JsonNode.Parse(_server.LogEntries.Single().RequestMessage!.Body!)!;
        Assert.Equal(3_000_000_000L, sent["seed"]!.GetValue<long>());
        Assert.Equal("DPM++ SDE", sent["sampler_name"]!.GetValue<string>());
        Assert.Equal("karras", sent["scheduler"]!.GetValue<string>());
    }
}
