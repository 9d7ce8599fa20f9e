namespace Miaoya.WebUi;

/// <summary>
/// Which server answers at a box's URL. They share A1111's <c>/sdapi/v1</c> routes but differ in their ControlNet API
/// (<see cref="WebUiCapabilities.Backend"/> is detected by <see cref="WebUiClient.ProbeAsync"/> from routes only one of them has).
/// </summary>
public enum WebUiBackend
{
    /// <summary>AUTOMATIC1111 stable-diffusion-webui, with or without the sd-webui-controlnet extension.</summary>
    A1111,

    /// <summary>
    /// lllyasviel/stable-diffusion-webui-forge: built-in ControlNet with no <c>/controlnet/version</c>, UI-label modules and
    /// exact <c>name [hash]</c> models only, unknown unit keys dropped silently (forge@dfdcbab
    /// extensions-builtin/sd_forge_controlnet/lib_controlnet/external_code.py:207-222).
    /// </summary>
    Forge,

    /// <summary>Panchovix/stable-diffusion-webui-reForge: Forge's built-in ControlNet on an A1111 1.10 base (keeps <c>/sdapi/v1/sd-vae</c>).</summary>
    ReForge,

    /// <summary>vladmandic/sdnext: diffusers-native, no <c>/controlnet/*</c> routes; control through its own <c>/sdapi/v1/control</c>.</summary>
    SdNext,

    /// <summary>ComfyUI: recognised by <c>/object_info</c> and refused (a node-graph API, not the WebUI's).</summary>
    ComfyUi,
}

/// <summary>Names of <see cref="WebUiBackend"/> as users write and read them.</summary>
public static class WebUiBackends
{
    /// <summary>"A1111", "Forge", "reForge", "SD.Next" or "ComfyUI".</summary>
    public static string DisplayName(this WebUiBackend backend) => backend switch
    {
        WebUiBackend.Forge => "Forge",
        WebUiBackend.ReForge => "reForge",
        WebUiBackend.SdNext => "SD.Next",
        WebUiBackend.ComfyUi => "ComfyUI",
        _ => "A1111",
    };

    /// <summary>Forge and reForge: ControlNet built in, with Forge's unit rules.</summary>
    public static bool HasForgeControlNet(this WebUiBackend backend) => backend is WebUiBackend.Forge or WebUiBackend.ReForge;
}
