using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Miaoya.WebUi.ControlNet;

namespace Miaoya.WebUi.Dto;

/// <summary>
/// Fields shared by <c>/sdapi/v1/txt2img</c> and <c>/sdapi/v1/img2img</c> (A1111 processing.py:137-227, models.py:37-132).
/// Null properties are left out of the JSON, so the server applies its own default; the API defaults differ
/// from the UI's (steps 50, sampler Euler), so the builders set what matters explicitly.
/// </summary>
public abstract record GenerationRequest
{
    public string Prompt { get; init; } = "";

    public string NegativePrompt { get; init; } = "";

    public IReadOnlyList<string>? Styles { get; init; }

    /// <summary>Seed; -1 asks the server for a random one (up to 4294967294, so 64-bit).</summary>
    public long Seed { get; init; } = -1;

    public long Subseed { get; init; } = -1;

    public double SubseedStrength { get; init; }

    /// <summary>Sampler name in the dialect of the probed server (see <see cref="WebUiCapabilities.ResolveSampler(string, string?)"/>).</summary>
    public string? SamplerName { get; init; }

    /// <summary>Scheduler name (A1111 1.9+ only; older servers ignore it).</summary>
    public string? Scheduler { get; init; }

    public int BatchSize { get; init; } = 1;

    public int NIter { get; init; } = 1;

    public required int Steps { get; init; }

    public double CfgScale { get; init; } = 7.0;

    public required int Width { get; init; }

    public required int Height { get; init; }

    public bool? RestoreFaces { get; init; }

    public bool? Tiling { get; init; }

    public double? DenoisingStrength { get; init; }

    /// <summary>Per-request settings, e.g. <c>sd_model_checkpoint</c>; restored afterwards by default (processing.py:819-857).</summary>
    public IReadOnlyDictionary<string, JsonNode?>? OverrideSettings { get; init; }

    public bool OverrideSettingsRestoreAfterwards { get; init; } = true;

    public bool SendImages { get; init; } = true;

    public bool SaveImages { get; init; }

    public string? ForceTaskId { get; init; }

    public string? ScriptName { get; init; }

    public IReadOnlyList<JsonNode?>? ScriptArgs { get; init; }

    [JsonPropertyName("alwayson_scripts")]
    public AlwaysOnScripts? AlwaysOnScripts { get; init; }
}

/// <summary>Body of <c>POST /sdapi/v1/txt2img</c>.</summary>
public sealed record Txt2ImgRequest : GenerationRequest
{
    public bool EnableHr { get; init; }

    public double? HrScale { get; init; }

    public string? HrUpscaler { get; init; }

    public int? HrSecondPassSteps { get; init; }
}

/// <summary>
/// Body of <c>POST /sdapi/v1/img2img</c> (A1111 processing.py:1557-1574). Every inpaint field is sent,
/// because the API's defaults (inpainting_fill 0, inpaint_full_res true, padding 0) differ from the UI's.
/// </summary>
public sealed record Img2ImgRequest : GenerationRequest
{
    public required IReadOnlyList<Miaoya.Imaging.EncodedImage> InitImages { get; init; }

    public Img2ImgResizeMode ResizeMode { get; init; } = Img2ImgResizeMode.JustResize;

    /// <summary>White (> 128) is repainted; an RGBA mask with transparency uses its alpha (processing.py:90-98).</summary>
    public Miaoya.Imaging.EncodedImage? Mask { get; init; }

    /// <summary>Gaussian blur of the mask in pixels; sets both mask_blur_x and mask_blur_y (processing.py:1591-1600).</summary>
    public int MaskBlur { get; init; } = 4;

    public InpaintingFill InpaintingFill { get; init; } = InpaintingFill.Original;

    /// <summary>True = "Only masked" (crop around the mask), false = "Whole picture".</summary>
    public bool InpaintFullRes { get; init; }

    public int InpaintFullResPadding { get; init; } = 32;

    /// <summary>0 inpaint masked, 1 inpaint not masked.</summary>
    public int InpaintingMaskInvert { get; init; }

    public bool MaskRound { get; init; } = true;

    public bool IncludeInitImages { get; init; }
}

/// <summary>img2img <c>resize_mode</c> integers (A1111 ui.py:618).</summary>
public enum Img2ImgResizeMode
{
    JustResize = 0,
    CropAndResize = 1,
    ResizeAndFill = 2,
    JustResizeLatentUpscale = 3,
}

/// <summary><c>inpainting_fill</c> integers (A1111 ui.py:702).</summary>
public enum InpaintingFill
{
    Fill = 0,
    Original = 1,
    LatentNoise = 2,
    LatentNothing = 3,
}

/// <summary>The <c>alwayson_scripts</c> object: ControlNet typed, anything else passed through as JSON.</summary>
[JsonConverter(typeof(Json.AlwaysOnScriptsJsonConverter))]
public sealed record AlwaysOnScripts
{
    /// <summary>The ControlNet script's units, sent under the key <c>controlnet</c>.</summary>
    public ControlNetScriptArgs? ControlNet { get; init; }

    /// <summary>Other scripts by title, each <c>{"args": [...]}</c>.</summary>
    public JsonObject? Other { get; init; }

    /// <summary>The script keys this object will send.</summary>
    public IEnumerable<string> Keys =>
        (ControlNet is null ? [] : ControlNetKey).Concat(Other?.Select(p => p.Key) ?? []);

    private static readonly string[] ControlNetKey = ["controlnet"];
}

/// <summary><c>{"args": [unit, ...]}</c> for the ControlNet script.</summary>
public sealed record ControlNetScriptArgs(IReadOnlyList<ControlNetUnit> Args);
