using System.Text.Json.Serialization;
using Miaoya.Imaging;

namespace Miaoya.WebUi.Dto;

/// <summary>
/// Body of <c>POST /sdapi/v1/extra-single-image</c>: face restoration (GFPGAN, CodeFormer) and upscaling of one image
/// (AUTOMATIC1111 modules/api/models.py ExtrasBaseRequest and ExtrasSingleImageRequest; every field has a default there,
/// so the ones left null here are the server's defaults).
/// </summary>
public sealed record ExtrasSingleImageRequest(EncodedImage Image)
{
    /// <summary>0: scale by <see cref="UpscalingResize"/>; 1: scale to <see cref="UpscalingResizeW"/> × <see cref="UpscalingResizeH"/>.</summary>
    public int ResizeMode { get; init; }

    public bool ShowExtrasResults { get; init; } = true;

    /// <summary>0..1; 0 leaves GFPGAN off.</summary>
    public double GfpganVisibility { get; init; }

    /// <summary>0..1; 0 leaves CodeFormer off.</summary>
    public double CodeformerVisibility { get; init; }

    /// <summary>0..1: CodeFormer's fidelity weight (0 = strongest restoration, 1 = closest to the input).</summary>
    public double CodeformerWeight { get; init; }

    /// <summary>The scale factor for <see cref="ResizeMode"/> 0 (greater than 0; 1 = no upscale).</summary>
    public double UpscalingResize { get; init; } = 1;

    public int? UpscalingResizeW { get; init; }

    public int? UpscalingResizeH { get; init; }

    public bool? UpscalingCrop { get; init; }

    /// <summary>A name from <c>GET /sdapi/v1/upscalers</c>; "None" runs no upscaler.</summary>
    [JsonPropertyName("upscaler_1")]
    public string Upscaler1 { get; init; } = "None";

    [JsonPropertyName("upscaler_2")]
    public string? Upscaler2 { get; init; }

    [JsonPropertyName("extras_upscaler_2_visibility")]
    public double? ExtrasUpscaler2Visibility { get; init; }

    public bool UpscaleFirst { get; init; }
}

/// <summary>Answer of <c>POST /sdapi/v1/extra-single-image</c>: the processed image and an HTML summary.</summary>
public sealed record ExtrasSingleImageResponse(EncodedImage? Image, string? HtmlInfo);

/// <summary>One entry of <c>GET /sdapi/v1/face-restorers</c> (models.py FaceRestorerItem: name, cmd_dir).</summary>
public sealed record FaceRestorerInfo(string Name, string? CmdDir);
