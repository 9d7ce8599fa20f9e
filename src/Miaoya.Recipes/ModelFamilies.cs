using System.Text.RegularExpressions;

namespace Miaoya.Recipes;

/// <summary>What a checkpoint or ControlNet file name says about its Stable Diffusion family.</summary>
public static partial class ModelFamilies
{
    /// <summary>
    /// The family a model's name marks, or null when it marks none (e.g. chilloutmix): "sdxl", "sd_xl", an "xl" word or
    /// a trailing "XL" (juggernautXL, diffusers_xl_canny_full, thibaud_xl_openpose) mark SDXL; "sd15", "sd_15", "v1-5",
    /// "control_v11…" mark SD1.5. A hash suffix (" [abcd1234]") is ignored.
    /// </summary>
    public static ModelFamily? Guess(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var bracket = name.IndexOf(" [", StringComparison.Ordinal);
        var stem = bracket > 0 ? name[..bracket] : name;
        if (Sdxl().IsMatch(stem))
        {
            return ModelFamily.Sdxl;
        }

        return Sd15().IsMatch(stem) ? ModelFamily.Sd15 : null;
    }

    /// <summary>"SD1.5" or "SDXL".</summary>
    public static string Label(ModelFamily family) => family == ModelFamily.Sdxl ? "SDXL" : "SD1.5";

    [GeneratedRegex(@"(?i:sd_?xl)|(?i:(?<![a-z])xl(?![a-z]))|(?<=[a-z0-9])XL(?![a-z])", RegexOptions.CultureInvariant)]
    private static partial Regex Sdxl();

    [GeneratedRegex(@"(?i)sd_?15|sd-?1[-._]5|v1-5|control_v1[01]|(?<![a-z0-9])v1[-_]?5(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Sd15();
}
