using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

public sealed class GenerationRequestTests
{
    private static JsonObject Body(string? sampler = null, string? scheduler = null) => new()
    {
        ["prompt"] = "portrait photo",
        ["sampler_name"] = sampler,
        ["scheduler"] = scheduler,
    };

    [Theory]
    [InlineData("Nope", "DPM++ 2M", null)]                   // unknown → the first sampler, silently
    [InlineData("DPM++ 2M Karras", "DPM++ 2M", null)]        // the suffix is the sampler's own default: Automatic
    [InlineData("Euler", "Euler", null)]
    public void Prepare_OnWebUi110_ResolvesSamplerAndScheduler(string sampler, string expectedSampler, string? expectedScheduler)
    {
        var prepared = GenerationRequest.Prepare(Body(sampler), img2img: false, MockWebUiProfile.WebUi110);

        Assert.Equal((expectedSampler, expectedScheduler), (prepared.Sampler, prepared.Scheduler));
    }

    [Fact]
    public void Prepare_OnWebUi110_AnExplicitSchedulerIsReported()
    {
        var prepared = GenerationRequest.Prepare(Body("Euler", "Karras"), img2img: false, MockWebUiProfile.WebUi110);

        Assert.Equal(("Euler", "Karras"), (prepared.Sampler, prepared.Scheduler));
    }

    [Fact]
    public void Prepare_OnWebUi18_AnUnknownSamplerIs404()
    {
        var e = Assert.Throws<MockRouteException>(() => GenerationRequest.Prepare(Body("Nope"), img2img: false, MockWebUiProfile.WebUi18));

        Assert.Equal((404, "Sampler not found"), (e.Status, e.Message));
    }

    [Fact]
    public void Prepare_Img2ImgWithoutInitImages_Is404InitImageNotFound()
    {
        var e = Assert.Throws<MockRouteException>(() => GenerationRequest.Prepare(Body("Euler"), img2img: true, MockWebUiProfile.WebUi110));

        Assert.Equal((404, "Init image not found"), (e.Status, e.Message));
    }

    [Fact]
    public void Prepare_WrongFieldTypes_AreOne422ListingEach()
    {
        var body = Body("Euler");
        body["steps"] = "many";
        body["width"] = new JsonArray();

        var e = Assert.Throws<MockRouteException>(() => GenerationRequest.Prepare(body, img2img: false, MockWebUiProfile.WebUi110));

        Assert.Equal(422, e.Status);
        Assert.Equal(["steps", "width"], e.Body["detail"]!.AsArray().Select(d => d!["loc"]![1]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Prepare_ClampsTheSize_AndKeepsTheEnabledControlNetUnits()
    {
        var body = Body("Euler");
        body["width"] = 5;
        body["height"] = 9000;
        body["alwayson_scripts"] = new JsonObject
        {
            ["ControlNet"] = new JsonObject
            {
                ["args"] = new JsonArray(
                    new JsonObject { ["enabled"] = true, ["module"] = "canny", ["model"] = "control_v11p_sd15_canny" },
                    new JsonObject { ["enabled"] = false, ["module"] = "canny" }),
            },
        };

        var prepared = GenerationRequest.Prepare(body, img2img: false, MockWebUiProfile.WebUi110);

        Assert.Equal((8, 4096), (prepared.Width, prepared.Height));
        Assert.Equal("canny", Assert.Single(prepared.Units).Module.Name);
    }
}
