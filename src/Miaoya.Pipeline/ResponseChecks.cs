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

        // IP-Adapter units return no detected map (their preprocessors return tensors, returns_image=False), so the one
        // evidence that an identity unit ran is its own infotext line naming its model (webui-api.md, identity-units.md).
        if (identity is not null)
        {
            var stem = IdentityUnits.Stem(identity.Model);
            var lines = info.ExtraGenerationParams?.Where(p => p.Key.StartsWith("ControlNet ", StringComparison.Ordinal)).Select(p => p.Value.ToString()) ?? [];
            if (!lines.Any(l => l.Contains(stem, StringComparison.Ordinal)))
            {
                problems.Add($"no ControlNet line of the answer's infotext names the identity model {stem}, so the identity unit did not run (the box skips units silently).");
            }
        }

        if (info.SdModelName is { } used && !used.Equals(expectedModelName, StringComparison.Ordinal))
        {
            problems.Add($"the box used checkpoint \"{used}\" instead of \"{expectedModelName}\" (override_settings.sd_model_checkpoint was not applied).");
        }

        return problems;
    }
}
