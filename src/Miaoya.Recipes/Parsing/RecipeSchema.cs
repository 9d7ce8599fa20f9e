namespace Miaoya.Recipes.Parsing;

/// <summary>What a key holds: one value, a list of words, a section of fields, or a map of named sections.</summary>
internal enum FieldShape
{
    Scalar,
    List,
    Section,
    SectionMap,
}

internal sealed record FieldSpec(string Key, FieldShape Shape);

/// <summary>
/// The keys each mapping of a recipe may hold: the one list the mapper checks unknown keys against and the override
/// code walks to find (or add) a field.
/// </summary>
internal static class RecipeSchema
{
    public static readonly IReadOnlyList<FieldSpec> Root =
    [
        new("name", FieldShape.Scalar),
        new("description", FieldShape.Scalar),
        new("pipeline", FieldShape.Scalar),
        new("base_model", FieldShape.Scalar),
        new("interrogate", FieldShape.Section),
        new("prompt", FieldShape.Section),
        new("faceswap", FieldShape.Section),
        new("mask", FieldShape.Section),
        new("inpaint", FieldShape.Section),
        new("img2img", FieldShape.Section),
        new("finish", FieldShape.Section),
        new("model_family", FieldShape.Scalar),
        new("identity", FieldShape.Section),
        new("candidates", FieldShape.Section),
        new("detail", FieldShape.Section),
        new("restore", FieldShape.Section),
        new("upscale", FieldShape.Section),
    ];

    public static readonly IReadOnlyList<FieldSpec> Restore =
    [
        new("model", FieldShape.Scalar),
        new("visibility", FieldShape.Scalar),
        new("codeformer_weight", FieldShape.Scalar),
        new("strength", FieldShape.Scalar),
        new("padding", FieldShape.Scalar),
        new("skip_if_sharpness_above", FieldShape.Scalar),
    ];

    public static readonly IReadOnlyList<FieldSpec> Upscale =
    [
        new("upscaler", FieldShape.Scalar),
        new("long_side", FieldShape.Scalar),
    ];

    public static readonly IReadOnlyList<FieldSpec> Identity =
    [
        new("method", FieldShape.Scalar),
        new("steps", FieldShape.List),
        new("module", FieldShape.Scalar),
        new("model", FieldShape.Scalar),
        new("weight", FieldShape.Scalar),
        new("guidance_start", FieldShape.Scalar),
        new("guidance_end", FieldShape.Scalar),
        new("control_mode", FieldShape.Scalar),
        new("lora", FieldShape.Scalar),
        new("lora_weight", FieldShape.Scalar),
        new("crop_padding", FieldShape.Scalar),
        new("crop_size", FieldShape.Scalar),
        new("pulid_mode", FieldShape.Scalar),
        new("keypoints", FieldShape.Section),
    ];

    public static readonly IReadOnlyList<FieldSpec> IdentityKeypoints =
    [
        new("module", FieldShape.Scalar),
        new("model", FieldShape.Scalar),
        new("weight", FieldShape.Scalar),
        new("guidance_start", FieldShape.Scalar),
        new("guidance_end", FieldShape.Scalar),
        new("control_mode", FieldShape.Scalar),
        new("image", FieldShape.Scalar),
    ];

    public static readonly IReadOnlyList<FieldSpec> Candidates =
    [
        new("count", FieldShape.Scalar),
        new("scorer", FieldShape.Scalar),
        new("min_similarity", FieldShape.Scalar),
        new("min_ratio", FieldShape.Scalar),
    ];

    public static readonly IReadOnlyList<FieldSpec> Finish =
    [
        new("spec", FieldShape.Scalar),
        new("background", FieldShape.Scalar),
        new("dpi", FieldShape.Scalar),
        new("kb", FieldShape.Scalar),
        new("sheet", FieldShape.Scalar),
        new("format", FieldShape.Scalar),
    ];

    public static readonly IReadOnlyList<FieldSpec> Interrogate =
    [
        new("model", FieldShape.Scalar),
        new("threshold", FieldShape.Scalar),
        new("exclude", FieldShape.List),
        new("include", FieldShape.List),
        new("max_tags", FieldShape.Scalar),
        new("drop_ratings", FieldShape.Scalar),
    ];

    public static readonly IReadOnlyList<FieldSpec> Prompt =
    [
        new("lora_weight", FieldShape.Scalar),
        new("face_words", FieldShape.List),
        new("positive", FieldShape.Scalar),
        new("negative", FieldShape.Scalar),
    ];

    public static readonly IReadOnlyList<FieldSpec> FaceSwap =
    [
        new("detector", FieldShape.Scalar),
        new("source_face_index", FieldShape.Scalar),
        new("target_face_index", FieldShape.Scalar),
        new("colour_correction", FieldShape.Scalar),
    ];

    public static readonly IReadOnlyList<FieldSpec> Mask =
    [
        new("kind", FieldShape.Scalar),
        new("source", FieldShape.Scalar),
        new("grow", FieldShape.Scalar),
        new("feather", FieldShape.Scalar),
        new("neck_length", FieldShape.Scalar),
        new("file", FieldShape.Scalar),
    ];

    private static readonly FieldSpec[] GenerationCommon =
    [
        new("sampler", FieldShape.Scalar),
        new("scheduler", FieldShape.Scalar),
        new("steps", FieldShape.Scalar),
        new("cfg_scale", FieldShape.Scalar),
        new("denoising_strength", FieldShape.Scalar),
        new("width", FieldShape.Scalar),
        new("height", FieldShape.Scalar),
    ];

    private static readonly FieldSpec[] InpaintOnly =
    [
        new("mask_blur", FieldShape.Scalar),
        new("inpainting_fill", FieldShape.Scalar),
        new("inpaint_area", FieldShape.Scalar),
        new("inpaint_padding", FieldShape.Scalar),
    ];

    private static readonly FieldSpec[] Img2ImgOnly = [new("skip_if_delta_e_below", FieldShape.Scalar)];

    public static readonly IReadOnlyList<FieldSpec> Inpaint = [.. GenerationCommon, .. InpaintOnly, new("controlnet", FieldShape.SectionMap)];

    public static readonly IReadOnlyList<FieldSpec> Img2Img = [.. GenerationCommon, .. Img2ImgOnly, new("controlnet", FieldShape.SectionMap)];

    /// <summary>The detail pass: an inpaint on the face's crop, whose size is <c>size</c> (no width or height), with its skip rule and crop.</summary>
    public static readonly IReadOnlyList<FieldSpec> Detail =
    [
        .. GenerationCommon.Where(f => f.Key is not ("width" or "height")),
        new("mask_blur", FieldShape.Scalar),
        new("inpainting_fill", FieldShape.Scalar),
        new("skip_if_face_above", FieldShape.Scalar),
        new("padding", FieldShape.Scalar),
        new("size", FieldShape.Scalar),
        new("feather", FieldShape.Scalar),
        new("controlnet", FieldShape.SectionMap),
    ];

    public static readonly IReadOnlyList<FieldSpec> Unit =
    [
        new("enabled", FieldShape.Scalar),
        new("module", FieldShape.Scalar),
        new("model", FieldShape.Scalar),
        new("weight", FieldShape.Scalar),
        new("guidance_start", FieldShape.Scalar),
        new("guidance_end", FieldShape.Scalar),
        new("control_mode", FieldShape.Scalar),
        new("resize_mode", FieldShape.Scalar),
        new("processor_res", FieldShape.Scalar),
        new("threshold_a", FieldShape.Scalar),
        new("threshold_b", FieldShape.Scalar),
        new("pixel_perfect", FieldShape.Scalar),
        new("image", FieldShape.Scalar),
    ];

    /// <summary>Keys that belong to the other generation step, with the reason they are refused here.</summary>
    public static IReadOnlyDictionary<string, string> MisplacedIn(string step) => step == StepName.Inpaint
        ? Img2ImgOnly.ToDictionary(f => f.Key, f => $"only valid in img2img (the V2 colour pass); the inpaint step is never skipped", StringComparer.Ordinal)
        : InpaintOnly.ToDictionary(f => f.Key, f => $"only valid in inpaint; the whole-image img2img pass has no mask", StringComparer.Ordinal);

    /// <summary>The fields of the mapping at <paramref name="segments"/>; null for an open map or a place that is no mapping.</summary>
    public static IReadOnlyList<FieldSpec>? FieldsAt(IReadOnlyList<string> segments) => segments switch
    {
        [] => Root,
        ["interrogate"] => Interrogate,
        ["prompt"] => Prompt,
        ["faceswap"] => FaceSwap,
        ["mask"] => Mask,
        ["inpaint"] => Inpaint,
        ["img2img"] => Img2Img,
        ["finish"] => Finish,
        ["identity"] => Identity,
        ["identity", "keypoints"] => IdentityKeypoints,
        ["candidates"] => Candidates,
        ["detail"] => Detail,
        ["restore"] => Restore,
        ["upscale"] => Upscale,
        ["inpaint" or "img2img" or "detail", "controlnet", _] => Unit,
        _ => null,
    };

    public static IReadOnlyList<string> Keys(IReadOnlyList<FieldSpec> fields) => fields.Select(f => f.Key).ToArray();
}
