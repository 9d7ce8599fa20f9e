using System.Text.Json.Nodes;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

/// <summary>
/// The routes and listings of the forge (forge@dfdcbab) and reforge (reforge@3b56b26) profiles, each test naming its
/// upstream source as repo@commit:path:line. Forge's ControlNet lives in extensions-builtin/sd_forge_controlnet/ (CN below).
/// </summary>
public sealed class ForgeRouteTests
{
    // forge@dfdcbab:CN/lib_controlnet/api.py:40-137 registers model_list, module_list, control_types and detect only;
    // reForge's api.py is the same file.
    [Theory]
    [InlineData(MockWebUiProfile.Forge)]
    [InlineData(MockWebUiProfile.ReForge)]
    public async Task Forge_controlnet_has_four_routes_and_no_version__forge_dfdcbab_lib_controlnet_api_py_40(MockWebUiProfile profile)
    {
        using var c = new MockClient(profile);
        foreach (var absent in new[] { "controlnet/version", "controlnet/settings" })
        {
            var r = await c.GetAsync(absent);
            Assert.Equal(404, r.Status);
            Assert.Equal("""{"detail":"Not Found"}""", r.Text);
        }

        Assert.Equal(200, (await c.GetAsync("controlnet/model_list")).Status);
        Assert.Equal(200, (await c.GetAsync("controlnet/control_types")).Status);
        var modules = await c.GetAsync("controlnet/module_list");
        Assert.Equal(200, modules.Status);
        Assert.Null(modules.Json!["module_detail"]); // "TODO: Add back module detail." (api.py:54-55)
    }

    [Fact]
    public async Task Forge_lists_sd_modules_and_has_no_sd_vae__forge_dfdcbab_modules_api_api_py_228()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        Assert.Equal(404, (await forge.GetAsync("sdapi/v1/sd-vae")).Status);
        var modules = await forge.GetAsync("sdapi/v1/sd-modules");
        Assert.Equal(200, modules.Status);
        Assert.Equal("vae-ft-mse-840000-ema-pruned.safetensors", modules.Json![0]!["model_name"]!.GetValue<string>());
        Assert.NotNull(modules.Json[0]!["filename"]);
    }

    // reforge@3b56b26:modules/api/api.py:228 is sd-vae; reForge has no sd-modules route.
    [Fact]
    public async Task ReForge_keeps_sd_vae_and_has_no_sd_modules__reforge_3b56b26_modules_api_api_py_228()
    {
        using var reforge = new MockClient(MockWebUiProfile.ReForge);
        Assert.Equal(200, (await reforge.GetAsync("sdapi/v1/sd-vae")).Status);
        Assert.Equal(404, (await reforge.GetAsync("sdapi/v1/sd-modules")).Status);
    }

    [Fact]
    public async Task Forge_options_hold_forge_preset_and_additional_modules__forge_dfdcbab_modules_forge_shared_options_py_7()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var options = (await forge.GetAsync("sdapi/v1/options")).Json!;
        Assert.Equal("sd", options["forge_preset"]!.GetValue<string>());
        Assert.Empty(options["forge_additional_modules"]!.AsArray());
        Assert.Null(options["reforge_karras_rho"]);
    }

    // reForge has no forge_* options; its own reforge_* sampler settings start at reforge@3b56b26:modules/shared_options.py:498.
    [Fact]
    public async Task ReForge_options_hold_reforge_karras_rho_not_forge_preset__reforge_3b56b26_modules_shared_options_py_498()
    {
        using var reforge = new MockClient(MockWebUiProfile.ReForge);
        var options = (await reforge.GetAsync("sdapi/v1/options")).Json!;
        Assert.Equal(7.0, options["reforge_karras_rho"]!.GetValue<double>());
        Assert.Null(options["forge_preset"]);
        Assert.Null(options["forge_additional_modules"]);
    }

    // forge@dfdcbab:modules/api/api.py:838-855 lists extensions with a remote; built-in ones read none (modules/extensions.py:142-144).
    [Theory]
    [InlineData(MockWebUiProfile.Forge)]
    [InlineData(MockWebUiProfile.ReForge)]
    public async Task Forge_extensions_list_has_tagger_and_rembg_but_not_builtin_controlnet__forge_dfdcbab_modules_api_api_py_845(MockWebUiProfile profile)
    {
        using var c = new MockClient(profile);
        var names = (await c.GetAsync("sdapi/v1/extensions")).Json!.AsArray().Select(e => e!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["stable-diffusion-webui-wd14-tagger", "stable-diffusion-webui-rembg"], names);
        Assert.Equal(200, (await c.GetAsync("tagger/v1/interrogators")).Status);
    }

    // forge@dfdcbab:modules/launch_utils.py:94-95 + modules_forge/forge_version.py:1
    [Fact]
    public async Task Forge_version_is_f_prefixed__forge_dfdcbab_modules_launch_utils_py_94()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var r = await forge.PostAsync("sdapi/v1/txt2img", new JsonObject { ["prompt"] = "x", ["width"] = 64, ["height"] = 64, ["steps"] = 1 });
        var info = JsonNode.Parse(r.Json!["info"]!.GetValue<string>())!;
        Assert.StartsWith("f2.0.1v1.10.1", info["version"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    // 'None' first, then str(sorting_priority).zfill(8) + name descending (forge@dfdcbab:CN/lib_controlnet/global_state.py:64-71);
    // alias_names is no parameter of module_list (api.py:47-56), so both forms answer the same list of UI names.
    [Fact]
    public async Task Forge_module_list_is_sorted_ui_names_whatever_alias_names__forge_dfdcbab_lib_controlnet_global_state_py_64()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var plain = (await forge.GetAsync("controlnet/module_list")).Json!["module_list"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var alias = (await forge.GetAsync("controlnet/module_list?alias_names=true")).Json!["module_list"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Equal(plain, alias);
        Assert.Equal(64, plain.Count);
        Assert.Equal(
            ["None", "softedge_pidinet", "shuffle", "seg_ofade20k", "scribble_pidinet", "reference_only", "openpose_full", "normalbae", "mlsd",
             "lineart_standard (from white bg & black line)", "depth_midas", "depth_marigold", "canny",
             "invert (from white bg & black line)", "InsightFace+CLIP-H (IPAdapter)", "CLIP-ViT-bigG (IPAdapter)", "CLIP-ViT-H (IPAdapter)",
             "InsightFace (InstantID)", "CLIP-G (Revision)", "CLIP-G (Revision ignore prompt)"],
            plain.Take(20));
        Assert.DoesNotContain("pidinet", plain);
        Assert.DoesNotContain("depth", plain);
        Assert.DoesNotContain("instant_id_face_embedding", plain); // commented out (forge_legacy_preprocessors/.../preprocessor_compiled.py:380)
        Assert.DoesNotContain(plain, m => m.Contains("pulid", StringComparison.OrdinalIgnoreCase));
    }

    // reForge adds *_variant legacy entries, instant_id_face_embedding, normalmap_midas (for normal_midas), inpaint_noobai_xl
    // and ClipVision (Photomaker) (reforge@3b56b26:extensions-builtin/forge_legacy_preprocessors/legacy_preprocessors/preprocessor_compiled.py:332-1394;
    // sd_forge_photomaker/scripts/forge_photomaker.py:23-25).
    [Fact]
    public async Task ReForge_module_list_adds_its_own_preprocessors__reforge_3b56b26_sd_forge_photomaker_forge_photomaker_py_23()
    {
        using var reforge = new MockClient(MockWebUiProfile.ReForge);
        var list = (await reforge.GetAsync("controlnet/module_list")).Json!["module_list"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Equal(64 - 1 + 2 + 22, list.Count);
        Assert.Contains("ClipVision (Photomaker)", list);
        Assert.Contains("instant_id_face_embedding", list);
        Assert.Contains("ip-adapter_clip_sd15_variant", list);
        Assert.DoesNotContain("normal_midas", list);
    }

    // Types 'All' + sorted tags; models by model_filename_filters; default model: the first with "11" before "[", else the
    // second (forge@dfdcbab:CN/lib_controlnet/global_state.py:86-110,134-171).
    [Fact]
    public async Task Forge_control_types_follow_tags_and_filters__forge_dfdcbab_lib_controlnet_global_state_py_134()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var types = (await forge.GetAsync("controlnet/control_types")).Json!["control_types"]!.AsObject();
        Assert.Equal(
            ["All", "Blur", "Canny", "Depth", "IP-Adapter", "Inpaint", "Instant-ID", "Lineart", "MLSD", "NormalMap", "OpenPose", "Recolor",
             "Reference", "Revision", "Scribble", "Segmentation", "Shuffle", "Sketch", "SoftEdge", "T2I-Adapter", "Tile"],
            types.Select(t => t.Key));
        Assert.Equal("none", types["All"]!["default_option"]!.GetValue<string>());
        var inpaint = types["Inpaint"]!;
        Assert.Equal(["None", "inpaint_only+lama", "inpaint_only", "inpaint_global_harmonious"], Strings(inpaint["module_list"]));
        Assert.Equal("inpaint_only+lama", inpaint["default_option"]!.GetValue<string>());
        Assert.Equal(["None", "control_v11p_sd15_inpaint [ebff9138]"], Strings(inpaint["model_list"]));
        var ip = types["IP-Adapter"]!;
        Assert.Equal("InsightFace+CLIP-H (IPAdapter)", ip["default_option"]!.GetValue<string>());
        Assert.Equal(
            ["None", "ip-adapter-faceid-plus_sd15 [d86a490f]", "ip-adapter-faceid-plusv2_sd15 [6e14fc1a]", "ip-adapter-faceid-plusv2_sdxl [187cb962]",
             "ip-adapter-faceid-portrait_sd15 [b2609049]", "ip-adapter-faceid-portrait_sdxl [8c9efc20]", "ip-adapter-faceid_sd15 [0a1757e9]",
             "ip-adapter-faceid_sdxl [59ee31a3]", "ip-adapter-full-face_sd15 [852b9843]", "ip-adapter-plus-face_sd15 [71693645]",
             "ip-adapter_instant_id_sdxl [eb2d3ec0]", "ip-adapter_pulid_sdxl_fp16 [4b2e5c1d]", "ip-adapter_sd15 [6a3f6166]", "ip-adapter_sd15_light [be1c9b97]"],
            Strings(ip["model_list"]));
        Assert.Equal("control_v11f1p_sd15_depth [cfd03158]", types["Depth"]!["default_model"]!.GetValue<string>());
    }

    // ['None'] + "stem [hash]" by file name (global_state.py:28-49,113-131): the A1111 profiles' models and hashes.
    [Fact]
    public async Task Forge_model_list_has_the_a1111_profiles_models_sorted__forge_dfdcbab_lib_controlnet_global_state_py_113()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        using var a1111 = new MockClient(MockWebUiProfile.WebUi110);
        var forgeModels = Strings((await forge.GetAsync("controlnet/model_list")).Json!["model_list"]);
        var a1111Models = Strings((await a1111.GetAsync("controlnet/model_list")).Json!["model_list"]);
        Assert.Equal("None", forgeModels[0]);
        Assert.Equal(a1111Models.Order(StringComparer.Ordinal), forgeModels.Order(StringComparer.Ordinal));
        Assert.Equal(forgeModels.Skip(1).Order(StringComparer.Ordinal), forgeModels.Skip(1));
    }

    // /detect: no controlnet_masks, module by exact name (422 "Module not available"), embeddings answer a text
    // (forge@dfdcbab:CN/lib_controlnet/api.py:82-137, encode_to_base64 :21-25).
    [Fact]
    public async Task Forge_detect_takes_exact_names_and_no_masks__forge_dfdcbab_lib_controlnet_api_py_82()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var image = TestImages.AstronautBase64();
        var pose = await forge.PostAsync("controlnet/detect", new JsonObject { ["controlnet_module"] = "openpose_full", ["controlnet_input_images"] = new JsonArray(image) });
        Assert.Equal(200, pose.Status);
        Assert.Single(pose.Json!["images"]!.AsArray());
        Assert.Single(pose.Json["poses"]!.AsArray());

        var internalName = await forge.PostAsync("controlnet/detect", new JsonObject { ["controlnet_module"] = "depth", ["controlnet_input_images"] = new JsonArray(image) });
        Assert.Equal(422, internalName.Status);
        Assert.Equal("""{"detail":"Module not available"}""", internalName.Text);

        var clip = await forge.PostAsync("controlnet/detect", new JsonObject { ["controlnet_module"] = "CLIP-ViT-H (IPAdapter)", ["controlnet_input_images"] = new JsonArray(image) });
        Assert.Equal("Detect result is not image", clip.Json!["images"]![0]!.GetValue<string>());

        var none = await forge.PostAsync("controlnet/detect", new JsonObject { ["controlnet_module"] = "canny", ["controlnet_input_images"] = new JsonArray() });
        Assert.Equal("""{"detail":"No image selected"}""", none.Text);
        Assert.Equal(200, (await forge.PostAsync("controlnet/detect", new JsonObject
        {
            ["controlnet_module"] = "canny",
            ["controlnet_input_images"] = new JsonArray(TestImages.Solid(32, 32, new Rgba32(9, 9, 9, 255))),
            ["controlnet_masks"] = new JsonArray("ignored"),
        })).Status);
    }

    // Forge's samplers add HeunPP2, IPNDM, IPNDM_V, DEIS and DDPM, its schedulers Turbo and three AYS variants
    // (forge@dfdcbab:modules/sd_samplers_kdiffusion.py:30-33; modules_forge/alter_samplers.py:21; modules/sd_schedulers.py:224-227);
    // get_sampler_and_scheduler is A1111's (forge@dfdcbab:modules/sd_samplers.py:113-134).
    [Fact]
    public async Task Forge_adds_samplers_and_schedulers__forge_dfdcbab_modules_sd_samplers_kdiffusion_py_30()
    {
        using var forge = new MockClient(MockWebUiProfile.Forge);
        var samplers = (await forge.GetAsync("sdapi/v1/samplers")).Json!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(25, samplers.Count);
        Assert.Equal(["Restart", "HeunPP2", "IPNDM", "IPNDM_V", "DEIS", "DDIM"], samplers.SkipWhile(s => s != "Restart").Take(6));
        Assert.Equal("DDPM", samplers[^1]);
        var schedulers = (await forge.GetAsync("sdapi/v1/schedulers")).Json!.AsArray().Select(s => s!["label"]!.GetValue<string>()).ToList();
        Assert.Equal(["Turbo", "Align Your Steps GITS", "Align Your Steps 11", "Align Your Steps 32"], schedulers.Skip(12));

        var body = new JsonObject { ["prompt"] = "x", ["width"] = 64, ["height"] = 64, ["steps"] = 1, ["sampler_name"] = "DEIS", ["scheduler"] = "turbo" };
        var info = JsonNode.Parse((await forge.PostAsync("sdapi/v1/txt2img", body)).Json!["info"]!.GetValue<string>())!;
        Assert.Equal("DEIS", info["sampler_name"]!.GetValue<string>());
        Assert.Equal("Turbo", info["extra_generation_params"]!["Schedule type"]!.GetValue<string>());

        using var a1111 = new MockClient(MockWebUiProfile.WebUi110);
        var fallback = JsonNode.Parse((await a1111.PostAsync("sdapi/v1/txt2img", body)).Json!["info"]!.GetValue<string>())!;
        Assert.Equal("DPM++ 2M", fallback["sampler_name"]!.GetValue<string>());
    }

    private static List<string> Strings(JsonNode? array) => [.. array!.AsArray().Select(n => n!.GetValue<string>())];
}
