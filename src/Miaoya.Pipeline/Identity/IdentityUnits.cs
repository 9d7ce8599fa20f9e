using System.Globalization;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;
using Miaoya.WebUi.ControlNet;

namespace Miaoya.Pipeline;

/// <summary>The identity unit(s) of a recipe's <c>identity</c> section, as sent first in a generation step's ControlNet units.</summary>
internal static class IdentityUnits
{
    /// <summary>
    /// The units for <paramref name="step"/>: none when the recipe's identity is not on that step (or no face crops were
    /// made); one IP-Adapter unit (FaceID, PuLID) carrying every crop as a list; InstantID's embedding unit followed
    /// immediately by its keypoints unit — the extension pairs them by adjacency
    /// (Mikubill/sd-webui-controlnet@56cec5b scripts/controlnet.py:1188-1197).
    /// </summary>
    public static IReadOnlyList<ControlNetUnit> For(
        Recipe recipe, string step, WebUiCapabilities box, IReadOnlyList<EncodedImage>? faces, EncodedImage template, EncodedImage previous)
    {
        if (recipe.Identity is not { } identity || !identity.Steps.Contains(step, StringComparer.Ordinal) || faces is not { Count: > 0 })
        {
            return [];
        }

        // Only units whose preprocessor is tagged IP-Adapter take several images (internal_controlnet/args.py:240-268);
        // InstantID's embedding unit is tagged Instant-ID, so it gets the first photo.
        var list = AcceptsSeveralImages(identity.Method) && faces.Count > 1;
        var units = new List<ControlNetUnit>
        {
            new()
            {
                Module = box.ResolveControlNetModule(identity.Module) ?? identity.Module,
                Model = box.ResolveControlNetModel(identity.Model) ?? identity.Model,
                Weight = identity.Weight,
                Image = list ? null : faces[0],
                Images = list ? faces : [],
                GuidanceStart = identity.GuidanceStart,
                GuidanceEnd = identity.GuidanceEnd,
                ControlMode = PayloadBuilder.ControlMode(identity.ControlMode),
                ResizeMode = ControlNetResizeMode.CropAndResize,

                // Trap 1 of "only masked" inpaint: the person's photo must not be cut to the mask's box.
                InpaintCropInputImage = false,
                PulidMode = identity.PulidMode switch
                {
                    Recipes.PulidMode.Fidelity => "Fidelity",
                    Recipes.PulidMode.ExtremelyStyle => "Extremely style",
                    _ => null,
                },
            },
        };
        if (identity.Keypoints is { } k)
        {
            units.Add(new ControlNetUnit
            {
                Module = box.ResolveControlNetModule(k.Module) ?? k.Module,
                Model = box.ResolveControlNetModel(k.Model) ?? k.Model,
                Weight = k.Weight,
                Image = k.Image == UnitImageSource.Template ? template : previous,
                GuidanceStart = k.GuidanceStart,
                GuidanceEnd = k.GuidanceEnd,
                ControlMode = PayloadBuilder.ControlMode(k.ControlMode),
                ResizeMode = ControlNetResizeMode.CropAndResize,
            });
        }

        return units;
    }

    /// <summary>FaceID, FaceID Plus, FaceID Portrait and PuLID are IP-Adapter units; InstantID's embedding unit is not.</summary>
    public static bool AcceptsSeveralImages(IdentityMethod method) => method != IdentityMethod.InstantId;

    /// <summary>
    /// The prompt with the method's companion LoRA (e.g. FaceID Plus v2's), which the extension never adds itself: its
    /// presets name it (scripts/ipadapter/presets.py) but nothing reads that field.
    /// </summary>
    public static string WithCompanionLora(string prompt, IdentitySettings identity) =>
        identity.Lora is { } lora
            ? string.Create(CultureInfo.InvariantCulture, $"{prompt}, <lora:{lora}:{identity.LoraWeight:0.###}>")
            : prompt;

    /// <summary>The name part of an identity model as the box lists it (<c>name [hash]</c>).</summary>
    public static string Stem(string model)
    {
        var bracket = model.IndexOf(" [", StringComparison.Ordinal);
        return bracket > 0 ? model[..bracket] : model;
    }
}
