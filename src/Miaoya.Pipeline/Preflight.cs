using System.Text.RegularExpressions;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Pipeline;

/// <summary>
/// Everything a recipe needs from a box, checked before the first generation: checkpoint, LoRA, embeddings, tagger,
/// ControlNet modules and models, sampler and scheduler. All problems are reported together.
/// </summary>
public static partial class Preflight
{
    /// <summary>Problems, each naming what is missing and where it would go on the box; empty when the run can start.</summary>
    public static IReadOnlyList<string> Check(Recipe recipe, WebUiCapabilities box, LoraChoice lora)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(lora);
        var problems = new List<string>();
        if (box.FindCheckpoint(recipe.BaseModel) is null)
        {
            problems.Add($"base_model: checkpoint \"{recipe.BaseModel}\" is not on the box (put it in models/Stable-diffusion and refresh); {NameMatcher.Suggest(recipe.BaseModel, box.Checkpoints.Select(c => c.Title))}.");
        }

        if (!box.Loras.Any(l => l.Name == lora.Name || l.Alias == lora.Name))
        {
            problems.Add($"--lora: LoRA \"{lora.Name}\" is not on the box (put it in models/Lora and refresh); {NameMatcher.Suggest(lora.Name, box.Loras.Select(l => l.Name))}.");
        }

        foreach (var embedding in EmbeddingReferences(recipe.Prompt.Negative).Where(e => !box.Embeddings.Contains(e)))
        {
            problems.Add($"prompt.negative: textual-inversion embedding \"{embedding}\" is not loaded on the box (put it in embeddings/); {NameMatcher.Suggest(embedding, box.Embeddings)}.");
        }

        if (!box.HasTagger)
        {
            problems.Add("interrogate: the WD14 tagger extension is not installed on the box.");
        }
        else if (recipe.Interrogate.Model is { } model && !box.TaggerModels.Contains(model))
        {
            problems.Add($"interrogate.model: tagger model \"{model}\" is not offered by the box; {NameMatcher.Suggest(model, box.TaggerModels)}.");
        }

        if (recipe.Mask?.Source == MaskSource.Openpose && !box.HasControlNet)
        {
            problems.Add("mask.source: openpose needs the ControlNet extension's /controlnet/detect, which the box lacks.");
        }

        if (recipe.Finish is { } finish && !finish.Background.Trim().Equals("keep", StringComparison.OrdinalIgnoreCase) && !box.HasRembg)
        {
            problems.Add($"finish.background: {finish.Background} needs the rembg extension (POST /rembg) to separate the person, which the box lacks; install stable-diffusion-webui-rembg or set finish.background: keep.");
        }

        // The generation steps: build each request with placeholder images and let the client's name check judge it.
        var blank = EncodedImage.FromBase64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
        var prompt = new ComposedPrompt($"<lora:{lora.Name}:1>", recipe.Prompt.Negative, [], []);
        if (recipe.Inpaint is not null)
        {
            problems.AddRange(box.Check(PayloadBuilder.Inpaint(recipe, box, blank, blank, prompt, 1, 64, 64))
                .Where(p => !p.StartsWith("prompt:", StringComparison.Ordinal) && !p.StartsWith("override_settings", StringComparison.Ordinal))
                .Select(p => $"inpaint: {p}"));
        }
        if (recipe.Img2Img is not null)
        {
            problems.AddRange(box.Check(PayloadBuilder.WholeImage(recipe, box, blank, blank, prompt, 1, 64, 64))
                .Where(p => !p.StartsWith("prompt:", StringComparison.Ordinal) && !p.StartsWith("override_settings", StringComparison.Ordinal))
                .Select(p => $"img2img: {p}"));
        }

        return problems.Distinct().ToArray();
    }

    /// <summary>The problems that concern one step's remote call (e.g. the tagger for <c>interrogate</c>, rembg for <c>finish</c>).</summary>
    public static IReadOnlyList<string> Check(Recipe recipe, WebUiCapabilities box, LoraChoice lora, string step) =>
        Check(recipe, box, lora).Where(p => Concerns(p, step)).ToArray();

    private static bool Concerns(string problem, string step) => step switch
    {
        StepName.Interrogate => problem.StartsWith("interrogate", StringComparison.Ordinal),
        StepName.Mask => problem.StartsWith("mask.", StringComparison.Ordinal),
        StepName.Finish => problem.StartsWith("finish.", StringComparison.Ordinal),
        StepName.Inpaint or StepName.Img2Img => problem.StartsWith(step + ":", StringComparison.Ordinal)
            || problem.StartsWith("base_model:", StringComparison.Ordinal)
            || problem.StartsWith("--lora:", StringComparison.Ordinal)
            || problem.StartsWith("prompt.negative:", StringComparison.Ordinal),
        _ => true,
    };

    /// <summary>
    /// Negative-prompt words that name textual-inversion embeddings: single tokens with a digit or underscore, such as
    /// ng_deepnegative_v1_75t or badhandv4 (plain words like "lowres" are prompt text, not files).
    /// </summary>
    public static IEnumerable<string> EmbeddingReferences(string negative) =>
        negative.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t.Trim('(', ')', '[', ']').Split(':')[0].Trim())
            .Where(t => EmbeddingLike().IsMatch(t))
            .Distinct(StringComparer.Ordinal);

    [GeneratedRegex(@"^(?=[A-Za-z0-9_\-.]*[0-9_])[A-Za-z][A-Za-z0-9_\-.]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EmbeddingLike();
}
