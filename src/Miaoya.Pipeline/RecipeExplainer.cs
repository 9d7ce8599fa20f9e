using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>miaoya recipe explain</c>: the resolved plan of a recipe and the exact request bodies it would send, images elided,
/// without calling a WebUI. Names are resolved as a box of the chosen version would need them.
/// </summary>
public static class RecipeExplainer
{
    private static readonly string[] SplitSamplers =
    [
        "DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 2S a", "DPM++ 3M SDE", "Euler a", "Euler", "LMS", "Heun",
        "DPM2", "DPM2 a", "DPM fast", "DPM adaptive", "Restart", "DDIM", "PLMS", "UniPC", "LCM",
    ];

    private static readonly (string Name, string Label)[] Schedulers =
    [
        ("automatic", "Automatic"), ("uniform", "Uniform"), ("karras", "Karras"), ("exponential", "Exponential"), ("polyexponential", "Polyexponential"),
        ("sgm_uniform", "SGM Uniform"), ("kl_optimal", "KL Optimal"), ("align_your_steps", "Align Your Steps"), ("simple", "Simple"), ("normal", "Normal"),
        ("ddim", "DDIM"), ("beta", "Beta"),
    ];

    public static string Explain(Recipe recipe, EncodedImage template, LoraChoice? lora, IReadOnlyList<string> triggerWords, SamplerDialect dialect)
    {
        var (width, height, box, prompt, placeholders, templateRef) = Prepare(recipe, template, lora, triggerWords, dialect);
        var maskRef = Placeholder(placeholders, "<mask.png>");
        var inpaintRef = Placeholder(placeholders, "<inpaint.png>");
        IReadOnlyList<EncodedImage>? identity = recipe.Identity is null ? null : [Placeholder(placeholders, "<identity-1.png>")];
        var candidates = recipe.Candidates?.Count ?? 1;

        var text = new StringBuilder();
        var i = CultureInfo.InvariantCulture;
        text.AppendLine(i, $"recipe     {recipe.Name} ({recipe.Pipeline}) from {recipe.SourcePath}");
        text.AppendLine(i, $"template   {width}×{height} px; requests resolved for {box.WebUiVersion} (sampler names: {dialect})");
        text.AppendLine(i, $"steps      {string.Join(" → ", recipe.StepNames)}{(recipe.Finish is null ? "" : $" → {StepName.Finish}")}");
        text.AppendLine();
        text.AppendLine(i, $"1. interrogate  WD14 tagger {recipe.Interrogate.Model ?? "(the box's first model)"}, threshold {recipe.Interrogate.Threshold}, at most {recipe.Interrogate.MaxTags} tags{(recipe.Interrogate.DropRatings ? ", ratings dropped" : "")}");
        text.AppendLine(i, $"                 excluded (identity): {List(recipe.Interrogate.Exclude)}; always added: {List(recipe.Interrogate.Include)}");
        text.AppendLine(i, $"                 prompt: {prompt.Prompt}");
        text.AppendLine(i, $"                 negative: {prompt.NegativePrompt}");
        var number = 2;
        if (recipe.Identity is { } id)
        {
            text.AppendLine(i, $"{number++}. identity     locally: each --face photo (exactly one face) as a square, eye-levelled crop, {id.CropSize} px, margin {id.CropPadding} of the face -> <identity-N.png>");
            text.AppendLine(i, $"                 {RecipeYaml.Word(id.Method)}: {id.Module} + {id.Model} first on {string.Join(", ", id.Steps)}{(id.Keypoints is { } k ? $", then {k.Module} + {k.Model}" : "")}{(id.Lora is { } l ? $"; prompt gets <lora:{l}:{id.LoraWeight.ToString(i)}>" : "")}");
        }

        if (recipe.Mask is { } mask && recipe.Inpaint is not null)
        {
            text.AppendLine(i, $"{number++}. mask         {mask.Kind} from {mask.Source}{(mask.File is null ? "" : $" ({mask.File})")}, grow {mask.Grow}, feather {mask.Feather}{(mask.Kind == MaskKind.FaceNeck ? $", neck {mask.NeckLength} face heights" : "")}");
            var inpaint = PayloadBuilder.Inpaint(recipe, box, templateRef, maskRef, prompt, -1, width, height, identity, recipe.CandidateStep == StepName.Inpaint ? candidates : 1);
            text.AppendLine(i, $"{number++}. inpaint      POST /sdapi/v1/img2img");
            text.AppendLine(WebUiPayload.ToIndentedString(Elided(inpaint, placeholders)));
            number = Select(text, recipe, StepName.Inpaint, number);
        }

        if (recipe.FaceSwap is { } swap)
        {
            text.AppendLine(i, $"{number++}. faceswap     locally: insightface inswapper, detector {swap.Detector}, source face {swap.SourceFaceIndex?.ToString(i) ?? "largest"}, target face {swap.TargetFaceIndex?.ToString(i) ?? "largest"}, colour correction {(swap.ColourCorrection ? "on" : "off")} -> <faceswap.png>");
        }

        if (recipe.Img2Img is { } second)
        {
            var previous = recipe.FaceSwap is null ? inpaintRef : Placeholder(placeholders, "<faceswap.png>");
            var whole = PayloadBuilder.WholeImage(recipe, box, templateRef, previous, prompt, -1, width, height, identity, recipe.CandidateStep == StepName.Img2Img ? candidates : 1);
            var skip = second.SkipIfDeltaEBelow is { } t ? string.Create(i, $" (skipped when the face-vs-neck ΔE before it is under {t})") : "";
            text.AppendLine(i, $"{number}. img2img      POST /sdapi/v1/img2img{skip}");
            text.AppendLine(WebUiPayload.ToIndentedString(Elided(whole, placeholders)));
            number = Select(text, recipe, StepName.Img2Img, number + 1);
        }

        foreach (var (name, line, body) in Finishing(recipe, box, prompt, identity, placeholders))
        {
            text.AppendLine(i, $"{number++}. {name,-12} {line}");
            text.AppendLine(WebUiPayload.ToIndentedString(body));
        }

        if (recipe.Finish is { } finish)
        {
            var extras = (finish.Kb is { } kb ? string.Create(i, $", at most {kb} KB") : "") + (finish.Sheet == FinishSheet.None ? "" : $", print sheet {(finish.Sheet == FinishSheet.A4 ? "a4" : "6inch")}");
            var matte = finish.Background.Trim().Equals("keep", StringComparison.OrdinalIgnoreCase) ? "background kept" : $"POST /rembg (u2net_human_seg, return_mask) then background {finish.Background}";
            text.AppendLine(i, $"{number}. finish       ID photo {finish.Spec} at {finish.Dpi} dpi{extras}: eyes levelled and head placed by the local detector, {matte}, compliance verdict -> <{finish.Spec}-{finish.Dpi}dpi>, verdict.json");
        }

        // The same typed requirements the run's preflight checks, the fleet places each step's call by, and doctor reports.
        text.AppendLine();
        text.AppendLine("needs of a box (checked before the first call; miaoya doctor reports them per box):");
        foreach (var need in RecipeRequirements.Of(recipe, lora?.Name))
        {
            text.AppendLine(i, $"  {need.Kind,-17} {need.Name,-42} {need.Where} ({string.Join(", ", need.Steps)})");
        }

        return text.ToString();
    }

    /// <summary>
    /// What <c>recipe explain --json</c> prints: the recipe's steps, the request bodies the box would get (images elided
    /// to placeholders such as <c>&lt;template.png&gt;</c>, every other field as sent) and the needs of a box, without
    /// the prose of <see cref="Explain"/>.
    /// </summary>
    public static JsonObject ExplainJson(Recipe recipe, EncodedImage template, LoraChoice? lora, IReadOnlyList<string> triggerWords, SamplerDialect dialect)
    {
        var (width, height, box, prompt, placeholders, templateRef) = Prepare(recipe, template, lora, triggerWords, dialect);
        IReadOnlyList<EncodedImage>? identity = recipe.Identity is null ? null : [Placeholder(placeholders, "<identity-1.png>")];
        var candidates = recipe.Candidates?.Count ?? 1;
        var requests = new JsonArray();
        if (recipe.Mask is not null && recipe.Inpaint is not null)
        {
            var inpaint = PayloadBuilder.Inpaint(recipe, box, templateRef, Placeholder(placeholders, "<mask.png>"), prompt, -1, width, height, identity, recipe.CandidateStep == StepName.Inpaint ? candidates : 1);
            requests.Add(Request(StepName.Inpaint, Elided(inpaint, placeholders)));
        }

        if (recipe.Img2Img is not null)
        {
            var previous = Placeholder(placeholders, recipe.FaceSwap is null ? "<inpaint.png>" : "<faceswap.png>");
            var whole = PayloadBuilder.WholeImage(recipe, box, templateRef, previous, prompt, -1, width, height, identity, recipe.CandidateStep == StepName.Img2Img ? candidates : 1);
            requests.Add(Request(StepName.Img2Img, Elided(whole, placeholders)));
        }

        foreach (var (name, _, body) in Finishing(recipe, box, prompt, identity, placeholders))
        {
            requests.Add(Request(name, body, name == StepName.Detail ? "/sdapi/v1/img2img" : "/sdapi/v1/extra-single-image"));
        }

        return new JsonObject
        {
            ["recipe"] = recipe.Name,
            ["pipeline"] = recipe.Pipeline.ToString().ToLowerInvariant(),
            ["source"] = recipe.SourcePath,
            ["template"] = new JsonObject { ["width"] = width, ["height"] = height },
            ["webui_version"] = box.WebUiVersion,
            ["sampler_dialect"] = System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(dialect.ToString()),
            ["steps"] = new JsonArray([.. recipe.StepNames.Concat(recipe.Finish is null ? [] : [StepName.Finish]).Select(n => (JsonNode?)n)]),
            ["prompt"] = prompt.Prompt,
            ["negative_prompt"] = prompt.NegativePrompt,
            ["requests"] = requests,
            ["needs"] = new JsonArray([.. RecipeRequirements.Of(recipe, lora?.Name).Select(need => (JsonNode?)new JsonObject
            {
                ["kind"] = System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(need.Kind.ToString()),
                ["name"] = need.Name,
                ["where"] = need.Where,
                ["steps"] = new JsonArray([.. need.Steps.Select(st => (JsonNode?)st)]),
            })]),
        };

        static JsonObject Request(string step, JsonNode body, string path = "/sdapi/v1/img2img") => new()
        {
            ["step"] = step,
            ["method"] = "POST",
            ["path"] = path,
            ["body"] = body,
        };
    }

    /// <summary>The finishing passes the recipe has (detail, restore, upscale): each one's line of prose and the request it sends, images elided.</summary>
    private static IEnumerable<(string Name, string Line, JsonNode Body)> Finishing(
        Recipe recipe, WebUiCapabilities box, ComposedPrompt prompt, IReadOnlyList<EncodedImage>? identity, Dictionary<EncodedImage, string> placeholders)
    {
        var i = CultureInfo.InvariantCulture;
        if (recipe.Detail is { } detail)
        {
            var size = detail.Size ?? (recipe.ModelFamily == ModelFamily.Sdxl ? 1024 : 512);
            var request = PayloadBuilder.Detail(
                recipe, box, Placeholder(placeholders, "<detail-template.png>"), Placeholder(placeholders, "<detail-input.png>"), Placeholder(placeholders, "<detail-mask.png>"),
                prompt, -1, size, identity);
            yield return (StepName.Detail, string.Create(i, $"when the face box covers at most {detail.SkipIfFaceAbove * 100:0.#}% of the image: its square region (margin {detail.Padding} of the face) scaled to {size} px, POST /sdapi/v1/img2img, pasted back through the face mask -> <detail.png>"), Elided(request, placeholders));
        }

        if (recipe.Restore is { } restore)
        {
            var input = Placeholder(placeholders, "<restore-input.png>");
            var request = PayloadBuilder.Restore(restore, input);
            var skip = restore.SkipIfSharpnessAbove is { } t ? string.Create(i, $"; skipped when the face is at least {t} times as sharp as the template's") : "";
            yield return (StepName.Restore, string.Create(i, $"{RecipeRequirements.FaceRestorerName(restore.Model)} on the face region (margin {restore.Padding}), POST /sdapi/v1/extra-single-image, blended back at strength {restore.Strength}{skip} -> <restore.png>"), ElidedExtras(request, placeholders));
        }

        if (recipe.Upscale is { } upscale)
        {
            var request = PayloadBuilder.Upscale(upscale, Placeholder(placeholders, "<previous.png>"), 0);
            var body = ElidedExtras(request, placeholders);
            body["upscaling_resize"] = $"{upscale.LongSide} ÷ the longer side";
            yield return (StepName.Upscale, string.Create(i, $"{upscale.Upscaler} to a longer side of {upscale.LongSide} px, POST /sdapi/v1/extra-single-image (skipped when it is that long already) -> <upscale.png>"), body);
        }
    }

    private static JsonNode ElidedExtras(ExtrasSingleImageRequest request, Dictionary<EncodedImage, string> names)
    {
        var json = WebUiPayload.ToJsonNode(request);
        json["image"] = names[request.Image];
        return json;
    }

    /// <summary>What both explanations start from: the template's size, an offline box, the prompt with the tagger's tags as a placeholder, and the image placeholders.</summary>
    private static (int Width, int Height, WebUiCapabilities Box, ComposedPrompt Prompt, Dictionary<EncodedImage, string> Placeholders, EncodedImage Template) Prepare(
        Recipe recipe, EncodedImage template, LoraChoice? lora, IReadOnlyList<string> triggerWords, SamplerDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(template);
        var (width, height) = template.ReadSize();
        var tags = new WebUi.Tagger.TaggerResult(new Dictionary<string, double> { ["{tags from the tagger}"] = 1 }, new Dictionary<string, double>(), WebUi.Tagger.TaggerFlavor.Unknown);
        var placeholders = new Dictionary<EncodedImage, string>(ReferenceEqualityComparer.Instance);
        return (width, height, OfflineBox(recipe, lora, dialect), PromptComposer.Compose(tags, recipe, lora, triggerWords), placeholders, Placeholder(placeholders, "<template.png>"));
    }

    /// <summary>The <c>select</c> line after the step that renders the candidates; returns the next step number.</summary>
    private static int Select(StringBuilder text, Recipe recipe, string step, int number)
    {
        if (recipe.Candidates is not { } c || recipe.CandidateStep != step)
        {
            return number;
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"{number}. select       locally: the {c.Count} candidates' faces scored by {RecipeYaml.Word(c.Scorer)} against the centroid of the --face photos; the best with similarity >= {c.MinSimilarity} and ratio to the person's baseline >= {c.MinRatio} goes on -> <select.png>, candidates.html");
        return number + 1;
    }

    private static EncodedImage Placeholder(Dictionary<EncodedImage, string> names, string name)
    {
        var image = new EncodedImage(System.Text.Encoding.UTF8.GetBytes(name));
        names[image] = name;
        return image;
    }

    private static JsonNode Elided(Img2ImgRequest request, Dictionary<EncodedImage, string> names)
    {
        var json = WebUiPayload.ToJsonNode(request);
        var init = json["init_images"]!.AsArray();
        for (var k = 0; k < request.InitImages.Count; k++)
        {
            init[k] = names[request.InitImages[k]];
        }

        if (request.Mask is { } mask)
        {
            json["mask"] = names[mask];
        }

        var units = request.AlwaysOnScripts?.ControlNet?.Args ?? [];
        for (var k = 0; k < units.Count; k++)
        {
            if (units[k].Images.Count > 0)
            {
                json["alwayson_scripts"]!["controlnet"]!["args"]![k]!["image"] = new JsonArray(units[k].Images.Select(one => (JsonNode)new JsonObject { ["image"] = names[one] }).ToArray());
            }
            else if (units[k].Image is { } image)
            {
                json["alwayson_scripts"]!["controlnet"]!["args"]![k]!["image"] = names[image];
            }
        }

        return json;
    }

    private static string List(IReadOnlyList<string> items) => items.Count == 0 ? "none" : string.Join(", ", items);

    private static WebUiCapabilities OfflineBox(Recipe recipe, LoraChoice? lora, SamplerDialect dialect)
    {
        var samplers = dialect == SamplerDialect.Combined
            ? SplitSamplers.SelectMany(s => new[] { s, s + " Karras", s + " Exponential" })
            : SplitSamplers;
        return new WebUiCapabilities
        {
            BaseUrl = new Uri("http://offline.invalid/"),
            SamplerDialect = dialect,
            Samplers = samplers.Select(s => new SamplerInfo(s, [], null)).ToArray(),
            Schedulers = dialect == SamplerDialect.Combined ? [] : Schedulers.Select(s => new SchedulerInfo(s.Name, s.Label, null, null, null)).ToArray(),
            Checkpoints = [new SdModel(recipe.BaseModel, recipe.BaseModel, null, null, recipe.BaseModel, null)],
            Loras = lora is null ? [] : [new LoraInfo(lora.Name, lora.Name, null, null)],
            Embeddings = RecipeRequirements.EmbeddingReferences(recipe.Prompt.Negative).ToArray(),
            AlwaysOnScripts = ["controlnet"],
            Extensions = [],
            ControlNetApiVersion = dialect == SamplerDialect.Combined ? 2 : 3,
        };
    }
}
