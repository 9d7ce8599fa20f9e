using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

/// <summary>
/// ControlNet units on the forge (forge@dfdcbab) and reforge (reforge@3b56b26) profiles: ControlNetUnit.from_dict, the
/// script's process(), the error bodies and the infotext. CN = extensions-builtin/sd_forge_controlnet.
/// </summary>
public sealed class ForgeUnitTests
{
    private const string Softedge = "control_v11p_sd15_softedge [a8575a2a]";

    private static JsonObject Unit(string module, string model, JsonNode? image) => new()
    {
        ["module"] = module,
        ["model"] = model,
        ["image"] = image,
    };

    private static JsonObject Txt2Img(params JsonObject[] units) => new()
    {
        ["prompt"] = "portrait photo",
        ["seed"] = 7,
        ["steps"] = 4,
        ["width"] = 64,
        ["height"] = 64,
        ["alwayson_scripts"] = new JsonObject { ["controlnet"] = new JsonObject { ["args"] = new JsonArray([.. units.Select(u => u.DeepClone())]) } },
    };

    private static string Image() => TestImages.Solid(32, 32, new Rgba32(120, 90, 60, 255));

    private static JsonObject Extra(JsonNode response) =>
        JsonNode.Parse(response["info"]!.GetValue<string>())!["extra_generation_params"]!.AsObject();

    private static string Infotext(JsonNode response) =>
        JsonNode.Parse(response["info"]!.GetValue<string>())!["infotexts"]![0]!.GetValue<string>();

    // {k: v for k, v in d.items() if k in vars(ControlNetUnit)} (forge@dfdcbab:CN/lib_controlnet/external_code.py:207-212).
    [Fact]
    public async Task Forge_drops_unknown_unit_keys_silently__forge_dfdcbab_external_code_py_207()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var unit = Unit("softedge_pidinet", Softedge, Image());
        unit["mask"] = "not an image at all";
        unit["lowvram"] = true;
        unit["pulid_mode"] = "Fidelity";
        unit["inpaint_crop_input_image"] = false;
        unit["union_control_type"] = "Depth";
        unit["effective_region_mask"] = "x";
        var r = await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(unit));
        Assert.Equal(200, r.Status);
        Assert.NotNull(Extra(r.Json!)["ControlNet 0"]);

        // input_image is not a field: the unit has no image, and txt2img then reads p.resize_mode (CN/scripts/controlnet.py:205-207)
        var legacy = Unit("softedge_pidinet", Softedge, null);
        legacy.Remove("image");
        legacy["input_image"] = Image();
        var noImage = await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(legacy));
        Assert.Equal(500, noImage.Status);
        Assert.Equal("'StableDiffusionProcessingTxt2Img' object has no attribute 'resize_mode'", noImage.Json!["message"]!.GetValue<string>());
    }

    [Fact]
    public void Forge_keeps_exactly_the_dataclass_fields__forge_dfdcbab_external_code_py_156()
    {
        Assert.Equal(25, ForgeUnits.ForgeKeys.Length);
        Assert.Contains("mask_image", ForgeUnits.ForgeKeys);
        Assert.Contains("image_fg", ForgeUnits.ForgeKeys);
        foreach (var dropped in new[] { "mask", "input_image", "lowvram", "pulid_mode", "inpaint_crop_input_image", "advanced_weighting", "ipadapter_input" })
        {
            Assert.DoesNotContain(dropped, ForgeUnits.ForgeKeys);
        }

        // reforge@3b56b26:CN/lib_controlnet/external_code.py:187-276
        Assert.Contains("advanced_weighting", ForgeUnits.ReForgeKeys);
        Assert.Contains("ipa_block_weight", ForgeUnits.ReForgeKeys);
        Assert.DoesNotContain("image_fg", ForgeUnits.ReForgeKeys);
    }

    // enabled: bool = True (forge@dfdcbab:CN/lib_controlnet/external_code.py:168)
    [Fact]
    public async Task Forge_unit_without_enabled_runs__forge_dfdcbab_external_code_py_168()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var r = await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(Unit("softedge_pidinet", Softedge, Image())));
        Assert.Equal(2, r.Json!["images"]!.AsArray().Count); // the image and the unit's detected map
        var off = Unit("softedge_pidinet", Softedge, Image());
        off["enabled"] = false;
        Assert.Single((await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(off))).Json!["images"]!.AsArray());
    }

    // Only a str image is decoded (external_code.py:213-214); (unit_image < 5) then fails on a dict
    // (forge@dfdcbab:CN/scripts/controlnet.py:209; Forge issue #1059). The 500 body is webui.py's handler (forge@dfdcbab:webui.py:30-38).
    [Fact]
    public async Task Forge_dict_image_is_500_TypeError_in_forge_error_shape__forge_dfdcbab_scripts_controlnet_py_209()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var r = await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(Unit("softedge_pidinet", Softedge, new JsonObject { ["image"] = Image(), ["mask"] = Image() })));
        Assert.Equal(500, r.Status);
        Assert.Equal(
            """{"error":"TypeError","detail":"","body":"","message":"'<' not supported between instances of 'dict' and 'int'"}""",
            r.Text);
    }

    // reForge wraps a str image itself, but a dict stays as sent: unit.image['image'] < 5 on a str
    // (reforge@3b56b26:CN/lib_controlnet/external_code.py:307-312; CN/scripts/controlnet.py:220). A1111 error body (api.py:167-196).
    [Fact]
    public async Task ReForge_dict_image_is_500_TypeError_in_a1111_error_shape__reforge_3b56b26_scripts_controlnet_py_220()
    {
        using var reforge = new MockClient(MockWebUiProfile.ReForge);
        var r = await reforge.PostAsync("sdapi/v1/txt2img", Txt2Img(Unit("softedge_pidinet", Softedge, new JsonObject { ["image"] = Image() })));
        Assert.Equal(500, r.Status);
        Assert.Equal(
            """{"error":"TypeError","detail":"","body":"","errors":"'<' not supported between instances of 'str' and 'int'"}""",
            r.Text);
    }

    // The weighting compares unit.control_mode with ControlMode.CONTROL.value / PROMPT.value, strings
    // (forge@dfdcbab:CN/scripts/controlnet.py:491-497): an int runs as Balanced though the infotext shows it as sent.
    [Fact]
    public async Task Forge_int_control_mode_runs_as_balanced__forge_dfdcbab_scripts_controlnet_py_491()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var unit = Unit("softedge_pidinet", Softedge, Image());
        unit["control_mode"] = 2;
        var r = await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(unit));
        Assert.Equal(200, r.Status);
        Assert.Equal(["Balanced"], forge.Server.LastControlModes);
        Assert.Contains("Control Mode: 2,", Extra(r.Json!)["ControlNet 0"]!.GetValue<string>(), StringComparison.Ordinal);

        unit["control_mode"] = "ControlNet is more important";
        Assert.Equal(200, (await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(unit))).Status);
        Assert.Equal(["ControlNet is more important"], forge.Server.LastControlModes);
    }

    // reForge's ControlMode values are "Balanced", "Prefer Prompt", "Prefer ControlNet"; an unknown string falls back to
    // BALANCED (reforge@3b56b26:CN/lib_controlnet/external_code.py:26-29,96-101), and the enum never equals the string
    // .value the weighting compares with (CN/scripts/controlnet.py:515-521), so every unit runs as Balanced.
    [Fact]
    public async Task ReForge_a1111_control_mode_text_falls_back_to_balanced__reforge_3b56b26_external_code_py_96()
    {
        using var reforge = new MockClient(MockWebUiProfile.ReForge);
        var unit = Unit("softedge_pidinet", Softedge, Image());
        unit["control_mode"] = "My prompt is more important";
        var r = await reforge.PostAsync("sdapi/v1/txt2img", Txt2Img(unit));
        Assert.Contains("Control Mode: ControlMode.BALANCED,", Extra(r.Json!)["ControlNet 0"]!.GetValue<string>(), StringComparison.Ordinal);

        unit["control_mode"] = "Prefer ControlNet";
        r = await reforge.PostAsync("sdapi/v1/txt2img", Txt2Img(unit));
        Assert.Contains("Control Mode: ControlMode.CONTROL,", Extra(r.Json!)["ControlNet 0"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["Balanced"], reforge.Server.LastControlModes);

        unit["resize_mode"] = "Fill";
        var bad = await reforge.PostAsync("sdapi/v1/txt2img", Txt2Img(unit)); // ResizeMode('Fill') in from_dict (:79, :330)
        Assert.Equal(500, bad.Status);
        Assert.Equal("'Fill' is not a valid ResizeMode", bad.Json!["errors"]!.GetValue<string>());
    }

    // get_preprocessor is supported_preprocessors.get(name) (forge@dfdcbab:CN/lib_controlnet/global_state.py:56-57): an
    // internal name is None, and bound_check_params reads its slider (CN/scripts/controlnet.py:522-525).
    [Theory]
    [InlineData("pidinet")]
    [InlineData("depth")]
    public async Task Forge_module_by_ui_name_only__forge_dfdcbab_lib_controlnet_global_state_py_56(string internalName)
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var r = await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(Unit(internalName, Softedge, Image())));
        Assert.Equal(500, r.Status);
        Assert.Equal("AttributeError", r.Json!["error"]!.GetValue<string>());
        Assert.Equal("'NoneType' object has no attribute 'slider_resolution'", r.Json["message"]!.GetValue<string>());
    }

    // controlnet_filename_dict[name] (forge@dfdcbab:CN/lib_controlnet/global_state.py:78-79; CN/scripts/controlnet.py:411-412)
    [Theory]
    [InlineData("control_v11p_sd15_softedge", "KeyError", "'control_v11p_sd15_softedge'")]
    [InlineData("softedge", "KeyError", "'softedge'")]
    [InlineData("None", "AssertionError", "You have not selected any control model!")]
    public async Task Forge_model_by_exact_name_and_hash_only__forge_dfdcbab_lib_controlnet_global_state_py_78(string model, string error, string message)
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var r = await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(Unit("softedge_pidinet", model, Image())));
        Assert.Equal(500, r.Status);
        Assert.Equal(error, r.Json!["error"]!.GetValue<string>());
        Assert.Equal(message, r.Json["message"]!.GetValue<string>());
    }

    // api_middleware is commented out (forge@dfdcbab:modules/api/api.py:210): an HTTPException is FastAPI's {"detail"};
    // reForge installs it (reforge@3b56b26:modules/api/api.py:210): {"error","detail","body","errors"}.
    [Fact]
    public async Task Forge_http_errors_are_fastapi_detail_only__forge_dfdcbab_modules_api_api_py_210()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var r = await forge.PostAsync("sdapi/v1/img2img", new JsonObject { ["prompt"] = "x" });
        Assert.Equal(404, r.Status);
        Assert.Equal("""{"detail":"Init image not found"}""", r.Text);

        using var reforge = new MockClient(MockWebUiProfile.ReForge);
        var a1111 = await reforge.PostAsync("sdapi/v1/img2img", new JsonObject { ["prompt"] = "x" });
        Assert.Equal(404, a1111.Status);
        Assert.Equal("HTTPException", a1111.Json!["error"]!.GetValue<string>());
        Assert.Equal("Init image not found", a1111.Json["detail"]!.GetValue<string>());
    }

    // serialize_unit: infotext_fields in order, display names capitalised, values of -1 left out, enums as Class.MEMBER
    // (forge@dfdcbab:CN/lib_controlnet/infotext.py:11-12,31-42; external_code.py:184-204); key "ControlNet {i}" (:62-63,84-94);
    // A1111 quotes the value in the infotext (modules/infotext_utils.py quote).
    [Fact]
    public async Task Forge_writes_controlnet_n_infotext_per_unit__forge_dfdcbab_lib_controlnet_infotext_py_31()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var unit = Unit("softedge_pidinet", Softedge, Image());
        unit["weight"] = 0.8;
        unit["resize_mode"] = "Crop and Resize";
        unit["control_mode"] = "Balanced";
        unit["pixel_perfect"] = true;
        var bare = Unit("reference_only", "None", Image());
        var r = await forge.PostAsync("sdapi/v1/txt2img", Txt2Img(unit, bare));
        Assert.Equal(200, r.Status);
        var extra = Extra(r.Json!);
        const string first = "Module: softedge_pidinet, Model: control_v11p_sd15_softedge [a8575a2a], Weight: 0.8, Resize Mode: Crop and Resize, "
            + "Guidance Start: 0.0, Guidance End: 1.0, Pixel Perfect: True, Control Mode: Balanced, Hr Option: HiResFixOption.BOTH";
        Assert.Equal(first, extra["ControlNet 0"]!.GetValue<string>());
        Assert.Equal(
            "Module: reference_only, Model: None, Weight: 1.0, Resize Mode: ResizeMode.INNER_FIT, Guidance Start: 0.0, Guidance End: 1.0, "
            + "Pixel Perfect: False, Control Mode: ControlMode.BALANCED, Hr Option: HiResFixOption.BOTH",
            extra["ControlNet 1"]!.GetValue<string>());
        Assert.Contains("ControlNet 0: \"" + first + "\", ControlNet 1: \"Module: reference_only", Infotext(r.Json!), StringComparison.Ordinal);
    }

    // The "one form serves both" rule: UI-label modules, exact "name [hash]" models, plain-string image, mask in mask_image,
    // string enums and an explicit enabled run as the same units on A1111 + CN 1.1.455 and on Forge/reForge
    // (forge@dfdcbab:CN/lib_controlnet/external_code.py:156-217; CN 1.1.455 internal_controlnet/args.py).
    [Theory]
    [InlineData(MockWebUiProfile.Forge, 1 + 3 + 1)] // Forge also returns the inpaint unit's control mask (CN/scripts/controlnet.py:384-391)
    [InlineData(MockWebUiProfile.ReForge, 1 + 3 + 1)]
    [InlineData(MockWebUiProfile.WebUi110, 1 + 3)]
    public async Task Forge_shaped_inpaint_request_runs_every_unit_on_each_profile__forge_dfdcbab_external_code_py_207(MockWebUiProfile profile, int images)
    {
        using var c = new MockClient(profile);
        var photo = TestImages.AstronautBase64();
        var mask = TestImages.RectMask(512, 512, new Rectangle(150, 60, 200, 220));
        JsonObject FormUnit(string module, string model, bool withMask)
        {
            var u = new JsonObject
            {
                ["enabled"] = true,
                ["module"] = module,
                ["model"] = model,
                ["weight"] = 1.0,
                ["image"] = photo,
                ["resize_mode"] = "Crop and Resize",
                ["control_mode"] = "ControlNet is more important",
                ["pixel_perfect"] = true,
                ["guidance_start"] = 0.0,
                ["guidance_end"] = 1.0,
            };
            if (withMask)
            {
                u["mask_image"] = mask;
            }

            return u;
        }

        var body = new JsonObject
        {
            ["prompt"] = "portrait photo, formal suit",
            ["init_images"] = new JsonArray(photo),
            ["mask"] = mask,
            ["inpaint_full_res"] = true,
            ["inpainting_fill"] = 1,
            ["denoising_strength"] = 0.75,
            ["width"] = 256,
            ["height"] = 256,
            ["steps"] = 4,
            ["sampler_name"] = "DPM++ 2M",
            ["scheduler"] = "Karras",
            ["alwayson_scripts"] = new JsonObject
            {
                ["controlnet"] = new JsonObject
                {
                    ["args"] = new JsonArray(
                        FormUnit("inpaint_only+lama", "control_v11p_sd15_inpaint [ebff9138]", withMask: true),
                        FormUnit("openpose_full", "control_v11p_sd15_openpose [cab727d4]", withMask: false),
                        FormUnit("softedge_pidinet", Softedge, withMask: false)),
                },
            },
        };
        var r = await c.PostAsync("sdapi/v1/img2img", body);
        Assert.Equal(200, r.Status);
        var extra = Extra(r.Json!);
        // what Miaoya.Pipeline's ResponseChecks counts: "ControlNet N" keys of extra_generation_params
        Assert.Equal(3, extra.Count(p => p.Key.StartsWith("ControlNet ", StringComparison.Ordinal)));
        Assert.Equal(images, r.Json!["images"]!.AsArray().Count);
    }
}
