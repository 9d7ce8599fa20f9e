namespace Miaoya.Recipes;

/// <summary>Which pipeline a recipe drives.</summary>
public enum PipelineKind
{
    /// <summary><c>v1</c>: interrogate → mask → inpaint.</summary>
    V1,

    /// <summary><c>v2</c>: V1, then a whole-image img2img pass that evens out the face's colour.</summary>
    V2,
}

/// <summary>The step names of the pipelines, in run order.</summary>
public static class StepName
{
    /// <summary>Reverse a prompt from the template photo with the WD14 tagger.</summary>
    public const string Interrogate = "interrogate";

    /// <summary>Build the face (or face and neck) mask.</summary>
    public const string Mask = "mask";

    /// <summary>img2img inpaint of the masked face on the template.</summary>
    public const string Inpaint = "inpaint";

    /// <summary>V2 only: whole-image img2img at low denoise.</summary>
    public const string Img2Img = "img2img";
}

/// <summary>
/// Every number of one pipeline run, as read from a recipe file (plus <c>--set</c> overrides) and validated.
/// Value-equal: two recipes with the same values (and the same <see cref="SourcePath"/>) compare equal.
/// </summary>
public sealed record Recipe
{
    private static readonly IReadOnlyList<string> V1Steps = [StepName.Interrogate, StepName.Mask, StepName.Inpaint];
    private static readonly IReadOnlyList<string> V2Steps = [StepName.Interrogate, StepName.Mask, StepName.Inpaint, StepName.Img2Img];

    /// <summary>Recipe name (<c>name</c>), e.g. <c>v1-face</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Free text (<c>description</c>); null when absent.</summary>
    public string? Description { get; init; }

    /// <summary><c>pipeline</c>: v1 or v2.</summary>
    public required PipelineKind Pipeline { get; init; }

    /// <summary>Checkpoint name (<c>base_model</c>), e.g. <c>chilloutmix_NiPrunedFp32Fix</c>.</summary>
    public required string BaseModel { get; init; }

    /// <summary>Where the recipe came from: the file path as given, or the source name passed to <see cref="RecipeLoader.Parse"/>.</summary>
    public required string SourcePath { get; init; }

    /// <summary>The <c>interrogate</c> step.</summary>
    public required InterrogateSettings Interrogate { get; init; }

    /// <summary>How the inpaint prompt is composed.</summary>
    public required PromptSettings Prompt { get; init; }

    /// <summary>The <c>mask</c> step.</summary>
    public required MaskSettings Mask { get; init; }

    /// <summary>The <c>inpaint</c> step.</summary>
    public required GenerationSettings Inpaint { get; init; }

    /// <summary>The V2 whole-image <c>img2img</c> step; null for V1.</summary>
    public GenerationSettings? Img2Img { get; init; }

    /// <summary>The steps this recipe runs, in order: interrogate, mask, inpaint[, img2img].</summary>
    public IReadOnlyList<string> StepNames => Pipeline == PipelineKind.V2 ? V2Steps : V1Steps;
}
