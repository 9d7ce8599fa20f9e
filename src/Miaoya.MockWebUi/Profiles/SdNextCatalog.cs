using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>SD.Next's listings (vladmandic/sdnext@431bcc3, 2025-03-02, diffusers backend).</summary>
internal static class SdNextCatalog
{
    public const string Commit = "431bcc360965791f5458051c905b69d4d8e8b8df";

    /// <summary>
    /// Diffusers samplers in list order (modules/sd_samplers_diffusers.py:118-173, samplers_data_diffusers; with the native
    /// backend all_samplers is this list, modules/sd_samplers.py:23-29), each with no aliases and no options.
    /// </summary>
    public static readonly string[] Samplers =
    [
        "Default", "UniPC", "DDIM", "Euler", "Euler a", "Euler SGM", "Euler EDM", "Euler FlowMatch",
        "DPM++", "DPM++ 2M", "DPM++ 3M", "DPM++ 1S", "DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M EDM", "DPM++ Cosine", "DPM SDE",
        "DPM++ Inverse", "DPM++ 2M Inverse", "DPM++ 3M Inverse",
        "DPM2 FlowMatch", "DPM2a FlowMatch", "DPM2++ 2M FlowMatch", "DPM2++ 2S FlowMatch", "DPM2++ SDE FlowMatch", "DPM2++ 2M SDE FlowMatch", "DPM2++ 3M SDE FlowMatch",
        "Heun", "Heun FlowMatch", "DEIS", "SA Solver", "DC Solver", "VDM Solver", "BDIA DDIM",
        "PNDM", "IPNDM", "DDPM", "LMSD", "KDPM2", "KDPM2 a", "CMSI", "LCM", "TCD", "TDD", "PeRFlow", "UFOGen", "Same as primary",
    ];

    /// <summary>
    /// Titles of the always-on scripts in scripts/ (lower-cased, as modules/api/script.py:9-20 compares them): animatediff.py,
    /// init_latents.py, ipadapter.py, xyz_grid_on.py. ControlNet is not among them: SD.Next ships no sd-webui-controlnet
    /// (.gitmodules lists system-info, chainner, rembg, agent-scheduler, modernui).
    /// </summary>
    public static readonly string[] AlwaysOn = ["video: animatediff", "init latents", "ip adapters", "xyz grid"];

    /// <summary>GET /sdapi/v1/samplers (modules/api/endpoints.py:8-10).</summary>
    public static JsonArray SamplersJson() =>
        [.. Samplers.Select(n => (JsonNode)new JsonObject { ["name"] = n, ["aliases"] = new JsonArray(), ["options"] = new JsonObject() })];

    /// <summary>GET /sdapi/v1/version: shared.get_version() (modules/shared.py:1298-1318) from the git checkout.</summary>
    public static JsonObject Version() => new()
    {
        ["app"] = "sd.next",
        ["updated"] = "2025-03-02",
        ["hash"] = Commit[..7],
        ["url"] = "https://github.com/vladmandic/sdnext/tree/master",
    };

    /// <summary>GET /sdapi/v1/scripts: txt2img, img2img and control lists of script names (modules/api/script.py:32-36).</summary>
    public static JsonObject Scripts()
    {
        JsonArray Names() => [.. AlwaysOn.Select(n => (JsonNode)n)];
        return new JsonObject { ["txt2img"] = Names(), ["img2img"] = Names(), ["control"] = Names() };
    }

    /// <summary>GET /sdapi/v1/extensions: the built-in submodules (.gitmodules at 431bcc3).</summary>
    public static JsonArray Extensions()
    {
        static JsonObject Ext(string name, string remote) => new()
        {
            ["name"] = name,
            ["remote"] = remote,
            ["branch"] = "main",
            ["commit_hash"] = "",
            ["version"] = "",
            ["commit_date"] = "",
            ["enabled"] = true,
        };

        return
        [
            Ext("sd-extension-system-info", "https://github.com/vladmandic/sd-extension-system-info"),
            Ext("sd-extension-chainner", "https://github.com/vladmandic/sd-extension-chainner"),
            Ext("stable-diffusion-webui-rembg", "https://github.com/vladmandic/sd-extension-rembg"),
            Ext("sd-webui-agent-scheduler", "https://github.com/ArtVentureX/sd-webui-agent-scheduler"),
            Ext("sdnext-modernui", "https://github.com/BinaryQuantumSoul/sdnext-modernui"),
        ];
    }
}
