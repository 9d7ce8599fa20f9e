using System.Text.Json;
using System.Text.Json.Serialization;
using Miaoya.WebUi.Tagger;

namespace Miaoya.WebUi.Json;

/// <summary>
/// Reads both tagger answer shapes: picobyte's <c>{"tag": {...}, "rating": {...}}</c> (singular keys, despite its
/// changelog; picobyte tagger/api.py:200-212) and toriato's flat <c>{tag_or_rating: score}</c> (toriato tagger/api.py:61-81),
/// where the four WD14 rating names are split out.
/// </summary>
internal sealed class TaggerCaptionJsonConverter : JsonConverter<TaggerCaption>
{
    private static readonly HashSet<string> RatingNames = new(StringComparer.Ordinal)
    {
        "general", "sensitive", "questionable", "explicit",
    };

    public override TaggerCaption Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException($"tagger caption: expected an object, found {root.ValueKind}.");
        }

        if (root.TryGetProperty("tag", out var tag) && tag.ValueKind == JsonValueKind.Object)
        {
            var ratings = root.TryGetProperty("rating", out var rating) && rating.ValueKind == JsonValueKind.Object
                ? Scores(rating)
                : new Dictionary<string, double>();
            return new TaggerCaption(new TaggerResult(Scores(tag), ratings, TaggerFlavor.Picobyte));
        }

        var tags = new Dictionary<string, double>(StringComparer.Ordinal);
        var flatRatings = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, score) in Scores(root))
        {
            (RatingNames.Contains(name) ? flatRatings : tags)[name] = score;
        }

        return new TaggerCaption(new TaggerResult(tags, flatRatings, TaggerFlavor.Toriato));
    }

    public override void Write(Utf8JsonWriter writer, TaggerCaption value, JsonSerializerOptions options) =>
        throw new NotSupportedException("tagger captions are only read.");

    private static Dictionary<string, double> Scores(JsonElement element)
    {
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Number)
            {
                scores[property.Name] = property.Value.GetDouble();
            }
            else
            {
                throw new JsonException($"tagger caption: score of \"{property.Name}\" is {property.Value.ValueKind}, not a number.");
            }
        }

        return scores;
    }
}
