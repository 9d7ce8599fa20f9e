using System.Globalization;
using System.Text.RegularExpressions;

namespace Miaoya.Training;

/// <summary>
/// Captions for kohya: the trigger word first (keep_tokens=1 keeps it in place when captions are shuffled), then face
/// words from our own analysis, then the tagger's tags with underscores as spaces. Tags that describe the person's
/// identity (eye and hair colour, lips, moles…) are dropped so that the trigger word absorbs them instead of the tags.
/// </summary>
public static partial class Captions
{
    /// <summary>Identity-leaking tags dropped by default (glob patterns, '*' any run of characters; '_' and ' ' are the same).</summary>
    public static IReadOnlyList<string> DefaultDropTags { get; } =
    [
        "*_eyes", "*_hair", "lips", "nose", "eyelashes", "*_eyebrows", "eyebrows", "freckles", "mole*", "facial_mark",
        "beauty_mark", "realistic", "photorealistic", "asian", "dark_skin", "dark-skinned_*", "pale_skin",
    ];

    /// <summary>Normalises a tag for comparison and captions: lower case, underscores to spaces, trimmed.</summary>
    public static string Normalize(string tag) => (tag ?? "").Trim().Replace('_', ' ').ToLowerInvariant();

    /// <summary>True when <paramref name="tag"/> matches one of the glob <paramref name="patterns"/>.</summary>
    public static bool Matches(string tag, IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        var t = Normalize(tag);
        return patterns.Any(p => Regex.IsMatch(t, "^" + Regex.Escape(Normalize(p)).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
    }

    /// <summary>
    /// trigger, face words, then the tags scoring at least <paramref name="threshold"/> (highest first) that are not
    /// dropped and not already present; comma-separated.
    /// </summary>
    public static (string Caption, IReadOnlyList<string> Dropped) Full(
        string trigger, IEnumerable<string> faceWords, IReadOnlyDictionary<string, double> tags, double threshold, IEnumerable<string> dropPatterns)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var patterns = dropPatterns.ToArray();
        var parts = new List<string> { trigger };
        var dropped = new List<string>();
        foreach (var w in faceWords)
        {
            if (!parts.Contains(w))
            {
                parts.Add(w);
            }
        }

        foreach (var (tag, score) in tags.OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal))
        {
            if (score < threshold)
            {
                continue;
            }

            var normal = Normalize(tag);
            if (Matches(normal, patterns))
            {
                dropped.Add(normal);
            }
            else if (normal.Length > 0 && !parts.Contains(normal))
            {
                parts.Add(normal);
            }
        }

        return (string.Join(", ", parts), dropped);
    }

    /// <summary>The face-focused caption: trigger and face words only.</summary>
    public static string FaceFocused(string trigger, IEnumerable<string> faceWords) =>
        string.Join(", ", new[] { trigger }.Concat(faceWords).Distinct());

    /// <summary>Words from the face analysis: framing, gaze direction, head tilt.</summary>
    public static IReadOnlyList<string> FaceWords(HeadPose pose)
    {
        var words = new List<string> { "upper body" };
        words.Add(Math.Abs(pose.Yaw) < 0.15 ? "looking at viewer" : "looking to the side");
        if (Math.Abs(pose.RollDegrees) > 12)
        {
            words.Add("head tilt");
        }

        return words;
    }

    /// <summary>A trigger word from a dataset name: lower case letters and digits (rare tokens train best; say --trigger to choose).</summary>
    public static string DefaultTrigger(string name) =>
        new string(Normalize(name).Where(char.IsAsciiLetterOrDigit).ToArray()).ToLower(CultureInfo.InvariantCulture) is { Length: > 0 } t ? t : "person";
}
