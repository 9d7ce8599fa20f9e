using System.Text.Json.Serialization;
using Miaoya.Imaging;

namespace Miaoya.WebUi.ControlNet;

/// <summary>
/// One ControlNet unit in <c>alwayson_scripts.controlnet.args</c> (CN internal_controlnet/args.py:53-237).
/// The JSON it writes works on both unit generations: pydantic units (CN 1.1.448+, API version 3) reject
/// integer enums and default <c>enabled</c> to false; dataclass units (up to 1.1.447) accept the strings too.
/// </summary>
public sealed record ControlNetUnit
{
    /// <summary>Always sent as true: CN 1.1.448 changed the default to false (args.py).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Serialized on every unit.")]
    public bool Enabled => true;

    /// <summary>Preprocessor, by internal name or UI label (e.g. <c>softedge_pidinet</c>, <c>reference_only</c>).</summary>
    public required string Module { get; init; }

    /// <summary>Model as listed by <c>/controlnet/model_list</c>; <c>None</c> for model-free modules such as reference_*.</summary>
    public string Model { get; init; } = "None";

    /// <summary>0..2 (pydantic ge/le on 1.1.448+).</summary>
    public double Weight { get; init; } = 1.0;

    /// <summary>Control input; null = the img2img init image (controlnet.py:663-745).</summary>
    [JsonIgnore]
    public EncodedImage? Image { get; init; }

    /// <summary>
    /// Several control inputs for one IP-Adapter unit (FaceID, PuLID: several photos of the person), sent instead of
    /// <see cref="Image"/> as <c>"image": [{"image": b64}, …]</c>. Only units whose preprocessor is tagged IP-Adapter accept
    /// a list (Mikubill/sd-webui-controlnet@56cec5b internal_controlnet/args.py:240-268, accepts_multiple_inputs); on any
    /// other unit a list of two plain strings is read as [image, mask].
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<EncodedImage> Images { get; init; } = [];

    /// <summary>The <c>image</c> field as sent: one base64 string, or the list of <see cref="Images"/>.</summary>
    [JsonInclude]
    [JsonPropertyName("image")]
    internal ControlNetImageValue? ImageValue
    {
        get => Images.Count > 0 ? new ControlNetImageValue(Images) : Image is null ? null : new ControlNetImageValue([Image]);
        init
        {
            if (value is { Images.Count: 1 })
            {
                Image = value.Images[0];
            }
            else if (value is not null)
            {
                Images = value.Images;
            }
        }
    }

    /// <summary>
    /// <c>inpaint_crop_input_image</c>; null leaves it out (the extension's default, true). With an inpaint mask and "only
    /// masked", the extension crops every non-reference unit's image to the mask's box unless this is false
    /// (sd-webui-controlnet@56cec5b scripts/controlnet.py:749-800, default at :211): identity units must send false or the
    /// person's photo is cut to an arbitrary region. Forge has no such field and drops it.
    /// </summary>
    public bool? InpaintCropInputImage { get; init; }

    /// <summary><c>pulid_mode</c> for a PuLID unit (<c>Fidelity</c> or <c>Extremely style</c>, scripts/enums.py:242-244); null leaves it out.</summary>
    public string? PulidMode { get; init; }

    /// <summary>
    /// Only for inpaint modules: on any other module a mask replaces the control input (controlnet.py:678-687). Sent as
    /// <c>mask_image</c>, the one key both APIs read: the A1111 extension takes it as an alias of <c>mask</c> since 1.1.444
    /// (internal_controlnet/args.py:336-348) and Forge's unit has only <c>mask_image</c> (lib_controlnet/external_code.py:165).
    /// </summary>
    [JsonPropertyName("mask_image")]
    public EncodedImage? Mask { get; init; }

    public ControlNetResizeMode ResizeMode { get; init; } = ControlNetResizeMode.CropAndResize;

    /// <summary>Left out of the JSON when false (the default everywhere): Forge has no such field and would drop it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool LowVram { get; init; }

    /// <summary>-1 = the preprocessor's default resolution.</summary>
    public int ProcessorRes { get; init; } = -1;

    public double ThresholdA { get; init; } = -1;

    public double ThresholdB { get; init; } = -1;

    public double GuidanceStart { get; init; }

    public double GuidanceEnd { get; init; } = 1.0;

    public bool PixelPerfect { get; init; }

    public ControlNetControlMode ControlMode { get; init; } = ControlNetControlMode.Balanced;

    /// <summary>False keeps the detected map out of the response images (CN 1.1.417+).</summary>
    public bool SaveDetectedMap { get; init; } = true;

    /// <summary>Modules that take no model (CN preprocessor table: reference_*, revision_*).</summary>
    [JsonIgnore]
    public bool IsModelFree => ControlNetModules.IsModelFree(Module);

    /// <summary>Problems the server would reject or silently misread, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Module) || Module.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add("module: a preprocessor is required (use e.g. \"reference_only\", \"softedge_pidinet\").");
        }

        if (!double.IsFinite(Weight) || Weight < 0 || Weight > 2)
        {
            problems.Add($"weight: {Weight} is outside 0..2.");
        }

        if (GuidanceStart < 0 || GuidanceStart > 1)
        {
            problems.Add($"guidance_start: {GuidanceStart} is outside 0..1.");
        }

        if (GuidanceEnd < 0 || GuidanceEnd > 1)
        {
            problems.Add($"guidance_end: {GuidanceEnd} is outside 0..1.");
        }

        if (GuidanceStart > GuidanceEnd)
        {
            problems.Add($"guidance_start: {GuidanceStart} is after guidance_end {GuidanceEnd}.");
        }

        if (IsModelFree && !Model.Equals("None", StringComparison.Ordinal))
        {
            problems.Add($"model: module {Module} takes no model; send \"None\" (got \"{Model}\").");
        }

        if (!IsModelFree && (string.IsNullOrWhiteSpace(Model) || Model.Equals("None", StringComparison.Ordinal)))
        {
            problems.Add($"model: module {Module} needs a ControlNet model.");
        }

        if (Mask is not null && !ControlNetModules.TakesMask(Module))
        {
            problems.Add($"mask_image: module {Module} is not an inpaint module; a mask would replace its control image.");
        }

        return problems;
    }
}

/// <summary>A unit's <c>image</c>: one image as a base64 string, several as a list of <c>{"image": b64}</c> objects.</summary>
[JsonConverter(typeof(Json.ControlNetImageValueJsonConverter))]
internal sealed record ControlNetImageValue(IReadOnlyList<EncodedImage> Images);

/// <summary>ControlNet <c>resize_mode</c>, sent as its string (integers are rejected from CN 1.1.448).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ControlNetResizeMode>))]
public enum ControlNetResizeMode
{
    [JsonStringEnumMemberName("Just Resize")]
    JustResize,

    [JsonStringEnumMemberName("Crop and Resize")]
    CropAndResize,

    [JsonStringEnumMemberName("Resize and Fill")]
    ResizeAndFill,
}

/// <summary>ControlNet <c>control_mode</c>, sent as its string (CN enums.py:247-254).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ControlNetControlMode>))]
public enum ControlNetControlMode
{
    [JsonStringEnumMemberName("Balanced")]
    Balanced,

    [JsonStringEnumMemberName("My prompt is more important")]
    MyPromptIsMoreImportant,

    [JsonStringEnumMemberName("ControlNet is more important")]
    ControlNetIsMoreImportant,
}
