using System.Text.Json.Serialization;
using Miaoya.Imaging;

namespace Miaoya.WebUi.Tagger;

/// <summary><c>GET /tagger/v1/interrogators</c>.</summary>
public sealed record TaggerInterrogators(IReadOnlyList<string> Models);

/// <summary>
/// Body of <c>POST /tagger/v1/interrogate</c>. The threshold is always sent: picobyte's default is 0.0
/// (every tag), toriato's 0.35 (picobyte tagger/api_models.py:8-30; toriato tagger/api_models.py:7-20).
/// </summary>
public sealed record TaggerInterrogateRequest(EncodedImage Image, string Model, double Threshold);

/// <summary>Tags and ratings from either tagger fork, whichever shape it answered in.</summary>
public sealed record TaggerResult(
    IReadOnlyDictionary<string, double> Tags,
    IReadOnlyDictionary<string, double> Ratings,
    TaggerFlavor Flavor);

/// <summary>Which response shape the tagger answered with.</summary>
public enum TaggerFlavor
{
    Unknown,

    /// <summary>toriato (unmaintained): flat <c>caption</c> with ratings merged in.</summary>
    Toriato,

    /// <summary>picobyte and its forks: <c>caption.tag</c> and <c>caption.rating</c>.</summary>
    Picobyte,
}

[JsonConverter(typeof(Json.TaggerCaptionJsonConverter))]
internal sealed record TaggerCaption(TaggerResult Result);

internal sealed record TaggerInterrogateResponse(TaggerCaption Caption);
