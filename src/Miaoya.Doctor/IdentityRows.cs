using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;
using Miaoya.WebUi.ControlNet;

namespace Miaoya.Doctor;

/// <summary>
/// The rows of the identity recipes (issue 17) beyond the generic module/model rows: the companion LoRA, the EVA-CLIP
/// extension PuLID calls, the file names sd-webui-controlnet keys the identity architecture on, and with <c>--deep</c> one
/// run of each identity preprocessor through <c>POST /controlnet/detect</c>.
/// </summary>
internal static class IdentityRows
{
    private const string InsightFaceFix =
        "pip install insightface into the WebUI's Python (venv) and restart it; sd-webui-controlnet installs it by itself only on Windows with Python 3.10 (Mikubill/sd-webui-controlnet@56cec5b install.py:107-140)";

    /// <summary>
    /// identity.lora: the companion LoRA the FaceID models were trained with. sd-webui-controlnet never adds it (its preset's
    /// lora field is read nowhere, Mikubill/sd-webui-controlnet@56cec5b scripts/ipadapter/presets.py), so the run writes
    /// &lt;lora:NAME:WEIGHT&gt; into the prompt and the file must be on the box.
    /// </summary>
    public static DoctorRow CompanionLoraRow(WebUiCapabilities box, string name, WebUiManifest manifest)
    {
        var title = $"LoRA {name} (identity.lora)";
        if (box.Loras.Any(l => l.Name == name || l.Alias == name))
        {
            return new(title, DoctorStatus.Ok, "on the box; the run adds it to the prompt (the extension never does)");
        }

        var hint = (manifest.Model("lora", name) is { Name.Length: > 0 } entry ? entry.InstallHint() : $"put {name}.safetensors in models/Lora/")
            + ", then POST /sdapi/v1/refresh-loras";
        return new(title, DoctorStatus.Missing,
            $"not on the box; the FaceID model needs its companion LoRA in the prompt, which sd-webui-controlnet never adds; {NameMatcher.Suggest(name, box.Loras.Select(l => l.Name))}",
            hint);
    }

    /// <summary>PuLID's EVA02-CLIP-L-14-336 preprocessor, which only huchenlei/sd-webui-controlnet-evaclip provides.</summary>
    public static DoctorRow EvaClipRow(WebUiCapabilities box, WebUiManifest manifest)
    {
        var pin = manifest.Extension("evaclip") ?? throw new InvalidOperationException("webui-extensions/manifest.yaml has no extension 'evaclip'.");
        const string Title = "EVA-CLIP extension (PuLID)";
        if (box.HasControlNet && box.ResolveControlNetModule(RecipeRequirements.EvaClipModule) is not null)
        {
            var installed = box.Extensions.FirstOrDefault(e => e.Remote is { } r && WebUiDoctor.RemoteIs(r, pin.Slug));
            var commit = installed?.CommitHash is { Length: >= 8 } c ? $"; commit {c[..8]}{(c.Equals(pin.Commit, StringComparison.OrdinalIgnoreCase) ? " (pinned)" : $", the manifest pins {pin.Commit[..8]}")}" : "";
            return new(Title, DoctorStatus.Ok, $"{pin.Slug} installed: {RecipeRequirements.EvaClipModule} listed{commit}");
        }

        var why = box.HasBuiltInControlNet
            ? $"{box.Backend.DisplayName()} has no {RecipeRequirements.EvaClipModule} (the extension is not compatible with Forge)"
            : box.HasControlNet
                ? $"{RecipeRequirements.EvaClipModule} is not listed: {pin.Slug} is not installed, so every PuLID unit fails with \"EVA02-CLIP-L-14-336 preprocessor not found!\" (Mikubill/sd-webui-controlnet@56cec5b scripts/preprocessor/pulid.py:154-156)"
                : "needs the ControlNet extension (see its row) and the evaclip extension";
        return new(Title, DoctorStatus.Missing, why, box.HasBuiltInControlNet ? "run PuLID recipes on an A1111 box with sd-webui-controlnet" : pin.InstallHint);
    }

    /// <summary>
    /// sd-webui-controlnet picks an identity model's architecture from its file name, not its contents
    /// (Mikubill/sd-webui-controlnet@56cec5b scripts/ipadapter/ipadapter_model.py:278-282: "faceid", "portrait", "instant_id"
    /// case-sensitive, "pulid" any case; scripts/controlnet_model_guess.py:233 "instant_id" for the keypoints ControlNet):
    /// each identity model a recipe uses must carry its method's word, and FaceID look-alikes on the box are named.
    /// </summary>
    public static IEnumerable<DoctorRow> FileNameRows(WebUiCapabilities box, IReadOnlyList<Recipe> recipes)
    {
        if (!box.HasControlNet)
        {
            yield break;
        }

        var uses = recipes.Where(r => r.Identity is not null).SelectMany(r => Uses(r.Identity!).Select(u => (Recipe: r.Name, u.Field, u.Model, u.Method, u.Word, u.AnyCase)))
            .GroupBy(u => (u.Model, u.Method, u.Field));
        foreach (var use in uses)
        {
            var (model, method, field) = use.Key;
            var first = use.First();
            if (box.FindControlNetModel(model) is not { } listed)
            {
                continue; // the model row already says it is missing
            }

            var file = listed.Split(" [", 2)[0];
            var lacks = !file.Contains(first.Word, first.AnyCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
            var portrait = method is IdentityMethod.FaceId or IdentityMethod.FaceIdPlus && file.Contains("portrait", StringComparison.Ordinal);
            if (lacks || portrait)
            {
                var problem = lacks
                    ? $"{listed} is used as {Yaml(method)} ({field}) but its file name lacks \"{first.Word}\": sd-webui-controlnet would load it as another architecture, silently"
                    : $"{listed} is used as {Yaml(method)} ({field}) but its file name has \"portrait\": sd-webui-controlnet would run it in FaceID Portrait mode";
                yield return new($"identity model name {model}", DoctorStatus.Missing, problem,
                    $"rename the file as released, e.g. {Example(method, field)}, or point {field} at such a file", use.Select(u => u.Recipe).Distinct().ToArray());
            }
        }

        if (!recipes.Any(r => r.Identity?.Method is IdentityMethod.FaceId or IdentityMethod.FaceIdPlus or IdentityMethod.FaceIdPortrait))
        {
            yield break;
        }

        var lookalikes = box.ControlNetModels
            .Where(m => IsIpAdapter(m) && m.Contains("face", StringComparison.OrdinalIgnoreCase) && !m.Contains("faceid", StringComparison.Ordinal))
            .ToArray();
        if (lookalikes.Length > 0)
        {
            // Released models (IP-Adapter Plus Face, Full Face) are fine as what they are; a warning would stay on every box that has
            // them, so the row only names them, and warns where a FaceID model the recipes need is missing and a look-alike is at hand.
            var needed = recipes.Where(r => r.Identity?.Method is IdentityMethod.FaceId or IdentityMethod.FaceIdPlus or IdentityMethod.FaceIdPortrait)
                .Select(r => r.Identity!.Model).Distinct().ToArray();
            var absent = needed.Where(m => box.FindControlNetModel(m) is null).ToArray();
            var detail = $"{string.Join(", ", lookalikes)}: no \"faceid\" in the name, so not FaceID (plain IP-Adapter, CLIP image features only)";
            yield return absent.Length == 0
                ? new("FaceID look-alikes", DoctorStatus.Ok, detail + "; the recipes use the FaceID files")
                : new("FaceID look-alikes", DoctorStatus.Warning, detail + $"; do not use one for {string.Join(", ", absent)}, which the box lacks",
                    "put the FaceID file as released on the box (e.g. ip-adapter-faceid-plusv2_sd15.bin); a renamed look-alike would not work as FaceID");
        }
    }

    /// <summary>
    /// <c>--deep</c>: each identity preprocessor the recipes use, run once on <paramref name="face"/> through
    /// <c>POST /controlnet/detect</c>, so a box without insightface (or PuLID's EVA-CLIP) fails here and not on the first job.
    /// The embedding preprocessors answer <c>{"tensor": [...]}</c>, the keypoints one <c>{"images": [...]}</c>
    /// (Mikubill/sd-webui-controlnet@56cec5b scripts/api.py:181-198); their own exceptions come back as A1111's 500.
    /// </summary>
    public static async Task<IReadOnlyList<DoctorRow>> DeepRowsAsync(
        WebUiClient client, WebUiCapabilities box, IReadOnlyList<Recipe> recipes, EncodedImage face, WebUiManifest manifest, CancellationToken cancellationToken)
    {
        var rows = new List<DoctorRow>();
        if (!box.HasControlNet)
        {
            return rows;
        }

        var modules = recipes.Where(r => r.Identity is not null)
            .SelectMany(r => new[] { r.Identity!.Module, r.Identity.Keypoints?.Module }.OfType<string>().Select(m => (Module: m, Recipe: r.Name)))
            .GroupBy(x => x.Module, StringComparer.Ordinal);
        foreach (var group in modules)
        {
            var needers = group.Select(x => x.Recipe).Distinct().ToArray();
            var title = $"run {group.Key}";
            if (box.ResolveControlNetModule(group.Key) is not { } sent)
            {
                continue; // its module row is missing already
            }

            try
            {
                var answer = await client.DetectAsync(new ControlNetDetectRequest { ControlnetModule = sent, ControlnetInputImages = [face] }, cancellationToken);
                var what = answer.Tensor is { Count: > 0 } ? "an embedding (tensor)" : answer.Images is { Count: > 0 } ? "a map" : null;
                rows.Add(what is null
                    ? new(title, DoctorStatus.Warning, $"/controlnet/detect answered {answer.Info ?? "nothing"} but returned no tensor or image for the test face", "read the WebUI's log", needers)
                    : new(title, DoctorStatus.Ok, $"ran on the bundled test face: {what}", null, needers));
            }
            catch (WebUiApiException e)
            {
                var message = e.Detail ?? e.Message;
                var fix = message.Contains("insightface", StringComparison.OrdinalIgnoreCase) ? InsightFaceFix
                    : message.Contains("EVA02-CLIP", StringComparison.Ordinal) ? manifest.Extension("evaclip")!.InstallHint
                    : "read the WebUI's log for the preprocessor's traceback";
                rows.Add(new(title, DoctorStatus.Missing, $"the box answers {e.StatusCode}{(e.ErrorType is { } t ? $" {t}" : "")}: {message}", fix, needers));
            }
            catch (WebUiException e)
            {
                rows.Add(new(title, DoctorStatus.Missing, $"/controlnet/detect failed: {e.Message}", "read the WebUI's log", needers));
            }
        }

        return rows;
    }

    private static IEnumerable<(string Field, string Model, IdentityMethod Method, string Word, bool AnyCase)> Uses(IdentitySettings identity)
    {
        var (word, anyCase) = identity.Method switch
        {
            IdentityMethod.InstantId => ("instant_id", false),
            IdentityMethod.PuLid => ("pulid", true),
            IdentityMethod.FaceIdPortrait => ("portrait", false),
            _ => ("faceid", false),
        };
        if (identity.Method == IdentityMethod.FaceIdPortrait)
        {
            yield return ("identity.model", identity.Model, identity.Method, "faceid", false);
        }

        yield return ("identity.model", identity.Model, identity.Method, word, anyCase);
        if (identity.Keypoints is { } keypoints)
        {
            yield return ("identity.keypoints.model", keypoints.Model, identity.Method, "instant_id", true);
        }
    }

    private static bool IsIpAdapter(string model) =>
        model.StartsWith("ip-adapter", StringComparison.OrdinalIgnoreCase) || model.StartsWith("ip_adapter", StringComparison.OrdinalIgnoreCase);

    private static string Yaml(IdentityMethod method) => method switch
    {
        IdentityMethod.FaceId => "faceid",
        IdentityMethod.FaceIdPlus => "faceid_plus",
        IdentityMethod.FaceIdPortrait => "faceid_portrait",
        IdentityMethod.InstantId => "instantid",
        _ => "pulid",
    };

    private static string Example(IdentityMethod method, string field) => method switch
    {
        IdentityMethod.FaceId => "ip-adapter-faceid_sd15.bin",
        IdentityMethod.FaceIdPlus => "ip-adapter-faceid-plusv2_sd15.bin",
        IdentityMethod.FaceIdPortrait => "ip-adapter-faceid-portrait-v11_sd15.bin",
        IdentityMethod.InstantId when field.Contains("keypoints", StringComparison.Ordinal) => "control_instant_id_sdxl.safetensors",
        IdentityMethod.InstantId => "ip-adapter_instant_id_sdxl.bin",
        _ => "ip-adapter_pulid_sdxl_fp16.safetensors",
    };
}
