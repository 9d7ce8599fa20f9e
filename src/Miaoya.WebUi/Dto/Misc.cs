using System.Text.Json;
using Miaoya.Imaging;

namespace Miaoya.WebUi.Dto;

/// <summary><c>GET /sdapi/v1/progress</c> (api.py:602-628). Progress is global to the server, not per request.</summary>
public sealed record ProgressResponse(double Progress, double EtaRelative, ProgressState? State, EncodedImage? CurrentImage, string? Textinfo);

public sealed record ProgressState(
    bool Skipped,
    bool Interrupted,
    bool? StoppingGeneration,
    string? Job,
    int JobCount,
    string? JobTimestamp,
    int JobNo,
    int SamplingStep,
    int SamplingSteps);

/// <summary>Body of <c>POST /sdapi/v1/interrogate</c>; model is <c>clip</c> or <c>deepdanbooru</c>.</summary>
public sealed record InterrogateRequest(EncodedImage Image, string Model = "clip");

public sealed record InterrogateResponse(string Caption);

/// <summary>Body of <c>POST /sdapi/v1/png-info</c>.</summary>
public sealed record PngInfoRequest(EncodedImage Image);

public sealed record PngInfoResponse(string Info, IReadOnlyDictionary<string, JsonElement>? Items, IReadOnlyDictionary<string, JsonElement>? Parameters);

/// <summary>
/// Body of <c>POST /rembg</c> (AUTOMATIC1111/stable-diffusion-webui-rembg scripts/api.py: input_image, model,
/// return_mask, alpha_matting and its three thresholds).
/// </summary>
public sealed record RembgRequest(EncodedImage InputImage)
{
    public string Model { get; init; } = "u2net_human_seg";

    public bool ReturnMask { get; init; }

    public bool AlphaMatting { get; init; }

    public int AlphaMattingForegroundThreshold { get; init; } = 240;

    public int AlphaMattingBackgroundThreshold { get; init; } = 10;

    public int AlphaMattingErodeSize { get; init; } = 10;
}

public sealed record RembgResponse(EncodedImage Image);
