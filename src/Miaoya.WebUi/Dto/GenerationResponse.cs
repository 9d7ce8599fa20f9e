using System.Text.Json;
using System.Text.Json.Serialization;
using Miaoya.Imaging;
using Miaoya.WebUi.Json;

namespace Miaoya.WebUi.Dto;

/// <summary>
/// Answer of txt2img/img2img. <c>parameters</c> (an echo of the request, including every ControlNet image)
/// is not read: it is skipped while parsing to save memory.
/// </summary>
public sealed record GenerationResponse
{
    /// <summary>Generated images, then any grid or extension extras (ControlNet detected maps) in server order.</summary>
    public IReadOnlyList<EncodedImage> Images { get; init; } = [];

    [JsonConverter(typeof(JsonStringEncodedJsonConverter<GenerationInfo>))]
    public GenerationInfo? Info { get; init; }

    /// <summary>
    /// The generated images only, without a leading grid or trailing ControlNet maps
    /// (<c>index_of_first_image</c> and <c>all_seeds</c>, A1111 processing.py:1117-1128).
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<EncodedImage> GeneratedImages
    {
        get
        {
            var first = Info?.IndexOfFirstImage ?? 0;
            var count = Info?.AllSeeds?.Count ?? (Images.Count - first);
            first = Math.Clamp(first, 0, Images.Count);
            count = Math.Clamp(count, 0, Images.Count - first);
            return Images.Skip(first).Take(count).ToArray();
        }
    }
}

/// <summary>The parsed <c>info</c> document (A1111 processing.py:571-607).</summary>
public sealed record GenerationInfo
{
    public string? Prompt { get; init; }

    public IReadOnlyList<string>? AllPrompts { get; init; }

    public string? NegativePrompt { get; init; }

    public long Seed { get; init; }

    public IReadOnlyList<long>? AllSeeds { get; init; }

    public long Subseed { get; init; }

    public IReadOnlyList<long>? AllSubseeds { get; init; }

    public double SubseedStrength { get; init; }

    public int Width { get; init; }

    public int Height { get; init; }

    public string? SamplerName { get; init; }

    public double CfgScale { get; init; }

    public int Steps { get; init; }

    public int BatchSize { get; init; }

    public bool? RestoreFaces { get; init; }

    public string? SdModelName { get; init; }

    public string? SdModelHash { get; init; }

    public string? SdVaeName { get; init; }

    public double? DenoisingStrength { get; init; }

    public IReadOnlyDictionary<string, JsonElement>? ExtraGenerationParams { get; init; }

    public int IndexOfFirstImage { get; init; }

    public IReadOnlyList<string>? Infotexts { get; init; }

    public IReadOnlyList<string>? Styles { get; init; }

    public string? JobTimestamp { get; init; }

    public int? ClipSkip { get; init; }

    public string? Version { get; init; }
}
