namespace Miaoya.Recipes;

/// <summary>One part of a recipe that runs a model licensed for non-commercial use only.</summary>
/// <param name="Where">The recipe field that asks for it (<c>pipeline</c>, <c>identity.method</c>, <c>candidates.scorer</c>).</param>
/// <param name="What">The models and their terms, in a sentence.</param>
public sealed record NonCommercialPart(string Where, string What);

/// <summary>
/// Which parts of a recipe run non-commercial models, so a commercial deployment (<c>MIAOYA_DISABLE_INSIGHTFACE=1</c>) can
/// refuse them all, not only V3's local face swap.
/// </summary>
public static class RecipeLicences
{
    /// <summary>The recipe's non-commercial parts; empty when it runs none.</summary>
    public static IReadOnlyList<NonCommercialPart> NonCommercial(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var parts = new List<NonCommercialPart>();
        if (recipe.Pipeline == PipelineKind.V3)
        {
            parts.Add(new("pipeline", "V3 swaps faces with insightface's inswapper_128, det_10g and w600k_r50, for non-commercial research only"));
        }

        if (recipe.Identity is { } identity)
        {
            // FaceID runs buffalo_l, InstantID and PuLID antelopev2 inside the box's ControlNet extension
            // (Mikubill/sd-webui-controlnet@56cec5b scripts/preprocessor/legacy/processor.py:647-757); InstantID's
            // checkpoints are "for research purposes only" (InstantID README) and FaceID's weights carry the same terms.
            var pack = identity.Method is IdentityMethod.InstantId or IdentityMethod.PuLid ? "antelopev2" : "buffalo_l";
            parts.Add(new("identity.method", $"the {RecipeYaml.Word(identity.Method)} unit runs insightface's {pack} on the box and its weights are for non-commercial research only"));
        }

        if (recipe.Candidates is { Scorer: ScorerChoice.ArcFace })
        {
            parts.Add(new("candidates.scorer", "the arcface scorer is insightface's w600k_r50, for non-commercial research only (use sface, Apache-2.0)"));
        }

        return parts;
    }
}
