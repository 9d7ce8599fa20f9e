namespace Miaoya.Recipes;

/// <summary>
/// The <c>interrogate</c> step: WD14 tagger options and which tags reach the prompt.
/// </summary>
/// <param name="Model">Tagger model; null = the box's first tagger model.</param>
/// <param name="Threshold">Minimum tag confidence, 0..1.</param>
/// <param name="Exclude">Tags never put in the prompt (identity tags such as hair and eye colour, so the LoRA decides the face).</param>
/// <param name="Include">Tags always put in the prompt, after the tagger's tags.</param>
/// <param name="MaxTags">At most this many tagger tags are kept (strongest first).</param>
/// <param name="DropRatings">Drop the tagger's rating tags (general, sensitive, ...).</param>
public sealed record InterrogateSettings(
    string? Model, double Threshold, IReadOnlyList<string> Exclude, IReadOnlyList<string> Include, int MaxTags, bool DropRatings = true)
{
    /// <inheritdoc />
    public bool Equals(InterrogateSettings? other) =>
        other is not null
        && Model == other.Model
        && Threshold.Equals(other.Threshold)
        && Exclude.SequenceEqual(other.Exclude, StringComparer.Ordinal)
        && Include.SequenceEqual(other.Include, StringComparer.Ordinal)
        && MaxTags == other.MaxTags
        && DropRatings == other.DropRatings;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Model, Threshold, Exclude.Count, Include.Count, MaxTags, DropRatings);
}

/// <summary>How the inpaint prompt is composed around the tagger's tags and the person's LoRA.</summary>
/// <param name="LoraWeight">Weight in <c>&lt;lora:NAME:WEIGHT&gt;</c>, 0..2 (the command line may override it per person).</param>
/// <param name="FaceWords">Face-feature words appended after the LoRA and its trigger words.</param>
/// <param name="Positive">Extra positive text appended last; may be empty.</param>
/// <param name="Negative">Negative prompt, textual-inversion embeddings included.</param>
public sealed record PromptSettings(double LoraWeight, IReadOnlyList<string> FaceWords, string Positive, string Negative)
{
    /// <inheritdoc />
    public bool Equals(PromptSettings? other) =>
        other is not null
        && LoraWeight.Equals(other.LoraWeight)
        && FaceWords.SequenceEqual(other.FaceWords, StringComparer.Ordinal)
        && Positive == other.Positive
        && Negative == other.Negative;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(LoraWeight, FaceWords.Count, Positive, Negative);
}

/// <summary>The V3 <c>faceswap</c> step: the orchestrator swaps the person's face photo into the template locally (insightface inswapper).</summary>
/// <param name="Detector">Face detector that finds the faces in the face photo and the template.</param>
/// <param name="SourceFaceIndex">Which face of the person's face photo to take, 0-based, faces ordered by size (largest first, then detector score); null = the largest face.</param>
/// <param name="TargetFaceIndex">Which face of the template to replace, 0-based in the same order; null = the largest face.</param>
/// <param name="ColourCorrection">Match the pasted face's skin to the template's (Lab mean/std transfer); off by default.</param>
public sealed record FaceSwapSettings(FaceSwapDetector Detector, int? SourceFaceIndex, int? TargetFaceIndex, bool ColourCorrection);

/// <summary>The face detector of the V3 faceswap step. YAML: <c>scrfd</c> | <c>blazeface</c>.</summary>
public enum FaceSwapDetector
{
    /// <summary><c>scrfd</c>: insightface's SCRFD detector (the default).</summary>
    Scrfd,

    /// <summary><c>blazeface</c>: MediaPipe BlazeFace.</summary>
    BlazeFace,
}

/// <summary>The <c>mask</c> step.</summary>
/// <param name="Kind">face or face_neck.</param>
/// <param name="Source">Where the face outline comes from.</param>
/// <param name="Grow">Extra margin on each side, as a fraction of the face size (0..2).</param>
/// <param name="Feather">Width of the soft edge, as a fraction of the face size (0..1); 0 = hard edge.</param>
/// <param name="NeckLength">face_neck only: how far the mask reaches below the chin, in face heights (0..3).</param>
/// <param name="File">Source file only: the mask image (white = repaint), used as written (a relative path is taken from the working directory); null otherwise.</param>
public sealed record MaskSettings(MaskKind Kind, MaskSource Source, double Grow, double Feather, double NeckLength, string? File);

/// <summary>What the mask covers. YAML: <c>face</c> | <c>face_neck</c>.</summary>
public enum MaskKind
{
    /// <summary><c>face</c>.</summary>
    Face,

    /// <summary><c>face_neck</c>.</summary>
    FaceNeck,
}

/// <summary>Where the face outline comes from. YAML: <c>detector</c> | <c>openpose</c> | <c>file</c>.</summary>
public enum MaskSource
{
    /// <summary><c>detector</c>: the local face detector.</summary>
    Detector,

    /// <summary><c>openpose</c>: the box's ControlNet openpose_faceonly detect.</summary>
    Openpose,

    /// <summary><c>file</c>: a mask image given in <c>mask.file</c>.</summary>
    File,
}

/// <summary>One img2img generation step (<c>inpaint</c>, or the V2/V3 whole-image <c>img2img</c> pass).</summary>
public sealed record GenerationSettings
{
    /// <summary>Sampler name, e.g. <c>DPM++ SDE Karras</c> (a combined name is split by the client on WebUI 1.9+).</summary>
    public required string Sampler { get; init; }

    /// <summary>Scheduler (WebUI 1.9+); null = from the sampler name or the box's automatic choice.</summary>
    public string? Scheduler { get; init; }

    /// <summary>Sampling steps, 1..150.</summary>
    public required int Steps { get; init; }

    /// <summary>CFG scale, 1..30.</summary>
    public required double CfgScale { get; init; }

    /// <summary>Denoising strength, 0..1.</summary>
    public required double DenoisingStrength { get; init; }

    /// <summary>Output width; null = the template's width.</summary>
    public int? Width { get; init; }

    /// <summary>Output height; null = the template's height.</summary>
    public int? Height { get; init; }

    /// <summary>Inpaint only (≥ 16); the img2img pass has no mask and keeps the WebUI default 4.</summary>
    public int MaskBlur { get; init; } = RecipeDefaults.Img2ImgMaskBlur;

    /// <summary>Inpaint only: what fills the masked area before denoising.</summary>
    public InpaintingFillKind InpaintingFill { get; init; } = InpaintingFillKind.Original;

    /// <summary>Inpaint only: whole picture or only the masked area at full resolution.</summary>
    public InpaintArea InpaintArea { get; init; } = InpaintArea.WholePicture;

    /// <summary>Inpaint only: padding in pixels around the masked area when <see cref="InpaintArea"/> is only_masked.</summary>
    public int InpaintPadding { get; init; } = RecipeDefaults.InpaintPadding;

    /// <summary>
    /// img2img only: skip this pass when the face-vs-neck ΔE of the image it starts from (V2: the inpaint result;
    /// V3: the face-swap result) is already below this value; null = never skip.
    /// </summary>
    public double? SkipIfDeltaEBelow { get; init; }

    /// <summary>ControlNet units in file order (disabled ones included; see <see cref="ControlNetUnitSettings.Enabled"/>).</summary>
    public IReadOnlyList<ControlNetUnitSettings> ControlNet { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(GenerationSettings? other) =>
        other is not null
        && Sampler == other.Sampler
        && Scheduler == other.Scheduler
        && Steps == other.Steps
        && CfgScale.Equals(other.CfgScale)
        && DenoisingStrength.Equals(other.DenoisingStrength)
        && Width == other.Width
        && Height == other.Height
        && MaskBlur == other.MaskBlur
        && InpaintingFill == other.InpaintingFill
        && InpaintArea == other.InpaintArea
        && InpaintPadding == other.InpaintPadding
        && SkipIfDeltaEBelow.Equals(other.SkipIfDeltaEBelow)
        && ControlNet.SequenceEqual(other.ControlNet);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Sampler, Steps, CfgScale, DenoisingStrength, MaskBlur, ControlNet.Count);
}

/// <summary>img2img <c>inpainting_fill</c>. YAML: <c>fill</c> | <c>original</c> | <c>latent_noise</c> | <c>latent_nothing</c>.</summary>
public enum InpaintingFillKind
{
    /// <summary><c>fill</c> (0).</summary>
    Fill,

    /// <summary><c>original</c> (1).</summary>
    Original,

    /// <summary><c>latent_noise</c> (2).</summary>
    LatentNoise,

    /// <summary><c>latent_nothing</c> (3).</summary>
    LatentNothing,
}

/// <summary>img2img inpaint area. YAML: <c>whole_picture</c> | <c>only_masked</c> (inpaint_full_res).</summary>
public enum InpaintArea
{
    /// <summary><c>whole_picture</c>.</summary>
    WholePicture,

    /// <summary><c>only_masked</c>.</summary>
    OnlyMasked,
}

/// <summary>One ControlNet unit of a step, keyed by its name in the recipe (e.g. <c>softedge</c>).</summary>
/// <param name="Key">The unit's key in the recipe's <c>controlnet</c> map.</param>
/// <param name="Enabled">False keeps the unit in the recipe but out of the request.</param>
/// <param name="Module">Preprocessor, e.g. <c>softedge_pidinet</c>.</param>
/// <param name="Model">ControlNet model; <c>None</c> for reference_* modules.</param>
/// <param name="Weight">0..2.</param>
/// <param name="GuidanceStart">0..1, ≤ <paramref name="GuidanceEnd"/>.</param>
/// <param name="GuidanceEnd">0..1.</param>
/// <param name="ControlMode">balanced, prompt or controlnet.</param>
/// <param name="ResizeMode">just_resize, crop_and_resize or resize_and_fill.</param>
/// <param name="ProcessorRes">Preprocessor resolution; -1 = the module's default.</param>
/// <param name="ThresholdA">Module parameter A (e.g. style fidelity for reference_only); -1 = default.</param>
/// <param name="ThresholdB">Module parameter B; -1 = default.</param>
/// <param name="PixelPerfect">Let ControlNet pick the preprocessor resolution.</param>
/// <param name="Image">The control input: the template, or the image the step starts from.</param>
public sealed record ControlNetUnitSettings(
    string Key,
    bool Enabled,
    string Module,
    string Model,
    double Weight,
    double GuidanceStart,
    double GuidanceEnd,
    ControlModeKind ControlMode,
    ResizeModeKind ResizeMode,
    int ProcessorRes,
    double ThresholdA,
    double ThresholdB,
    bool PixelPerfect,
    UnitImageSource Image)
{
    /// <summary>reference_* modules run without a model.</summary>
    public bool IsModelFree => RecipeDefaults.IsModelFreeModule(Module);
}

/// <summary>ControlNet control mode. YAML: <c>balanced</c> | <c>prompt</c> | <c>controlnet</c>.</summary>
public enum ControlModeKind
{
    /// <summary><c>balanced</c>.</summary>
    Balanced,

    /// <summary><c>prompt</c>: "My prompt is more important".</summary>
    Prompt,

    /// <summary><c>controlnet</c>: "ControlNet is more important".</summary>
    ControlNet,
}

/// <summary>ControlNet resize mode. YAML: <c>just_resize</c> | <c>crop_and_resize</c> | <c>resize_and_fill</c>.</summary>
public enum ResizeModeKind
{
    /// <summary><c>just_resize</c>.</summary>
    JustResize,

    /// <summary><c>crop_and_resize</c>.</summary>
    CropAndResize,

    /// <summary><c>resize_and_fill</c>.</summary>
    ResizeAndFill,
}

/// <summary>A unit's control image. YAML: <c>template</c> | <c>previous</c>.</summary>
public enum UnitImageSource
{
    /// <summary><c>template</c>: the template photo (default for inpaint).</summary>
    Template,

    /// <summary><c>previous</c>: the image the step starts from (default for img2img: the inpaint result in V2, the face-swap result in V3).</summary>
    Previous,
}

/// <summary>Defaults and limits shared by the loader, the writer and the documentation.</summary>
public static class RecipeDefaults
{
    /// <summary>The smallest inpaint mask blur; smaller blurs leave a visible seam around the face.</summary>
    public const int MinInpaintMaskBlur = 16;

    /// <summary>Inpaint mask blur when the recipe leaves it out.</summary>
    public const int InpaintMaskBlur = 16;

    /// <summary>The value the (unused) mask blur of the img2img pass carries: the WebUI default.</summary>
    public const int Img2ImgMaskBlur = 4;

    /// <summary>Inpaint padding when the recipe leaves it out (the WebUI default).</summary>
    public const int InpaintPadding = 32;

    /// <summary>
    /// Enabled ControlNet units per step: the WebUI's default <c>control_net_unit_count</c> (Settings → ControlNet →
    /// "Multi-ControlNet: ControlNet unit number"); more are ignored or rejected by a box left at the default.
    /// </summary>
    public const int MaxEnabledControlNetUnits = 3;

    /// <summary>Tags kept at most when <c>interrogate.max_tags</c> is left out.</summary>
    public const int MaxTags = 40;

    /// <summary>reference_* modules take no model (their model must be <c>None</c>).</summary>
    public static bool IsModelFreeModule(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.StartsWith("reference_", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// The <c>finish</c> section: after its last step the pipeline makes an ID photo of the final image (crop and size for
/// <see cref="Spec"/>, background through the box's rembg, DPI in the file, optional size target and print sheet) and
/// records the compliance verdict (see Miaoya.IdPhoto).
/// </summary>
/// <param name="Spec">An ID-photo spec name (<c>recipes/id-specs/NAME.yaml</c>), e.g. <c>cn-1inch</c>.</param>
/// <param name="Background"><c>keep</c>, a colour name (white, blue, red, off-white, light-grey), <c>#RRGGBB</c> or <c>gradient:TOP:BOTTOM</c>.</param>
/// <param name="Dpi">300, 254 or 350.</param>
/// <param name="Kb">Largest file size in KB; null = the spec's limit, if any.</param>
/// <param name="Sheet">Print sheet: none, 6inch or a4.</param>
/// <param name="Format">jpeg or png; null = the spec's first format.</param>
public sealed record FinishSettings(string Spec, string Background, int Dpi, int? Kb, FinishSheet Sheet, FinishFormat? Format);

/// <summary>The print sheet of <c>finish.sheet</c>.</summary>
public enum FinishSheet
{
    /// <summary><c>none</c>: no sheet.</summary>
    None,

    /// <summary><c>6inch</c>: 4R, 152 × 102 mm.</summary>
    SixInch,

    /// <summary><c>a4</c>: 210 × 297 mm.</summary>
    A4,
}

/// <summary>The file format of <c>finish.format</c>.</summary>
public enum FinishFormat
{
    /// <summary><c>jpeg</c>.</summary>
    Jpeg,

    /// <summary><c>png</c>.</summary>
    Png,
}

/// <summary>
/// The <c>detail</c> section: a face-detail pass for small faces. The face is cut out of the image with a margin, scaled up
/// to the model's native size, inpainted there (with the section's ControlNet units and, when <c>identity.steps</c> names
/// <c>detail</c>, the identity units) and pasted back with a feathered mask. Skipped when the face is large enough already.
/// </summary>
/// <param name="Generation">Sampler, steps, CFG, denoise, mask blur and ControlNet units of the inpaint on the crop (its <c>image: template</c> units see the template's crop, <c>previous</c> the current image's).</param>
/// <param name="SkipIfFaceAbove">Skip when the face box covers more than this fraction of the image's area (0..1).</param>
/// <param name="Padding">The crop's margin on each side of the face box, as a fraction of the face box's longer side.</param>
/// <param name="Size">The crop's side after scaling up, in pixels; null = the model family's native size (512 sd15, 1024 sdxl).</param>
/// <param name="Feather">The soft edge of the pasted-back crop, as a fraction of the crop's side.</param>
public sealed record DetailSettings(GenerationSettings Generation, double SkipIfFaceAbove, double Padding, int? Size, double Feather);

/// <summary>
/// The <c>restore</c> section: face restoration through the box's extras API (<c>/sdapi/v1/extra-single-image</c>) on the
/// face region only, blended back with <see cref="Strength"/>; skipped when the face is already about as sharp as the
/// template's face.
/// </summary>
/// <param name="Model">codeformer or gfpgan.</param>
/// <param name="Visibility">The restorer's visibility on the box (codeformer_visibility or gfpgan_visibility), 0..1.</param>
/// <param name="CodeFormerWeight">CodeFormer's fidelity weight, 0..1 (0 = strongest restoration); unused by GFPGAN.</param>
/// <param name="Strength">How much of the restored face is blended back over the image, 0..1.</param>
/// <param name="Padding">The region's margin on each side of the face box, as a fraction of the box's longer side.</param>
/// <param name="SkipIfSharpnessAbove">Skip when the face's sharpness (variance of the Laplacian) over the template face's is at least this; null = never skip.</param>
public sealed record RestoreSettings(FaceRestorerKind Model, double Visibility, double CodeFormerWeight, double Strength, double Padding, double? SkipIfSharpnessAbove);

/// <summary>The face restorer of <c>restore.model</c>, as the box's <c>GET /sdapi/v1/face-restorers</c> names it.</summary>
public enum FaceRestorerKind
{
    /// <summary><c>codeformer</c>: the box's "CodeFormer".</summary>
    CodeFormer,

    /// <summary><c>gfpgan</c>: the box's "GFPGAN".</summary>
    Gfpgan,
}

/// <summary>The <c>upscale</c> section: the box's extras upscaler to a target long side; skipped when the image is that large already.</summary>
/// <param name="Upscaler">An upscaler name from the box's <c>GET /sdapi/v1/upscalers</c>, such as <c>R-ESRGAN 4x+</c>.</param>
/// <param name="LongSide">The final image's longer side, in pixels.</param>
public sealed record UpscaleSettings(string Upscaler, int LongSide);
