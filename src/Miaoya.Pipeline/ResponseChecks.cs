using Miaoya.WebUi.Dto;

namespace Miaoya.Pipeline;

/// <summary>
/// The real server degrades silently: units beyond its slot count or with a missing model are skipped, and an unknown
/// checkpoint falls back to the loaded one. These checks read the answer and refuse a result that is not what was asked.
/// </summary>
public static class ResponseChecks
{
    public static IReadOnlyList<string> Check(Img2ImgRequest request, GenerationResponse response, string expectedModelName, Recipes.IdentitySettings? identity = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        var problems = new List<string>();
        if (response.GeneratedImages.Count == 0)
        {
            problems.Add("the answer holds no generated image (was send_images false, or did the box fail silently?).");
        }

        if (response.Info is not { } info)
        {
            problems.Add("the answer has no info, so it cannot be checked.");
            return problems;
        }

        // Evidence that the units ran, the same line on both ControlNet APIs we drive: each enabled unit writes
        // "ControlNet N" into the infotext parameters (A1111's extension: CN internal_controlnet/args.py:434-467; Forge and
        // reForge: lib_controlnet/infotext.py:84-95, called from scripts/controlnet.py:547-550 (reForge: :585) before each unit is
        // processed, so a unit that fails there fails the whole request instead of going missing). A unit the box dropped
        // (beyond its slot count, or disabled because a key was lost) writes no line. SD.Next is refused before sending.
        var expected = request.AlwaysOnScripts?.ControlNet?.Args.Count ?? 0;
        var ran = info.ExtraGenerationParams?.Keys.Count(k => k.StartsWith("ControlNet ", StringComparison.Ordinal)) ?? 0;
        if (ran < expected)
        {
            problems.Add($"only {ran} of {expected} ControlNet units ran; the box skips units silently (check its control_net_unit_count and that each model loads).");
        }

        // An identity unit that fails in the box (no face, no insightface, no EVA-CLIP, an SD-version mismatch, InstantID's
        // order) does not fail the request: A1111 catches the exception of ControlNet's process callback, prints it to the
        // box's console and renders without any unit (modules/scripts.py:828-834 at v1.10.1), while the "ControlNet N" lines
        // were already written (sd-webui-controlnet@56cec5b scripts/controlnet.py:659). What goes missing is the detected
        // maps: each unit that ran returns one (an embedding unit its input image, supported_preprocessor.py:196-205).
        if (identity is not null)
        {
            var stem = IdentityUnits.Stem(identity.Model);
            var lines = info.ExtraGenerationParams?.Where(p => p.Key.StartsWith("ControlNet ", StringComparison.Ordinal)).Select(p => p.Value.ToString()) ?? [];
            var maps = response.Images.Count - response.GeneratedImages.Count;
            if (!lines.Any(l => l.Contains(stem, StringComparison.Ordinal)))
            {
                problems.Add($"no ControlNet line of the answer's infotext names the identity model {stem}, so the identity unit did not run (the box skips units silently).");
            }
            else if (maps < expected)
            {
                problems.Add($"the box returned {maps} ControlNet maps for {expected} units, so ControlNet failed inside the box and the image was rendered without it (A1111 only prints such errors to its console: look for \"Error running process\" there; a face photo without a detectable face, insightface or the EVA-CLIP extension missing, or an SD1.5/SDXL mix).");
            }
        }

        if (info.SdModelName is { } used && !used.Equals(expectedModelName, StringComparison.Ordinal))
        {
            problems.Add($"the box used checkpoint \"{used}\" instead of \"{expectedModelName}\" (override_settings.sd_model_checkpoint was not applied).");
        }

        return problems;
    }
}
