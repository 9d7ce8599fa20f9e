using Miaoya.Imaging;

namespace Miaoya.WebUi.ControlNet;

/// <summary><c>GET /controlnet/version</c>: the API version (3 from CN 1.1.448, 2 before), not the extension version.</summary>
public sealed record ControlNetVersion(int Version);

public sealed record ControlNetModelList(IReadOnlyList<string> ModelList);

public sealed record ControlNetModuleList(IReadOnlyList<string> ModuleList, IReadOnlyDictionary<string, ControlNetModuleDetail>? ModuleDetail);

public sealed record ControlNetModuleDetail(bool ModelFree, IReadOnlyList<ControlNetSlider>? Sliders);

public sealed record ControlNetSlider(string? Name, double? Value, double? Min, double? Max, double? Step);

public sealed record ControlNetControlTypes(IReadOnlyDictionary<string, ControlNetControlType> ControlTypes);

public sealed record ControlNetControlType(IReadOnlyList<string> ModuleList, IReadOnlyList<string> ModelList, string? DefaultOption, string? DefaultModel);

public sealed record ControlNetSettings(int ControlNetUnitCount);

/// <summary>Body of <c>POST /controlnet/detect</c> (CN scripts/api.py:99-200).</summary>
public sealed record ControlNetDetectRequest
{
    public required string ControlnetModule { get; init; }

    public required IReadOnlyList<EncodedImage> ControlnetInputImages { get; init; }

    /// <summary>-1 = the preprocessor's default (512 for most).</summary>
    public int ControlnetProcessorRes { get; init; } = -1;

    public double ControlnetThresholdA { get; init; } = -1;

    public double ControlnetThresholdB { get; init; } = -1;

    public IReadOnlyList<EncodedImage>? ControlnetMasks { get; init; }

    public bool LowVram { get; init; }
}

/// <summary>
/// Answer of <c>POST /controlnet/detect</c>: <c>images</c> from preprocessors that return a map, <c>tensor</c> (base64 of a
/// pickled torch tensor) from those that return an embedding, such as the IP-Adapter and InstantID embedding ones
/// (Mikubill/sd-webui-controlnet@56cec5b scripts/api.py:181-198).
/// </summary>
public sealed record ControlNetDetectResponse(
    string? Info, IReadOnlyList<EncodedImage>? Images, IReadOnlyList<OpenPoseDocument>? Poses, IReadOnlyList<string>? Tensor = null);
