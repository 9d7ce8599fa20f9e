namespace Miaoya.Recipes;

/// <summary>Which pipeline a recipe drives.</summary>
public enum PipelineKind
{
    /// <summary><c>v1</c>: interrogate → mask → inpaint.</summary>
    V1,

    /// <summary><c>v2</c>: V1, then a whole-image img2img pass that evens out the face's colour.</summary>
    V2,

    /// <summary><c>v3</c>: interrogate → faceswap (local insightface inswapper) → whole-image img2img.</summary>
    V3,
}

/// <summary>The step names of the pipelines, in run order.</summary>
public static class StepName
{
    /// <summary>Reverse a prompt from the template photo with the WD14 tagger.</summary>
    public const string Interrogate = "interrogate";

    /// <summary>V3 only: swap the person's face photo into the template locally (insightface inswapper).</summary>
    public const string FaceSwap = "faceswap";

    /// <summary>V1/V2: build the face (or face and neck) mask.</summary>
    public const string Mask = "mask";

    /// <summary>V1/V2: img2img inpaint of the masked face on the template.</summary>
    public const string Inpaint = "inpaint";

    /// <summary>V2 and V3: whole-image img2img at low denoise.</summary>
    public const string Img2Img = "img2img";

    /// <summary>Optional, after the last step: the ID-photo finish (recipe <c>finish</c> section).</summary>
    public const string Finish = "finish";

    /// <summary>Recipes with an <c>identity</c> section, after interrogate: the person's face photos as aligned square crops for the identity unit.</summary>
    public const string Identity = "identity";

    /// <summary>Recipes with a <c>candidates</c> section, right after the first generation step: score each candidate's face and keep the best that passes.</summary>
    public const string Select = "select";

    /// <summary>Recipes with a <c>detail</c> section, after the generation steps: a face-detail inpaint of a small face at the model's native size.</summary>
    public const string Detail = "detail";

    /// <summary>Recipes with a <c>restore</c> section, after detail: CodeFormer or GFPGAN on the face region through the box's extras API.</summary>
    public const string Restore = "restore";

    /// <summary>Recipes with an <c>upscale</c> section, last before finish: the box's extras upscaler to a target long side.</summary>
    public const string Upscale = "upscale";
}

/// <summary>
/// Every number of one pipeline run, as read from a recipe file (plus <c>--set</c> overrides) and validated.
/// Value-equal: two recipes with the same values (and the same <see cref="SourcePath"/>) compare equal.
/// </summary>
public sealed record Recipe
{
    private static readonly IReadOnlyList<string> V1Steps = [StepName.Interrogate, StepName.Mask, StepName.Inpaint];
    private static readonly IReadOnlyList<string> V2Steps = [StepName.Interrogate, StepName.Mask, StepName.Inpaint, StepName.Img2Img];
    private static readonly IReadOnlyList<string> V3Steps = [StepName.Interrogate, StepName.FaceSwap, StepName.Img2Img];

    /// <summary>Recipe name (<c>name</c>), e.g. <c>v1-face</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Free text (<c>description</c>); null when absent.</summary>
    public string? Description { get; init; }

    /// <summary><c>pipeline</c>: v1, v2 or v3.</summary>
    public required PipelineKind Pipeline { get; init; }

    /// <summary>Checkpoint name (<c>base_model</c>), e.g. <c>chilloutmix_NiPrunedFp32Fix</c>.</summary>
    public required string BaseModel { get; init; }

    /// <summary>Where the recipe came from: the file path as given, or the source name passed to <see cref="RecipeLoader.Parse"/>.</summary>
    public required string SourcePath { get; init; }

    /// <summary>The <c>interrogate</c> step.</summary>
    public required InterrogateSettings Interrogate { get; init; }

    /// <summary>How the generation prompt (inpaint, img2img) is composed.</summary>
    public required PromptSettings Prompt { get; init; }

    /// <summary>The V3 local <c>faceswap</c> step; null for V1 and V2 (always set for V3).</summary>
    public FaceSwapSettings? FaceSwap { get; init; }

    /// <summary>The <c>mask</c> step; always set for V1 and V2, null for V3 (it has no mask step).</summary>
    public MaskSettings? Mask { get; init; }

    /// <summary>The <c>inpaint</c> step; always set for V1 and V2, null for V3 (it has no inpaint step).</summary>
    public GenerationSettings? Inpaint { get; init; }

    /// <summary>The whole-image <c>img2img</c> step; always set for V2 and V3, null for V1.</summary>
    public GenerationSettings? Img2Img { get; init; }

    /// <summary>The ID-photo <c>finish</c> run after the last step; null when the recipe has none.</summary>
    public FinishSettings? Finish { get; init; }

    /// <summary><c>model_family</c>: the family of <see cref="BaseModel"/> and every ControlNet model (sd15 when the recipe leaves it out).</summary>
    public ModelFamily ModelFamily { get; init; } = ModelFamily.Sd15;

    /// <summary>The <c>identity</c> section (an identity unit built from the person's face photos); null when the recipe has none.</summary>
    public IdentitySettings? Identity { get; init; }

    /// <summary>The <c>candidates</c> section (best-of-N by face similarity); null when the recipe has none.</summary>
    public CandidatesSettings? Candidates { get; init; }

    /// <summary>The <c>detail</c> section (face-detail pass for small faces); null when the recipe has none.</summary>
    public DetailSettings? Detail { get; init; }

    /// <summary>The <c>restore</c> section (face restoration on the box); null when the recipe has none.</summary>
    public RestoreSettings? Restore { get; init; }

    /// <summary>The <c>upscale</c> section (the box's upscaler); null when the recipe has none.</summary>
    public UpscaleSettings? Upscale { get; init; }

    /// <summary>
    /// The steps this recipe runs, in order: V1 interrogate, mask, inpaint; V2 adds img2img;
    /// V3 interrogate, faceswap, img2img. An <c>identity</c> section adds its step after interrogate, a <c>candidates</c>
    /// section adds <c>select</c> right after the first generation step; the finishing passes follow the generation steps in
    /// the order detail, restore, upscale (each when its section is there).
    /// </summary>
    public IReadOnlyList<string> StepNames
    {
        get
        {
            var steps = Pipeline switch
            {
                PipelineKind.V2 => V2Steps,
                PipelineKind.V3 => V3Steps,
                _ => V1Steps,
            };
            if (Identity is null && Candidates is null && Detail is null && Restore is null && Upscale is null)
            {
                return steps;
            }

            var list = steps.ToList();
            if (Identity is not null)
            {
                list.Insert(1, StepName.Identity);
            }

            if (Candidates is not null)
            {
                list.Insert(list.FindIndex(s => s is StepName.Inpaint or StepName.Img2Img) + 1, StepName.Select);
            }

            if (Detail is not null)
            {
                list.Add(StepName.Detail);
            }

            if (Restore is not null)
            {
                list.Add(StepName.Restore);
            }

            if (Upscale is not null)
            {
                list.Add(StepName.Upscale);
            }

            return list;
        }
    }

    /// <summary>The generation step that renders the candidates: the first one (inpaint, or V3's img2img).</summary>
    public string CandidateStep => Pipeline == PipelineKind.V3 ? StepName.Img2Img : StepName.Inpaint;
}
