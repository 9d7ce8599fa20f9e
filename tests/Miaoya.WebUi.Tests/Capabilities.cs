using Miaoya.WebUi.Dto;

namespace Miaoya.WebUi.Tests;

/// <summary>Capabilities as the probe builds them for the two mock profiles, for tests that need no server.</summary>
internal static class Capabilities
{
    private static readonly string[] SplitSamplers = ["DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "Euler a", "Euler", "DDIM"];
    private static readonly string[] CombinedSamplers = ["Euler a", "Euler", "DPM++ 2M Karras", "DPM++ SDE Karras", "DPM++ SDE", "DDIM"];

    public static WebUiCapabilities WebUi110 { get; } = Build(
        SamplerDialect.SplitOrCombined,
        SplitSamplers,
        [("automatic", "Automatic"), ("uniform", "Uniform"), ("karras", "Karras"), ("exponential", "Exponential"), ("kl_optimal", "KL Optimal")],
        apiVersion: 3);

    public static WebUiCapabilities WebUi19 { get; } = Build(
        SamplerDialect.Split,
        SplitSamplers,
        [("automatic", "Automatic"), ("karras", "Karras"), ("exponential", "Exponential")],
        apiVersion: 3);

    public static WebUiCapabilities WebUi18 { get; } = Build(SamplerDialect.Combined, CombinedSamplers, [], apiVersion: 2);

    /// <summary>Forge: built-in ControlNet, UI labels only (its module_list has no internal names), no API version.</summary>
    public static WebUiCapabilities Forge { get; } = WebUi110 with
    {
        Backend = WebUiBackend.Forge,
        ControlNetApiVersion = null,
        HasBuiltInControlNet = true,
        ControlNetModules = ["None", "reference_only", "softedge_pidinet", "openpose_faceonly", "openpose_full", "depth_midas", "inpaint_global_harmonious", "inpaint_only"],
        ControlNetModuleLabels = new Dictionary<string, string>(),
    };

    /// <summary>SD.Next: no sd-webui-controlnet API.</summary>
    public static WebUiCapabilities SdNext { get; } = WebUi110 with
    {
        Backend = WebUiBackend.SdNext,
        BackendVersion = "2025-03-02 431bcc3",
        ControlNetApiVersion = null,
        ControlNetModels = [],
        ControlNetModules = [],
        ControlNetModuleLabels = new Dictionary<string, string>(),
        AlwaysOnScripts = ["extra options", "seed"],
    };

    private static WebUiCapabilities Build(SamplerDialect dialect, string[] samplers, (string Name, string Label)[] schedulers, int apiVersion) => new()
    {
        BaseUrl = new Uri("http://box:7860/"),
        SamplerDialect = dialect,
        Samplers = samplers.Select(s => new SamplerInfo(s, [], null)).ToArray(),
        Schedulers = schedulers.Select(s => new SchedulerInfo(s.Name, s.Label, null, null, null)).ToArray(),
        Checkpoints =
        [
            new SdModel("chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]", "chilloutmix_NiPrunedFp32Fix", "fc2511737a", "fc2511737a1c63b6c0c0ca6f9e1b0bfaa5e9b5ad2e7d8f9c4f0f5b7b3c7d0e1a", "/models/Stable-diffusion/chilloutmix_NiPrunedFp32Fix.safetensors", null),
            new SdModel("v1-5-pruned-emaonly.safetensors [6ce0161689]", "v1-5-pruned-emaonly", "6ce0161689", null, "/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors", null),
        ],
        Loras = [new LoraInfo("miaoya_demo_face", "miaoya_demo_face", "/models/Lora/miaoya_demo_face.safetensors", null)],
        Embeddings = ["ng_deepnegative_v1_75t", "badhandv4"],
        AlwaysOnScripts = ["controlnet", "extra options", "refiner", "seed"],
        Extensions = [],
        ControlNetApiVersion = apiVersion,
        ControlNetModels = ["None", "control_v11p_sd15_openpose [cab727d4]", "control_v11f1p_sd15_depth [cfd03158]", "control_v11p_sd15_softedge [a8575a2a]", "control_v11p_sd15_inpaint [ebff9138]"],
        ControlNetModules = ["none", "reference_only", "pidinet", "softedge_pidinet", "openpose_faceonly", "openpose_full", "depth", "depth_midas", "inpaint", "inpaint_global_harmonious", "inpaint_only"],
        ControlNetModuleLabels = new Dictionary<string, string> { ["pidinet"] = "softedge_pidinet", ["depth"] = "depth_midas", ["inpaint"] = "inpaint_global_harmonious" },
        ControlNetUnitCount = 3,
    };
}
