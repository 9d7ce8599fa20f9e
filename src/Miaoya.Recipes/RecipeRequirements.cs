using System.Globalization;
using System.Text.RegularExpressions;

namespace Miaoya.Recipes;

/// <summary>What a recipe (or a run of it) needs from a WebUI box.</summary>
public enum RequirementKind
{
    /// <summary>The WD14 tagger extension (every recipe interrogates).</summary>
    Tagger,

    /// <summary>A tagger model named by <c>interrogate.model</c>.</summary>
    TaggerModel,

    /// <summary>The ControlNet extension.</summary>
    ControlNet,

    /// <summary>A ControlNet preprocessor.</summary>
    ControlNetModule,

    /// <summary>A ControlNet model file.</summary>
    ControlNetModel,

    /// <summary>As many ControlNet unit slots as a step enables units.</summary>
    ControlNetUnits,

    /// <summary>The checkpoint (<c>base_model</c>).</summary>
    Checkpoint,

    /// <summary>The person's face LoRA (given with each run, not in the recipe).</summary>
    Lora,

    /// <summary>A textual-inversion embedding named in the negative prompt.</summary>
    Embedding,

    /// <summary>A sampler, with its scheduler when the recipe names one.</summary>
    Sampler,

    /// <summary>The rembg extension (an ID-photo finish that replaces the background).</summary>
    Rembg,

    /// <summary>An extras upscaler (<c>upscale.upscaler</c>), by its name in <c>GET /sdapi/v1/upscalers</c>.</summary>
    Upscaler,

    /// <summary>A face restorer (<c>restore.model</c>), by its name in <c>GET /sdapi/v1/face-restorers</c>.</summary>
    FaceRestorer,
}

/// <summary>One thing a recipe needs of a box.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Name">Its name as the recipe writes it; for samplers "SAMPLER" or "SAMPLER|SCHEDULER"; for unit slots the count.</param>
/// <param name="Where">The recipe field (or run input, <c>--lora</c>) that asks for it, e.g. inpaint.controlnet.softedge.model.</param>
/// <param name="Steps">The steps whose calls need it (<see cref="StepName"/>).</param>
public sealed record Requirement(RequirementKind Kind, string Name, string Where, IReadOnlyList<string> Steps);

/// <summary>
/// Everything a recipe needs of a box, typed once: the run's preflight checks these against a box, the fleet places each
/// step's call on a box that meets that step's, and <c>miaoya doctor</c> reports them per box.
/// </summary>
public static partial class RecipeRequirements
{
    /// <summary>The requirements of one recipe, in check order; with <paramref name="lora"/>, the person's LoRA too.</summary>
    public static IReadOnlyList<Requirement> Of(Recipe recipe, string? lora = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var list = new List<Requirement> { new(RequirementKind.Tagger, "tagger", "interrogate", [StepName.Interrogate]) };
        if (recipe.Interrogate.Model is { } taggerModel)
        {
            list.Add(new(RequirementKind.TaggerModel, taggerModel, "interrogate.model", [StepName.Interrogate]));
        }

        var steps = new[] { (Name: StepName.Inpaint, Settings: recipe.Inpaint), (Name: StepName.Img2Img, Settings: recipe.Img2Img), (Name: StepName.Detail, Settings: recipe.Detail?.Generation) }
            .Where(s => s.Settings is not null).Select(s => (s.Name, Settings: s.Settings!)).ToList();
        var generation = steps.Select(s => s.Name).ToArray();
        var units = steps.SelectMany(s => s.Settings.ControlNet.Where(u => u.Enabled).Select(u => (Step: s.Name, Unit: u))).ToList();
        var openpose = recipe.Mask?.Source == MaskSource.Openpose;
        if (units.Count > 0 || openpose)
        {
            string[] needing = [.. openpose ? [StepName.Mask] : Array.Empty<string>(), .. units.Select(u => u.Step).Distinct()];
            list.Add(new(RequirementKind.ControlNet, "controlnet", units.Count > 0 ? $"{units[0].Step}.controlnet" : "mask.source", needing));
        }

        var identity = recipe.Identity;
        if (identity is not null && units.Count == 0 && !openpose)
        {
            list.Add(new(RequirementKind.ControlNet, "controlnet", StepName.Identity, identity.Steps));
        }

        foreach (var (step, settings) in steps)
        {
            var enabled = settings.ControlNet.Count(u => u.Enabled) + (identity?.Steps.Contains(step) == true ? identity.UnitCount : 0);
            if (enabled > 0)
            {
                list.Add(new(RequirementKind.ControlNetUnits, enabled.ToString(CultureInfo.InvariantCulture), $"{step}.controlnet", [step]));
            }
        }

        foreach (var (step, unit) in units)
        {
            list.Add(new(RequirementKind.ControlNetModule, unit.Module, $"{step}.controlnet.{unit.Key}.module", [step]));
            if (!unit.IsModelFree && unit.Model != "None")
            {
                list.Add(new(RequirementKind.ControlNetModel, unit.Model, $"{step}.controlnet.{unit.Key}.model", [step]));
            }
        }

        if (identity is not null)
        {
            list.Add(new(RequirementKind.ControlNetModule, identity.Module, "identity.module", identity.Steps));
            list.Add(new(RequirementKind.ControlNetModel, identity.Model, "identity.model", identity.Steps));
            if (identity.Keypoints is { } keypoints)
            {
                list.Add(new(RequirementKind.ControlNetModule, keypoints.Module, "identity.keypoints.module", identity.Steps));
                list.Add(new(RequirementKind.ControlNetModel, keypoints.Model, "identity.keypoints.model", identity.Steps));
            }

            if (identity.Method == IdentityMethod.PuLid)
            {
                list.Add(new(RequirementKind.ControlNetModule, EvaClipModule, "identity.method", identity.Steps));
            }
        }

        list.Add(new(RequirementKind.Checkpoint, recipe.BaseModel, "base_model", generation));
        if (lora is not null)
        {
            list.Add(new(RequirementKind.Lora, lora, "--lora", generation));
        }

        if (identity?.Lora is { } companion)
        {
            list.Add(new(RequirementKind.Lora, companion, "identity.lora", identity.Steps));
        }

        // A LoRA written into the positive text (a template's style LoRA) must be on the box too: the WebUI skips an unknown
        // one with only a console warning (extensions-builtin/Lora/networks.py, "Couldn't find Lora with name ..."), so the
        // run would quietly lose its style.
        list.AddRange(LoraReferences(recipe.Prompt.Positive).Where(l => l != lora && l != identity?.Lora).Select(l => new Requirement(RequirementKind.Lora, l, "prompt.positive", generation)));
        list.AddRange(EmbeddingReferences(recipe.Prompt.Negative).Select(e => new Requirement(RequirementKind.Embedding, e, "prompt.negative", generation)));
        foreach (var (step, settings) in steps)
        {
            var name = settings.Scheduler is { } scheduler ? $"{settings.Sampler}|{scheduler}" : settings.Sampler;
            list.Add(new(RequirementKind.Sampler, name, $"{step}.sampler", [step]));
        }

        if (recipe.Finish is { } finish && !finish.Background.Trim().Equals("keep", StringComparison.OrdinalIgnoreCase))
        {
            list.Add(new(RequirementKind.Rembg, "rembg", "finish.background", [StepName.Finish]));
        }

        if (recipe.Restore is { } restore)
        {
            list.Add(new(RequirementKind.FaceRestorer, FaceRestorerName(restore.Model), "restore.model", [StepName.Restore]));
        }

        if (recipe.Upscale is { } upscale)
        {
            list.Add(new(RequirementKind.Upscaler, upscale.Upscaler, "upscale.upscaler", [StepName.Upscale]));
        }

        return list;
    }

    /// <summary>The restorer's name as the box lists it (A1111 modules/codeformer_model.py and gfpgan_model.py: name() returns "CodeFormer", "GFPGAN").</summary>
    public static string FaceRestorerName(FaceRestorerKind kind) => kind == FaceRestorerKind.Gfpgan ? "GFPGAN" : "CodeFormer";

    /// <summary>
    /// The preprocessor PuLID runs inside its own (scripts/preprocessor/pulid.py:154-156), listed only where the separate
    /// sd-webui-controlnet-evaclip extension is installed.
    /// </summary>
    public const string EvaClipModule = "EVA02-CLIP-L-14-336";

    /// <summary>
    /// Negative-prompt words that name textual-inversion embeddings: single tokens with a digit or underscore, such as
    /// ng_deepnegative_v1_75t or badhandv4 (plain words like "lowres" are prompt text, not files).
    /// </summary>
    public static IEnumerable<string> EmbeddingReferences(string negative)
    {
        ArgumentNullException.ThrowIfNull(negative);
        return negative.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t.Trim('(', ')', '[', ']').Split(':')[0].Trim())
            .Where(t => EmbeddingLike().IsMatch(t))
            .Distinct(StringComparer.Ordinal);
    }

    /// <summary>The LoRA names of <c>&lt;lora:NAME:WEIGHT&gt;</c> tags in prompt text (A1111's extra-network syntax).</summary>
    public static IEnumerable<string> LoraReferences(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return LoraTag().Matches(prompt).Select(m => m.Groups[1].Value.Trim()).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"<lora:([^:<>]+)(?::[^<>]*)?>", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex LoraTag();

    [GeneratedRegex(@"^(?=[A-Za-z0-9_\-.]*[0-9_])[A-Za-z][A-Za-z0-9_\-.]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EmbeddingLike();
}
