using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>A checkpoint the box lists; <paramref name="Version"/> is what ControlNet's version check sees it as.</summary>
internal sealed record CheckpointInfo(string Title, string ModelName, string Hash, string Sha256, string Filename, SdVersion Version = SdVersion.SD1x)
{
    public string ShortHash => Sha256[..10];

    // CheckpointInfo.ids: title, file name, model_name, stem, hashes, "name [hash]" (A1111 v1.10.1
    // modules/sd_models.py:88-100).
    public bool Matches(string id) =>
        id == Title || id == ModelName || id == Path.GetFileName(Filename) || id == Hash || id == ShortHash || id == Sha256
        || id == $"{ModelName} [{Hash}]" || id == $"{ModelName} [{ShortHash}]";
}

/// <summary>Static listings served by the mock, per profile.</summary>
internal static class Catalog
{
    public static readonly CheckpointInfo[] Checkpoints =
    [
        new("chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]", "chilloutmix_NiPrunedFp32Fix", "59ffe2243a",
            "fc2511737a54c5e80b89ab03e0ab4b98d051ab187f92860f3cd664dc9d08b271", "/models/Stable-diffusion/chilloutmix_NiPrunedFp32Fix.safetensors"),
        new("v1-5-pruned-emaonly.safetensors [6ce0161689]", "v1-5-pruned-emaonly", "81761151",
            "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa", "/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors"),
        new("realisticVisionV60B1_v51VAE.safetensors [15012c538f]", "realisticVisionV60B1_v51VAE", "a0f13c83",
            "15012c538f503ce2ebfc2c8547b268c75ccdaff7a281db55399940ff1d70e21d", "/models/Stable-diffusion/realisticVisionV60B1_v51VAE.safetensors"),
        // SDXL base 1.0 (stabilityai/stable-diffusion-xl-base-1.0): title and short hash as A1111 users' payloads name it
        // ("sd_xl_base_1.0.safetensors [31e35c80fc]"), the old 8-hex hash as their infotexts show it (be9edd61). For the
        // identity units, which run on SDXL only (InstantID, PuLID).
        new("sd_xl_base_1.0.safetensors [31e35c80fc]", "sd_xl_base_1.0", "be9edd61",
            "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b", "/models/Stable-diffusion/sd_xl_base_1.0.safetensors", SdVersion.SDXL),
    ];

    public static CheckpointInfo? FindCheckpoint(string? id) =>
        string.IsNullOrEmpty(id) ? null : Array.Find(Checkpoints, c => c.Matches(id));

    public static JsonArray SdModels()
    {
        var arr = new JsonArray();
        foreach (var c in Checkpoints)
        {
            arr.Add(new JsonObject
            {
                ["title"] = c.Title,
                ["model_name"] = c.ModelName,
                ["hash"] = c.Hash,
                ["sha256"] = c.Sha256,
                ["filename"] = c.Filename,
                ["config"] = null,
            });
        }

        return arr;
    }

    public static JsonArray SdVae() =>
    [
        new JsonObject { ["model_name"] = "vae-ft-mse-840000-ema-pruned.safetensors", ["filename"] = "/models/VAE/vae-ft-mse-840000-ema-pruned.safetensors" },
    ];

    public static JsonArray Loras() =>
    [
        Lora("miaoya_demo_face", "miaoya_demo_face", new JsonObject { ["ss_output_name"] = "miaoya_demo_face", ["ss_network_dim"] = "32", ["ss_base_model_version"] = "sd_v1" }),
        Lora("add_detail", "add_detail", new JsonObject { ["ss_output_name"] = "add_detail", ["ss_network_dim"] = "16" }),
        Lora("ip-adapter-faceid-plusv2_sd15_lora", "ip-adapter-faceid-plusv2_sd15_lora", new JsonObject()),
        // The FaceID companions (sd-webui-controlnet@56cec5b scripts/ipadapter/presets.py:86-170): the client adds them to the
        // prompt, ControlNet never does.
        Lora("ip-adapter-faceid_sd15_lora", "ip-adapter-faceid_sd15_lora", new JsonObject()),
        Lora("ip-adapter-faceid-plus_sd15_lora", "ip-adapter-faceid-plus_sd15_lora", new JsonObject()),
        Lora("ip-adapter-faceid_sdxl_lora", "ip-adapter-faceid_sdxl_lora", new JsonObject()),
        Lora("ip-adapter-faceid-plusv2_sdxl_lora", "ip-adapter-faceid-plusv2_sdxl_lora", new JsonObject()),
    ];

    private static JsonObject Lora(string name, string alias, JsonObject metadata) => new()
    {
        ["name"] = name,
        ["alias"] = alias,
        ["path"] = $"/models/Lora/{name}.safetensors",
        ["metadata"] = metadata,
    };

    public static JsonObject Embeddings() => new()
    {
        ["loaded"] = new JsonObject
        {
            ["ng_deepnegative_v1_75t"] = new JsonObject { ["step"] = null, ["sd_checkpoint"] = null, ["sd_checkpoint_name"] = null, ["shape"] = 768, ["vectors"] = 75 },
            ["badhandv4"] = new JsonObject { ["step"] = 1020, ["sd_checkpoint"] = "7ab762a7", ["sd_checkpoint_name"] = "blessMix_v20", ["shape"] = 768, ["vectors"] = 6 },
        },
        ["skipped"] = new JsonObject(),
    };

    // A1111 v1.10.1 split sampler names with their default scheduler (modules/sd_samplers_kdiffusion.py:11-27).
    public static readonly (string Name, string[] Aliases, string? DefaultScheduler)[] Samplers110 =
    [
        ("DPM++ 2M", ["k_dpmpp_2m"], "karras"),
        ("DPM++ SDE", ["k_dpmpp_sde"], "karras"),
        ("DPM++ 2M SDE", ["k_dpmpp_2m_sde"], "exponential"),
        ("DPM++ 2M SDE Heun", ["k_dpmpp_2m_sde_heun"], "exponential"),
        ("DPM++ 2S a", ["k_dpmpp_2s_a"], "karras"),
        ("DPM++ 3M SDE", ["k_dpmpp_3m_sde"], "exponential"),
        ("Euler a", ["k_euler_a", "k_euler_ancestral"], null),
        ("Euler", ["k_euler"], null),
        ("LMS", ["k_lms"], null),
        ("Heun", ["k_heun"], null),
        ("DPM2", ["k_dpm_2"], "karras"),
        ("DPM2 a", ["k_dpm_2_a"], "karras"),
        ("DPM fast", ["k_dpm_fast"], null),
        ("DPM adaptive", ["k_dpm_ad"], null),
        ("Restart", ["restart"], "karras"),
        ("DDIM", ["ddim"], null),
        ("DDIM CFG++", ["ddim_cfgpp"], null),
        ("PLMS", ["plms"], null),
        ("UniPC", ["unipc"], null),
        ("LCM", ["k_lcm"], null),
    ];

    // A1111 v1.8.0 composite names (modules/sd_samplers_kdiffusion.py:11, samplers_k_diffusion).
    public static readonly string[] Samplers18 =
    [
        "DPM++ 2M Karras", "DPM++ SDE Karras", "DPM++ 2M SDE Exponential", "DPM++ 2M SDE Karras", "Euler a", "Euler", "LMS", "Heun",
        "DPM2", "DPM2 a", "DPM++ 2S a", "DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 2M SDE Heun Karras",
        "DPM++ 2M SDE Heun Exponential", "DPM++ 3M SDE", "DPM++ 3M SDE Karras", "DPM++ 3M SDE Exponential", "DPM fast", "DPM adaptive",
        "LMS Karras", "DPM2 Karras", "DPM2 a Karras", "DPM++ 2S a Karras", "Restart", "DDIM", "PLMS", "UniPC", "LCM",
    ];

    // A1111 v1.10.1 modules/sd_schedulers.py:130-143: name, label, aliases.
    public static readonly (string Name, string Label, string[]? Aliases, double? Rho, bool NeedInner)[] Schedulers =
    [
        ("automatic", "Automatic", null, null, false),
        ("uniform", "Uniform", null, null, true),
        ("karras", "Karras", null, 7.0, false),
        ("exponential", "Exponential", null, null, false),
        ("polyexponential", "Polyexponential", null, 1.0, false),
        ("sgm_uniform", "SGM Uniform", ["SGMUniform"], null, true),
        ("kl_optimal", "KL Optimal", null, null, false),
        ("align_your_steps", "Align Your Steps", null, null, false),
        ("simple", "Simple", null, null, true),
        ("normal", "Normal", null, null, true),
        ("ddim", "DDIM", null, null, true),
        ("beta", "Beta", null, null, true),
    ];

    public static JsonArray SamplersJson(SamplerDialect dialect, IReadOnlyList<(string Name, string[] Aliases, string? DefaultScheduler)>? split = null)
    {
        if (dialect == SamplerDialect.Diffusers)
        {
            return SdNextCatalog.SamplersJson();
        }

        var arr = new JsonArray();
        if (dialect == SamplerDialect.Composite)
        {
            foreach (var name in Samplers18)
            {
                var opts = new JsonObject();
                if (name.EndsWith("Karras", StringComparison.Ordinal))
                {
                    opts["scheduler"] = "karras";
                }
                else if (name.EndsWith("Exponential", StringComparison.Ordinal))
                {
                    opts["scheduler"] = "exponential";
                }

                arr.Add(new JsonObject { ["name"] = name, ["aliases"] = new JsonArray(), ["options"] = opts });
            }

            return arr;
        }

        foreach (var (name, aliases, sched) in split ?? Samplers110)
        {
            var opts = new JsonObject();
            if (sched is not null)
            {
                opts["scheduler"] = sched;
            }

            if (name.Contains("SDE", StringComparison.Ordinal))
            {
                opts["brownian_noise"] = "True"; // options values are strings (models.py:233-236)
            }

            arr.Add(new JsonObject { ["name"] = name, ["aliases"] = new JsonArray([.. aliases.Select(a => (JsonNode)a)]), ["options"] = opts });
        }

        return arr;
    }

    public static JsonArray SchedulersJson(IReadOnlyList<(string Name, string Label, string[]? Aliases, double? Rho, bool NeedInner)>? schedulers = null)
    {
        var arr = new JsonArray();
        foreach (var s in schedulers ?? Schedulers)
        {
            arr.Add(new JsonObject
            {
                ["name"] = s.Name,
                ["label"] = s.Label,
                ["aliases"] = s.Aliases is null ? null : new JsonArray([.. s.Aliases.Select(a => (JsonNode)a)]),
                ["default_rho"] = s.Rho,
                ["need_inner_model"] = s.NeedInner,
            });
        }

        return arr;
    }

    public static JsonArray Upscalers() =>
    [
        Upscaler("None", null, null, 4),
        Upscaler("Lanczos", null, null, 4),
        Upscaler("Nearest", null, null, 4),
        Upscaler("ESRGAN_4x", "ESRGAN_4x", "/models/ESRGAN/ESRGAN_4x.pth", 4),
        Upscaler("R-ESRGAN 4x+", null, null, 4),
        Upscaler("4x-UltraSharp", "4x-UltraSharp", "/models/ESRGAN/4x-UltraSharp.pth", 4),
    ];

    private static JsonObject Upscaler(string name, string? model, string? path, double scale) => new()
    {
        ["name"] = name,
        ["model_name"] = model,
        ["model_path"] = path,
        ["model_url"] = null,
        ["scale"] = scale,
    };

    // Script titles lower-cased (A1111 api.py:294-298; scripts.py:653). Selectable = not always-on.
    public static readonly string[] SelectableTxt2Img = ["prompt matrix", "prompts from file or textbox", "x/y/z plot"];

    public static readonly string[] SelectableImg2Img =
        ["img2img alternative test", "loopback", "outpainting mk2", "poor man's outpainting", "prompt matrix", "prompts from file or textbox", "sd upscale", "x/y/z plot"];

    public static readonly string[] AlwaysOnTxt2Img = ["controlnet", "comments", "extra options", "hypertile", "refiner", "sampler", "seed"];

    public static readonly string[] AlwaysOnImg2Img = ["controlnet", "comments", "extra options", "hypertile", "refiner", "sampler", "seed", "soft inpainting"];

    public static JsonObject Scripts() => new()
    {
        ["txt2img"] = new JsonArray([.. SelectableTxt2Img.Concat(AlwaysOnTxt2Img).Select(s => (JsonNode)s)]),
        ["img2img"] = new JsonArray([.. SelectableImg2Img.Concat(AlwaysOnImg2Img).Select(s => (JsonNode)s)]),
    };

    /// <summary>GET /sdapi/v1/script-info; ControlNet's always-on script has one arg per unit slot (<paramref name="unitCount"/>).</summary>
    public static JsonArray ScriptInfo(int unitCount = DefaultControlNetUnitCount)
    {
        var arr = new JsonArray();
        foreach (var img2img in new[] { false, true })
        {
            foreach (var name in img2img ? SelectableImg2Img : SelectableTxt2Img)
            {
                arr.Add(new JsonObject { ["name"] = name, ["is_alwayson"] = false, ["is_img2img"] = img2img, ["args"] = new JsonArray() });
            }

            foreach (var name in img2img ? AlwaysOnImg2Img : AlwaysOnTxt2Img)
            {
                var args = new JsonArray();
                if (name == "controlnet")
                {
                    for (var i = 0; i < unitCount; i++)
                    {
                        args.Add(new JsonObject { ["label"] = $"ControlNet Unit {i}", ["value"] = null, ["minimum"] = null, ["maximum"] = null, ["step"] = null, ["choices"] = null });
                    }
                }

                arr.Add(new JsonObject { ["name"] = name, ["is_alwayson"] = true, ["is_img2img"] = img2img, ["args"] = args });
            }
        }

        return arr;
    }

    /// <summary>
    /// GET /sdapi/v1/extensions: the extensions with a git remote. Forge's and reForge's ControlNet is built in
    /// (extensions-builtin/), and built-in extensions read no remote, so they are not listed
    /// (forge@dfdcbab:modules/api/api.py:838-855; modules/extensions.py:142-144).
    /// </summary>
    public static JsonArray Extensions(ProfileTraits profile)
    {
        var list = new JsonArray();
        if (profile.Units == UnitDialect.Pydantic)
        {
            list.Add(Extension("sd-webui-controlnet", "https://github.com/Mikubill/sd-webui-controlnet.git", "56cec5b2958edf3b1807b7e7b2b1b5186dbd2f81", "1721981563"));
        }
        else if (profile.Units == UnitDialect.Dataclass)
        {
            list.Add(Extension("sd-webui-controlnet", "https://github.com/Mikubill/sd-webui-controlnet.git", "3d75bd08e3f20b9999985a828f7567c84925c862", "1712505600"));
        }

        if (!profile.ForgeControlNet && profile.HasControlNet)
        {
            // PuLID's EVA-CLIP preprocessor (IdentityCatalog.EvaClipModule); its README: "not compatible with SD Forge".
            list.Add(Extension(IdentityCatalog.EvaClipExtension, "https://github.com/huchenlei/sd-webui-controlnet-evaclip.git", IdentityCatalog.EvaClipCommit, "1715025404"));
        }

        list.Add(profile.Tagger == TaggerFlavor.Picobyte
            ? Extension("stable-diffusion-webui-wd14-tagger", "https://github.com/picobyte/stable-diffusion-webui-wd14-tagger.git", "e72d984bdbed832ba83e2a443238c3851b9088ae", "1699102800")
            : Extension("stable-diffusion-webui-wd14-tagger", "https://github.com/toriato/stable-diffusion-webui-wd14-tagger.git", "99bf7d8132cb757edbcdfaad654f31f32f3500a5", "1689552000"));
        list.Add(Extension("stable-diffusion-webui-rembg", "https://github.com/AUTOMATIC1111/stable-diffusion-webui-rembg.git", "a4c07b857e73f3035f759876797fa6de986def3d", "1703941443"));
        return list;
    }

    private static JsonObject Extension(string name, string remote, string commit, string date) => new()
    {
        ["name"] = name,
        ["remote"] = remote,
        ["branch"] = "main",
        ["commit_hash"] = commit,
        ["version"] = commit[..8], // version = commit_hash[:8] (A1111 extensions.py:165-171)
        ["commit_date"] = date,
        ["enabled"] = true,
    };

    /// <summary>
    /// control_net_unit_count's default (sd-webui-controlnet@56cec5b scripts/controlnet.py:1366-1367, a 1..10 slider that
    /// needs a restart); <see cref="MockWebUiOptions.ControlNetUnitCount"/> sets the box's.
    /// </summary>
    public const int DefaultControlNetUnitCount = 3;

    // Tagger model keys: picobyte/stable-diffusion-webui-wd14-tagger e72d984 tagger/utils.py:19-60 and
    // toriato/stable-diffusion-webui-wd14-tagger 99bf7d8 tagger/utils.py, refresh_interrogators.
    public static readonly string[] TaggerModelsPicobyte =
    [
        "wd14-vit.v1", "wd14-vit.v2", "wd14-convnext.v1", "wd14-convnext.v2", "wd14-convnextv2.v1", "wd14-swinv2-v1",
        "wd-v1-4-moat-tagger.v2", "mld-caformer.dec-5-97527", "mld-tresnetd.6-30000",
    ];

    public static readonly string[] TaggerModelsToriato =
    [
        "wd14-convnextv2-v2", "wd14-vit-v2", "wd14-convnext-v2", "wd14-swinv2-v2", "wd14-convnextv2-v2-git", "wd14-vit-v2-git",
        "wd14-convnext-v2-git", "wd14-swinv2-v2-git", "wd14-vit", "wd14-convnext",
    ];

    public static string[] TaggerModels(TaggerFlavor flavor) =>
        flavor == TaggerFlavor.Picobyte ? TaggerModelsPicobyte : TaggerModelsToriato;

    // rembg session names known to the rembg library (inference; the extension passes the name to rembg.new_session).
    public static readonly string[] RembgModels =
        ["u2net", "u2netp", "u2net_human_seg", "u2net_cloth_seg", "silueta", "isnet-general-use", "isnet-anime"];
}
