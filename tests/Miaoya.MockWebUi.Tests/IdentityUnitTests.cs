using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi.Tests;

/// <summary>
/// Helpers for the identity-unit tests (issue 17): the astronaut as template, a square face crop of her as the person's
/// reference photo, and the units as the orchestrator sends them (sd-webui-controlnet ≥1.1.448 payloads).
/// </summary>
internal static class Identity
{
    public const string Sd15 = "chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]";
    public const string Sdxl = "sd_xl_base_1.0.safetensors [31e35c80fc]";
    public const string FaceIdPlusV2 = "ip-adapter-faceid-plusv2_sd15 [6e14fc1a]";
    public const string InstantIdAdapter = "ip-adapter_instant_id_sdxl [eb2d3ec0]";
    public const string InstantIdControlNet = "control_instant_id_sdxl [c5c25a50]";
    public const string PuLidModel = "ip-adapter_pulid_sdxl_fp16 [4b2e5c1d]";
    public const string ConsolePrefix = "*** Error running process: /stable-diffusion-webui/extensions/sd-webui-controlnet/scripts/controlnet.py\n    ";

    /// <summary>The astronaut's face ±15 % and some hair, square (EasyPhoto-style aligned crop): face centre ≈ (227,130), 94 px wide.</summary>
    public static readonly Rectangle FaceCrop = new(157, 60, 140, 140);

    /// <summary>An inpaint mask over the astronaut's face.</summary>
    public static readonly Rectangle FaceMask = new(175, 75, 110, 120);

    public static string Reference() => Crop(FaceCrop);

    public static string Crop(Rectangle region)
    {
        using var image = Image.Load<Rgba32>(TestImages.FixturePath("astronaut.png"));
        image.Mutate(x => x.Crop(region));
        return TestImages.ToBase64(image);
    }

    public static JsonObject Unit(string module, string model, JsonNode? image, double weight = 0.8, bool? crop = false)
    {
        var unit = new JsonObject
        {
            ["enabled"] = true,
            ["module"] = module,
            ["model"] = model,
            ["image"] = image,
            ["weight"] = weight,
            ["resize_mode"] = "Crop and Resize",
            ["control_mode"] = "Balanced",
        };
        if (crop is { } c)
        {
            unit["inpaint_crop_input_image"] = c;
        }

        return unit;
    }

    public static JsonObject FaceId(JsonNode? image = null, bool? crop = false) =>
        Unit("ip-adapter_face_id_plus", FaceIdPlusV2, image ?? Reference(), crop: crop);

    /// <summary>img2img of the astronaut at 512², with the face mask unless <paramref name="mask"/> is false.</summary>
    public static JsonObject Img2Img(long seed, bool mask = true, string checkpoint = Sd15, params JsonObject[] units)
    {
        var body = new JsonObject
        {
            ["prompt"] = "portrait photo <lora:ip-adapter-faceid-plusv2_sd15_lora:0.6>",
            ["seed"] = seed,
            ["steps"] = 10,
            ["width"] = 512,
            ["height"] = 512,
            ["denoising_strength"] = 0.75,
            ["init_images"] = new JsonArray(TestImages.AstronautBase64()),
            ["override_settings"] = new JsonObject { ["sd_model_checkpoint"] = checkpoint },
            ["alwayson_scripts"] = new JsonObject { ["controlnet"] = new JsonObject { ["args"] = new JsonArray([.. units.Select(u => u.DeepClone())]) } },
        };
        if (mask)
        {
            body["mask"] = TestImages.RectMask(512, 512, FaceMask);
        }

        return body;
    }

    public static JsonObject Txt2Img(string checkpoint, params JsonObject[] units) => new()
    {
        ["prompt"] = "portrait photo",
        ["seed"] = 7,
        ["steps"] = 10,
        ["width"] = 256,
        ["height"] = 256,
        ["override_settings"] = new JsonObject { ["sd_model_checkpoint"] = checkpoint },
        ["alwayson_scripts"] = new JsonObject { ["controlnet"] = new JsonObject { ["args"] = new JsonArray([.. units.Select(u => u.DeepClone())]) } },
    };

    public static JsonObject Info(JsonNode? response) => JsonNode.Parse(response!["info"]!.GetValue<string>())!.AsObject();

    public static JsonArray Images(JsonNode? response) => response!["images"]!.AsArray();

    public static List<string> Strings(JsonNode? n) => [.. n!.AsArray().Select(x => x!.GetValue<string>())];
}

/// <summary>The identity units' listings and the box options that go with them.</summary>
public sealed class IdentityListingTests
{
    // ip-adapter-faceid_sdxl [59ee31a3]: sd-webui-controlnet@56cec5b tests/web_api/full_coverage/ipadapter_test.py:199-203;
    // the InstantID pair as webui-api.md §2.6; PuLID's file name from CN PR #2838 (hash made up).
    [Theory]
    [InlineData(MockWebUiProfile.WebUi110)]
    [InlineData(MockWebUiProfile.WebUi18)]
    public async Task ModelList_HasTheIdentityAndSdxlModels__cn_56cec5b_ipadapter_test_py_199(MockWebUiProfile profile)
    {
        using var c = new MockClient(profile);
        var models = Identity.Strings((await c.GetAsync("controlnet/model_list")).Json!["model_list"]);
        foreach (var model in new[]
        {
            "ip-adapter-faceid_sd15 [0a1757e9]", "ip-adapter-faceid-plus_sd15 [d86a490f]", Identity.FaceIdPlusV2, "ip-adapter-faceid-portrait_sd15 [b2609049]",
            "ip-adapter-faceid_sdxl [59ee31a3]", "ip-adapter-faceid-plusv2_sdxl [187cb962]", Identity.InstantIdAdapter, Identity.InstantIdControlNet,
            Identity.PuLidModel, "diffusers_xl_canny_full [2b69fca4]", "diffusers_xl_depth_full [2f51180b]", "sargezt_xl_softedge [b6f7415b]",
            "t2i-adapter_diffusers_xl_openpose [adfb64aa]",
        })
        {
            Assert.Contains(model, models);
        }

        Assert.Equal(models.Skip(1).Order(StringComparer.Ordinal), models.Skip(1)); // sorted by file name (global_state.py:41-60)
    }

    // Identity preprocessors at both pins (preprocessor_compiled.py:380-500, pulid.py:106); EVA02-CLIP-L-14-336 from
    // sd-webui-controlnet-evaclip@39966e7 scripts/preprocessor_evaclip.py:23-29,101, priority 100, sorted by
    // str(priority).zfill(8) + label descending (supported_preprocessor.py:130-136): after every lower-case priority-100 label.
    [Theory]
    [InlineData(MockWebUiProfile.WebUi110)]
    [InlineData(MockWebUiProfile.WebUi18)]
    public async Task ModuleList_HasIdentityPreprocessors_AndEvaClipInItsSortedPlace__evaclip_preprocessor_evaclip_py_101(MockWebUiProfile profile)
    {
        using var c = new MockClient(profile);
        var json = (await c.GetAsync("controlnet/module_list")).Json!;
        var names = Identity.Strings(json["module_list"]);
        foreach (var module in new[] { "ip-adapter_face_id", "ip-adapter_face_id_plus", "instant_id_face_embedding", "instant_id_face_keypoints", "ip-adapter_pulid" })
        {
            Assert.Contains(module, names);
        }

        var eva = names.IndexOf("EVA02-CLIP-L-14-336");
        Assert.Equal("canny", names[eva - 1]); // the last priority-100 label ("canny" > "EVA…" ordinally)
        Assert.False(json["module_detail"]!["EVA02-CLIP-L-14-336"]!["model_free"]!.GetValue<bool>());
        var extensions = Identity.Strings(new JsonArray([.. (await c.GetAsync("sdapi/v1/extensions")).Json!.AsArray().Select(e => e!["name"]!.DeepClone())]));
        Assert.Contains("sd-webui-controlnet-evaclip", extensions);
    }

    [Fact]
    public async Task WithoutEvaClip_NoEvaPreprocessor_NoExtension__pulid_py_153_156()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("evaclip");
        using var c = new MockClient(options);
        Assert.DoesNotContain("EVA02-CLIP-L-14-336", Identity.Strings((await c.GetAsync("controlnet/module_list")).Json!["module_list"]));
        var extensions = (await c.GetAsync("sdapi/v1/extensions")).Json!.AsArray().Select(e => e!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("sd-webui-controlnet", extensions);
        Assert.DoesNotContain("sd-webui-controlnet-evaclip", extensions);
    }

    [Fact]
    public async Task ForgeProfiles_HaveNoEvaClip__evaclip_README_not_compatible_with_SD_Forge()
    {
        using var c = new MockClient(MockWebUiProfile.Forge);
        Assert.DoesNotContain((await c.GetAsync("sdapi/v1/extensions")).Json!.AsArray(), e => e!["name"]!.GetValue<string>() == "sd-webui-controlnet-evaclip");
    }

    // presets.py:86-170: each FaceID model's LoRA; CN never adds it (preset.lora is read nowhere), so the box must list it.
    [Fact]
    public async Task Loras_ListTheFaceIdCompanions__presets_py_86_170()
    {
        using var c = new MockClient();
        var loras = (await c.GetAsync("sdapi/v1/loras")).Json!.AsArray().Select(l => l!["name"]!.GetValue<string>()).ToList();
        foreach (var lora in new[] { "ip-adapter-faceid_sd15_lora", "ip-adapter-faceid-plus_sd15_lora", "ip-adapter-faceid-plusv2_sd15_lora", "ip-adapter-faceid_sdxl_lora", "ip-adapter-faceid-plusv2_sdxl_lora" })
        {
            Assert.Contains(lora, loras);
        }
    }

    [Fact]
    public async Task SdModels_ListTheSdxlBaseCheckpoint()
    {
        using var c = new MockClient();
        var sdxl = Assert.Single((await c.GetAsync("sdapi/v1/sd-models")).Json!.AsArray(), m => m!["model_name"]!.GetValue<string>() == "sd_xl_base_1.0")!;
        Assert.Equal(Identity.Sdxl, sdxl["title"]!.GetValue<string>());
        Assert.StartsWith("31e35c80fc", sdxl["sha256"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    // control_net_unit_count: a 1..10 slider needing a restart (controlnet.py:1366-1367); /controlnet/settings reads it
    // (external_code.py:214-220); units past the script's args are not passed (A1111 api.py:335-361).
    [Fact]
    public async Task ControlNetUnitCount_IsReported_AndUnitsPastItAreNotRead__controlnet_py_1366_external_code_py_214()
    {
        using var c = new MockClient(new MockWebUiOptions { ControlNetUnitCount = 4 });
        Assert.Equal(4, (await c.GetAsync("controlnet/settings")).Json!["control_net_unit_count"]!.GetValue<int>());
        Assert.Equal(4, (await c.GetAsync("sdapi/v1/options")).Json!["control_net_unit_count"]!.GetValue<int>());
        var script = (await c.GetAsync("sdapi/v1/script-info")).Json!.AsArray().First(s => s!["name"]!.GetValue<string>() == "controlnet")!;
        Assert.Equal(4, script["args"]!.AsArray().Count);

        var softedge = Identity.Unit("softedge_pidinet", "control_v11p_sd15_softedge [a8575a2a]", TestImages.AstronautBase64());
        var body = Identity.Txt2Img(Identity.Sd15, softedge, softedge, softedge, softedge, Identity.Unit("no-such-module", "None", null));
        var r = await c.PostAsync("sdapi/v1/txt2img", body); // the fifth, invalid unit is never read
        Assert.Equal(200, r.Status);
        var extra = Identity.Info(r.Json)["extra_generation_params"]!.AsObject();
        Assert.Equal(["ControlNet 0", "ControlNet 1", "ControlNet 2", "ControlNet 3"], extra.Select(p => p.Key).Where(k => k.StartsWith("ControlNet", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ControlNetUnitCount_DefaultsToThree_LikeTheRealBox()
    {
        using var c = new MockClient();
        Assert.Equal(3, (await c.GetAsync("controlnet/settings")).Json!["control_net_unit_count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void ControlNetUnitCount_OutsideTheSlider_IsRefused(int count) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MockWebUiServer.Start(new MockWebUiOptions { ControlNetUnitCount = count }));
}
