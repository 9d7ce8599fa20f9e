namespace Miaoya.WebUi.ControlNet;

/// <summary>Facts about preprocessor names (Mikubill/sd-webui-controlnet v1.1.455, commit 56cec5b).</summary>
public static class ControlNetModules
{
    /// <summary>reference_* and revision_* run without a model; the model field is ignored (controlnet.py:910-916).</summary>
    public static bool IsModelFree(string module) =>
        module.StartsWith("reference", StringComparison.OrdinalIgnoreCase)
        || module.StartsWith("revision", StringComparison.OrdinalIgnoreCase);

    /// <summary>Inpaint modules use a unit mask as the inpaint mask; others would treat it as a scribble.</summary>
    public static bool TakesMask(string module) =>
        module.StartsWith("inpaint", StringComparison.OrdinalIgnoreCase);

    /// <summary>Modules whose <c>/controlnet/detect</c> answer carries <c>poses</c> (CN scripts/api.py:186-188).</summary>
    public static bool ReturnsPoses(string module) =>
        module.Contains("openpose", StringComparison.OrdinalIgnoreCase);
}
