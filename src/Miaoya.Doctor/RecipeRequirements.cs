using Miaoya.Pipeline;
using Miaoya.Recipes;

namespace Miaoya.Doctor;

/// <summary>What a recipe needs from a box.</summary>
public enum RequirementKind
{
    /// <summary>The tagger extension (every recipe interrogates).</summary>
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

    /// <summary>A textual-inversion embedding named in the negative prompt.</summary>
    Embedding,

    /// <summary>A sampler, with its scheduler when the recipe names one.</summary>
    Sampler,
}

/// <summary>One thing a recipe needs; <see cref="Name"/> is the name the recipe writes (or the unit count).</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Name">Its name as the recipe writes it; for samplers "SAMPLER" or "SAMPLER|SCHEDULER".</param>
/// <param name="Where">Recipe fields that name it, e.g. inpaint.controlnet.softedge.model.</param>
public sealed record Requirement(RequirementKind Kind, string Name, string Where);

/// <summary>Derives from a recipe everything it needs of a box (the same things <see cref="Preflight"/> checks).</summary>
public static class RecipeRequirements
{
    /// <summary>The requirements of one recipe, in check order.</summary>
    public static IReadOnlyList<Requirement> Of(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var list = new List<Requirement>
        {
            new(RequirementKind.Tagger, "tagger", "interrogate"),
        };
        if (recipe.Interrogate.Model is { } taggerModel)
        {
            list.Add(new(RequirementKind.TaggerModel, taggerModel, "interrogate.model"));
        }

        var steps = new[] { ("inpaint", recipe.Inpaint), ("img2img", recipe.Img2Img) }.Where(s => s.Item2 is not null).ToList();
        var units = steps.SelectMany(s => s.Item2!.ControlNet.Where(u => u.Enabled).Select(u => (Step: s.Item1, Unit: u))).ToList();
        if (units.Count > 0 || recipe.Mask?.Source == MaskSource.Openpose)
        {
            list.Add(new(RequirementKind.ControlNet, "controlnet", units.Count > 0 ? $"{units[0].Step}.controlnet" : "mask.source"));
        }

        foreach (var (step, settings) in steps)
        {
            var enabled = settings!.ControlNet.Count(u => u.Enabled);
            if (enabled > 0)
            {
                list.Add(new(RequirementKind.ControlNetUnits, enabled.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{step}.controlnet"));
            }
        }

        foreach (var (step, unit) in units)
        {
            list.Add(new(RequirementKind.ControlNetModule, unit.Module, $"{step}.controlnet.{unit.Key}.module"));
            if (!unit.IsModelFree && unit.Model != "None")
            {
                list.Add(new(RequirementKind.ControlNetModel, unit.Model, $"{step}.controlnet.{unit.Key}.model"));
            }
        }

        list.Add(new(RequirementKind.Checkpoint, recipe.BaseModel, "base_model"));
        list.AddRange(Preflight.EmbeddingReferences(recipe.Prompt.Negative).Select(e => new Requirement(RequirementKind.Embedding, e, "prompt.negative")));
        foreach (var (step, settings) in steps)
        {
            var name = settings!.Scheduler is { } scheduler ? $"{settings.Sampler}|{scheduler}" : settings.Sampler;
            list.Add(new(RequirementKind.Sampler, name, $"{step}.sampler"));
        }

        return list;
    }
}
