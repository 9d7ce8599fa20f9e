using System.Text.Json.Nodes;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

/// <summary>The <c>sdnext</c> profile against vladmandic/sdnext@431bcc3 (2025-03-02), modules/api/*.py.</summary>
public sealed class SdNextProfileTests
{
    private static readonly string Face = TestImages.Solid(32, 32, new Rgba32(200, 160, 140, 255));

    private static MockClient Start() => new(MockWebUiProfile.SdNext);

    [Fact]
    public void Profile_ParsesFromItsName()
    {
        Assert.Equal(MockWebUiProfile.SdNext, MockWebUiOptions.ParseProfile("sdnext"));
        Assert.Contains("sdnext", MockWebUiOptions.ProfileNames);
    }

    // api.py:39-104 registers no /controlnet/*; version :45 (shared.py:1298-1318); control :61.
    [Fact]
    public async Task Routes_ControlNetAbsent_VersionAndControlPresent()
    {
        using var c = Start();
        foreach (var path in new[] { "controlnet/version", "controlnet/model_list", "controlnet/module_list", "controlnet/control_types" })
        {
            Assert.Equal(404, (await c.GetAsync(path)).Status);
        }

        Assert.Equal(404, (await c.GetAsync("sdapi/v1/schedulers")).Status);
        var version = (await c.GetAsync("sdapi/v1/version")).Json!;
        Assert.Equal("sd.next", version["app"]!.GetValue<string>());
        Assert.Equal("431bcc3", version["hash"]!.GetValue<string>());
        Assert.DoesNotContain((await c.GetAsync("sdapi/v1/extensions")).Json!.AsArray(), e => e!["name"]!.GetValue<string>() == "sd-webui-controlnet");

        // and the A1111 profiles have no /sdapi/v1/version or /control
        using var a1111 = new MockClient(MockWebUiProfile.WebUi110);
        Assert.Equal(404, (await a1111.GetAsync("sdapi/v1/version")).Status);
    }

    // script.py:88-94: an always-on name no script has is HTTPException 422, in SD.Next's error body (middleware.py:64-89).
    [Theory]
    [InlineData("txt2img")]
    [InlineData("img2img")]
    public async Task AlwaysOnControlNet_Is422AlwaysOnScriptNotFound(string route)
    {
        using var c = Start();
        var body = new JsonObject
        {
            ["prompt"] = "p",
            ["steps"] = 1,
            ["width"] = 64,
            ["height"] = 64,
            ["alwayson_scripts"] = new JsonObject { ["controlnet"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["enabled"] = true }) } },
        };
        if (route == "img2img")
        {
            body["init_images"] = new JsonArray(Face);
        }

        var r = await c.PostAsync("sdapi/v1/" + route, body);

        Assert.Equal(422, r.Status);
        Assert.Equal("Always on script not found: controlnet", r.Json!["detail"]!.GetValue<string>());
        Assert.Equal(422, r.Json!["code"]!.GetValue<int>());
    }

    // models.py:199 sampler_name default "UniPC"; helpers.py:10-14 unknown → 404; sd_samplers_diffusers.py:118-173.
    [Fact]
    public async Task Txt2Img_DefaultsToUniPC_AndRejectsA1111Names()
    {
        using var c = Start();
        var ok = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["prompt"] = "p", ["steps"] = 1, ["width"] = 64, ["height"] = 64 });
        Assert.Equal(200, ok.Status);
        Assert.Equal("UniPC", JsonNode.Parse(ok.Json!["info"]!.GetValue<string>())!["sampler_name"]!.GetValue<string>());

        var bad = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["sampler_name"] = "DPM++ 2M Karras", ["steps"] = 1, ["width"] = 64, ["height"] = 64 });
        Assert.Equal((404, "Sampler not found"), (bad.Status, bad.Json!["detail"]!.GetValue<string>()));

        var samplers = (await c.GetAsync("sdapi/v1/samplers")).Json!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["Default", "UniPC", "DDIM"], samplers.Take(3));
        Assert.Equal(47, samplers.Count);
    }

    // processing.py:455: a grid only for more than one image (no grid_only_if_multiple option on SD.Next)
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    public async Task SaveImages_GridOnlyForSeveralImages(int nIter, int expected)
    {
        using var c = Start();
        var r = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["n_iter"] = nIter, ["save_images"] = true, ["steps"] = 1, ["width"] = 64, ["height"] = 64 });
        Assert.Equal(expected, r.Json!["images"]!.AsArray().Count);
    }

    // models.py:143-166: ip_adapter items and face validated (ranges, required source_images); img2img names it face_id (:236).
    [Fact]
    public async Task IdentityFields_AreValidated_FaceOnTxt2Img_FaceIdOnImg2Img()
    {
        using var c = Start();
        JsonObject Body() => new() { ["prompt"] = "p", ["steps"] = 1, ["width"] = 64, ["height"] = 64 };

        var good = Body();
        good["ip_adapter"] = new JsonArray(new JsonObject { ["adapter"] = "Plus Face", ["images"] = new JsonArray(Face), ["scale"] = 0.7 });
        good["face"] = new JsonObject { ["mode"] = "FaceID", ["source_images"] = new JsonArray(Face), ["ip_model"] = "FaceID Plus v2", ["ip_strength"] = 1.5 };
        Assert.Equal(200, (await c.PostAsync("sdapi/v1/txt2img", good)).Status);

        var bad = Body();
        bad["ip_adapter"] = new JsonArray(new JsonObject { ["scale"] = 1.5, ["end"] = 0 });
        bad["face"] = new JsonObject { ["ip_strength"] = 3 };
        var r = await c.PostAsync("sdapi/v1/txt2img", bad);
        Assert.Equal(422, r.Status);
        var locs = r.Json!["detail"]!.AsArray().Select(d => string.Join('.', d!["loc"]!.AsArray().Select(x => x!.ToString()))).ToList();
        Assert.Equal(["body.ip_adapter.0.scale", "body.ip_adapter.0.end", "body.face.source_images", "body.face.ip_strength"], locs);

        // img2img: `face` is an unknown key (ignored), `face_id` is the declared one
        var img = Body();
        img["init_images"] = new JsonArray(Face);
        img["face"] = new JsonObject { ["ip_strength"] = 3 };
        Assert.Equal(200, (await c.PostAsync("sdapi/v1/img2img", img)).Status);
        img["face_id"] = new JsonObject { ["ip_strength"] = 3 };
        Assert.Equal(422, (await c.PostAsync("sdapi/v1/img2img", img)).Status);
    }

    // control.py:12-35 (ReqControl, ItemControl) and :150-196 (answer: images, processed, params, info).
    [Fact]
    public async Task Control_ValidatesItsShape_AndAnswersImagesProcessedParamsInfo()
    {
        using var c = Start();
        var body = new JsonObject
        {
            ["prompt"] = "portrait",
            ["steps"] = 2,
            ["seed"] = 5,
            ["batch_count"] = 2,
            ["width_before"] = 96,
            ["height_before"] = 64,
            ["unit_type"] = "controlnet",
            ["inputs"] = new JsonArray(Face),
            ["control"] = new JsonArray(new JsonObject { ["process"] = "Depth Anything", ["model"] = "Depth Anything", ["strength"] = 0.8 }),
            ["alwayson_scripts"] = new JsonObject { ["controlnet"] = new JsonObject() }, // dropped by sanitize_args
        };

        var r = await c.PostAsync("sdapi/v1/control", body);

        Assert.Equal(200, r.Status);
        Assert.Equal(2, r.Json!["images"]!.AsArray().Count);
        Assert.Single(r.Json!["processed"]!.AsArray());
        Assert.Equal(0.8, r.Json!["params"]!["units"]![0]!["strength"]!.GetValue<double>());
        Assert.IsType<string>(r.Json!["info"]!.GetValue<string>());
        using var first = TestImages.Decode(r.Json!["images"]![0]);
        Assert.Equal((96, 64), (first.Width, first.Height));

        body["control"] = new JsonArray(new JsonObject { ["strength"] = "strong" });
        var bad = await c.PostAsync("sdapi/v1/control", body);
        Assert.Equal(422, bad.Status);
        Assert.Equal(new JsonArray("body", "control", 0, "strength").ToJsonString(), bad.Json!["detail"]![0]!["loc"]!.ToJsonString());
    }

    // server.py:58-76 and shared.py:1024-1043: options round-trip; sd_lora hidden from GET; unknown key KeyError even with
    // null; the answer lists what changed.
    [Fact]
    public async Task Options_SdNextSemantics()
    {
        using var c = Start();
        var options = (await c.GetAsync("sdapi/v1/options")).Json!.AsObject();
        Assert.True(options.Count > 450);
        Assert.Equal("jpg", options["samples_format"]!.GetValue<string>());
        Assert.False(options.ContainsKey("sd_lora"));

        var set = await c.PostAsync("sdapi/v1/options", new JsonObject { ["samples_format"] = "png", ["jpeg_quality"] = 90 });
        Assert.Equal("""{"updated":[{"samples_format":true},{"jpeg_quality":false}]}""", set.Text);
        Assert.Equal("png", (await c.GetAsync("sdapi/v1/options")).Json!["samples_format"]!.GetValue<string>());

        var unknown = await c.PostAsync("sdapi/v1/options", new JsonObject { ["no_such_option"] = null });
        Assert.Equal((500, "KeyError"), (unknown.Status, unknown.Json!["error"]!.GetValue<string>()));
    }
}
