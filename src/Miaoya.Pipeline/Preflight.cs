using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Pipeline;

/// <summary>One thing a box lacks that a recipe's run needs: the typed requirement and what is wrong, with how to fix it.</summary>
public sealed record PreflightProblem(Requirement Requirement, string Message)
{
    /// <summary>The recipe field (or run input) that asks for it.</summary>
    public string Field => Requirement.Where;

    /// <summary>As a box problem for the fleet's placement (the LoRA marked as a run's input).</summary>
    public BoxProblem ToBoxProblem() => new(Field, Message, IsInput: Requirement.Kind == RequirementKind.Lora && Requirement.Where is "--lora" or BoxCalls.PersonLoraField);

    /// <inheritdoc />
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// Everything a recipe needs from a box (<see cref="RecipeRequirements"/>: checkpoint, LoRA, embeddings, tagger,
/// ControlNet modules, models and unit slots, sampler and scheduler, rembg), checked against a box's probed capabilities
/// before the first generation and before each step's call is placed. All problems are reported together, each typed.
/// </summary>
public static class Preflight
{
    /// <summary>What the box lacks for the recipe (and <paramref name="lora"/>, when given); empty when the run can start.</summary>
    public static IReadOnlyList<PreflightProblem> Check(Recipe recipe, WebUiCapabilities box, LoraChoice? lora)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(box);
        return RecipeRequirements.Of(recipe, lora?.Name)
            .Select(r => Problem(r, box) is { } message ? new PreflightProblem(r, message) : null)
            .OfType<PreflightProblem>()
            .ToArray();
    }

    /// <summary>What the box lacks for one step's call: the requirements of that step only.</summary>
    public static IReadOnlyList<PreflightProblem> Check(Recipe recipe, WebUiCapabilities box, LoraChoice? lora, string step) =>
        Check(recipe, box, lora).Where(p => p.Requirement.Steps.Contains(step, StringComparer.Ordinal)).ToArray();

    /// <summary>What is wrong with one requirement on the box, or null when the box has it.</summary>
    public static string? Problem(Requirement requirement, WebUiCapabilities box)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        ArgumentNullException.ThrowIfNull(box);
        var name = requirement.Name;
        return requirement.Kind switch
        {
            RequirementKind.Tagger => box.HasTagger ? null : "the WD14 tagger extension is not installed on the box.",
            RequirementKind.TaggerModel => !box.HasTagger || box.TaggerModels.Contains(name, StringComparer.Ordinal)
                ? null
                : $"tagger model \"{name}\" is not offered by the box; {NameMatcher.Suggest(name, box.TaggerModels)}.",
            RequirementKind.ControlNet => ControlNetProblem(requirement, box),
            RequirementKind.ControlNetUnits => !box.HasControlNet || int.Parse(name, System.Globalization.CultureInfo.InvariantCulture) <= box.ControlNetUnitCount
                ? null
                : $"{name} ControlNet units enabled, the box has {box.ControlNetUnitCount} unit slots (the rest would be dropped silently); raise Settings → ControlNet → \"Multi-ControlNet: ControlNet unit number\" (control_net_unit_count) and restart the WebUI.",
            RequirementKind.ControlNetModule => !box.HasControlNet || box.ResolveControlNetModule(name) is not null
                ? null
                : name == RecipeRequirements.EvaClipModule
                    ? $"PuLID runs the {name} preprocessor, which only the sd-webui-controlnet-evaclip extension provides (huchenlei/sd-webui-controlnet-evaclip, about 800 MB of model); without it every PuLID unit fails (sd-webui-controlnet scripts/preprocessor/pulid.py:154-156). Install it and restart the WebUI."
                    : box.ModuleProblem(name),
            RequirementKind.ControlNetModel => !box.HasControlNet || box.FindControlNetModel(name) is not null
                ? null
                : $"ControlNet model \"{name}\" is not on the box (put it in models/ControlNet and refresh); {NameMatcher.Suggest(name, box.ControlNetModels.Where(m => m != "None"))}.",
            RequirementKind.Checkpoint => box.FindCheckpoint(name) is not null
                ? null
                : $"checkpoint \"{name}\" is not on the box (put it in models/Stable-diffusion and refresh); {NameMatcher.Suggest(name, box.Checkpoints.Select(c => c.Title))}.",
            RequirementKind.Lora => box.Loras.Any(l => l.Name == name || l.Alias == name)
                ? null
                : $"LoRA \"{name}\" is not on the box (put it in models/Lora and refresh); {NameMatcher.Suggest(name, box.Loras.Select(l => l.Name))}.",
            RequirementKind.Embedding => box.Embeddings.Contains(name, StringComparer.Ordinal)
                ? null
                : $"textual-inversion embedding \"{name}\" is not loaded on the box (put it in embeddings/); {NameMatcher.Suggest(name, box.Embeddings)}.",
            RequirementKind.Sampler => SamplerProblem(name, box),
            RequirementKind.Rembg => box.HasRembg
                ? null
                : "replacing the background needs the rembg extension (POST /rembg) to separate the person, which the box lacks; install stable-diffusion-webui-rembg or set finish.background: keep.",
            RequirementKind.Upscaler => box.Upscalers.Contains(name, StringComparer.Ordinal)
                ? null
                : $"upscaler \"{name}\" is not offered by the box (GET /sdapi/v1/upscalers); {NameMatcher.Suggest(name, box.Upscalers.Where(u => u != "None"))}.",
            RequirementKind.FaceRestorer => box.FaceRestorers.Contains(name, StringComparer.Ordinal)
                ? null
                : box.FaceRestorers.Count == 0
                    ? $"the box lists no face restorers (GET /sdapi/v1/face-restorers); {name} needs its model in models/{name} on the box."
                    : $"face restorer {name} is not offered by the box (it has {string.Join(", ", box.FaceRestorers)}); set restore.model to one of them.",
            _ => null,
        };
    }

    /// <summary>
    /// The extension's API, and for units in a generation its always-on script: an API that answers while the script is not
    /// registered (the extension failed to load) would make the box answer 422 to every request with units.
    /// </summary>
    private static string? ControlNetProblem(Requirement requirement, WebUiCapabilities box)
    {
        if (box.ControlNetAbsence is { } absence)
        {
            return requirement.Where == "mask.source"
                ? $"openpose needs ControlNet's /controlnet/detect, which the box lacks: {absence}"
                : absence;
        }

        var units = requirement.Steps.Any(s => s is StepName.Inpaint or StepName.Img2Img or StepName.Detail);
        return units && !box.AlwaysOnScripts.Contains("controlnet", StringComparer.OrdinalIgnoreCase)
            ? "the ControlNet API answers but its always-on script is not registered (alwayson_scripts.controlnet; the extension failed to load?): restart the WebUI and read its log."
            : null;
    }

    private static string? SamplerProblem(string name, WebUiCapabilities box)
    {
        var parts = name.Split('|', 2);
        try
        {
            box.ResolveSampler(parts[0], parts.Length > 1 ? parts[1] : null);
            return null;
        }
        catch (WebUiRequestException e)
        {
            return string.Join(" ", e.Problems);
        }
    }
}
