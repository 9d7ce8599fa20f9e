using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>The traits of the Forge and reForge profiles, each fact with the upstream line it comes from.</summary>
internal static class ForgeProfiles
{
    /// <summary>
    /// Forge's all_samplers: A1111 1.10.1's with HeunPP2, IPNDM, IPNDM_V and DEIS after Restart
    /// (forge@dfdcbab:modules/sd_samplers_kdiffusion.py:14-34; k_diffusion/sampling.py:771-933 has all four) and DDPM last
    /// (modules_forge/alter_samplers.py:20-22; modules/sd_samplers.py:11-16).
    /// </summary>
    private static readonly (string Name, string[] Aliases, string? DefaultScheduler)[] Samplers =
    [
        .. Catalog.Samplers110.TakeWhile(s => s.Name != "DDIM"),
        ("HeunPP2", ["heunpp2"], null),
        ("IPNDM", ["ipndm"], null),
        ("IPNDM_V", ["ipndm_v"], null),
        ("DEIS", ["deis"], null),
        .. Catalog.Samplers110.SkipWhile(s => s.Name != "DDIM"),
        ("DDPM", ["ddpm"], null),
    ];

    /// <summary>A1111 1.10.1's schedulers + Turbo and three Align Your Steps variants (forge@dfdcbab:modules/sd_schedulers.py:211-227).</summary>
    private static readonly (string Name, string Label, string[]? Aliases, double? Rho, bool NeedInner)[] Schedulers =
    [
        .. Catalog.Schedulers,
        ("turbo", "Turbo", null, null, true),
        ("align_your_steps_GITS", "Align Your Steps GITS", null, null, false),
        ("align_your_steps_11", "Align Your Steps 11", null, null, false),
        ("align_your_steps_32", "Align Your Steps 32", null, null, false),
    ];

    /// <summary>
    /// lllyasviel/stable-diffusion-webui-forge at dfdcbab.
    /// <list type="bullet">
    /// <item>Version: 'f' + forge_version.version + '-' + git describe (forge@dfdcbab:modules/launch_utils.py:94-95,
    /// modules_forge/forge_version.py:1 '2.0.1v1.10.1'; describe of dfdcbab is previous-669-gdfdcbab6).</item>
    /// <item>No /controlnet/version: lib_controlnet registers model_list, module_list, control_types and detect only
    /// (forge@dfdcbab:extensions-builtin/sd_forge_controlnet/lib_controlnet/api.py:40-137).</item>
    /// <item>/sdapi/v1/sd-modules instead of /sdapi/v1/sd-vae (forge@dfdcbab:modules/api/api.py:227-228).</item>
    /// <item>Hidden options forge_preset ('sd') and forge_additional_modules ([]) (forge@dfdcbab:modules_forge/shared_options.py:7-8),
    /// plus the other Forge hidden options beside them (:3-6).</item>
    /// </list>
    /// </summary>
    public static readonly ProfileTraits Forge = new(
        "f2.0.1v1.10.1-previous-669-gdfdcbab6", UnitDialect.Forge, SamplerDialect.Split, TaggerFlavor.Picobyte, ErrorDialect.Forge,
        ControlNetVersion: null, HasSdVae: false, HasSdModules: true)
    {
        SplitSamplers = Samplers,
        Schedulers = Schedulers,
        ExtraOptions = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["forge_unet_storage_dtype"] = "Automatic",
            ["forge_inference_memory"] = 1024,
            ["forge_async_loading"] = "Queue",
            ["forge_pin_shared_memory"] = "CPU",
            ["forge_preset"] = "sd",
            ["forge_additional_modules"] = new JsonArray(),
        },
    };

    /// <summary>
    /// Panchovix/stable-diffusion-webui-reForge main at 3b56b26.
    /// <list type="bullet">
    /// <item>Version: reforge@3b56b26:modules_forge/forge_version.py:1 '1.0.0v2-v1.10.1RC', same launch_utils.py:88-89; describe
    /// of 3b56b26 is latest-2510-g3b56b268.</item>
    /// <item>Same lib_controlnet routes as Forge, so no /controlnet/version (reforge@3b56b26:extensions-builtin/sd_forge_controlnet/lib_controlnet/api.py,
    /// identical to Forge's).</item>
    /// <item>/sdapi/v1/sd-vae and no /sdapi/v1/sd-modules (reforge@3b56b26:modules/api/api.py:228).</item>
    /// <item>A1111's api_middleware is installed (reforge@3b56b26:modules/api/api.py:210): A1111 error bodies.</item>
    /// <item>No forge_preset / forge_additional_modules; its own reforge_* sampler options, e.g. reforge_karras_rho 7.0
    /// (reforge@3b56b26:modules/shared_options.py:498-509).</item>
    /// </list>
    /// </summary>
    public static readonly ProfileTraits ReForge = new(
        "f1.0.0v2-v1.10.1RC-latest-2510-g3b56b268", UnitDialect.ReForge, SamplerDialect.Split, TaggerFlavor.Picobyte, ErrorDialect.A1111,
        ControlNetVersion: null, HasSdVae: true, HasSdModules: false)
    {
        ExtraOptions = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["reforge_karras_rho"] = 7.0,
            ["reforge_exponential_shrink_factor"] = 0.0,
            ["reforge_polyexponential_rho"] = 1.0,
            ["reforge_normal_sgm"] = false,
            ["reforge_beta_dist_alpha"] = 0.6,
            ["reforge_beta_dist_beta"] = 0.6,
        },
    };
}
