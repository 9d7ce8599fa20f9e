using System.Globalization;
using Miaoya.Imaging;

namespace Miaoya.Recipes.Parsing;

/// <summary>
/// What <c>finish</c> may name: the ID-photo specs shipped in <c>recipes/id-specs/</c> (embedded here by name, so a
/// recipe is checked without loading Miaoya.IdPhoto) and the background words Miaoya.IdPhoto's BackgroundFill reads
/// (the colours are Miaoya.Imaging's BackgroundColours, which the finish fills with).
/// </summary>
internal static class IdSpecNames
{
    private const string Prefix = "Miaoya.Recipes.IdSpecs.";

    public static readonly IReadOnlyList<string> All = typeof(IdSpecNames).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..^".yaml".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    public static IReadOnlyList<string> Colours => BackgroundColours.Names;

    /// <summary>
    /// The allowed background colours a shipped spec lists (its <c>backgrounds: [...]</c> line); empty for a name that is
    /// not shipped.
    /// </summary>
    public static IReadOnlyList<string> Backgrounds(string spec)
    {
        var line = Line(spec, "backgrounds:");
        return line is null ? [] : line.Trim('[', ']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>
    /// Why the shipped <paramref name="spec"/> forbids <paramref name="background"/> (a colour or a gradient's first
    /// forbidden end), as "blue background" or "#00FF00 background (ΔE 60.2 from white, …)"; null when it allows it. A colour name
    /// must be one the spec lists; a <c>#RRGGBB</c> must lie within the spec's <c>background_delta_e</c> (ΔE2000) of an
    /// allowed colour, as the ID-photo finish (Miaoya.IdPhoto IdSpec.BackgroundProblem) judges it.
    /// </summary>
    public static string? ForbiddenColour(string spec, string background)
    {
        var allowed = Backgrounds(spec);
        var t = background.Trim();
        if (allowed.Count == 0 || t.Equals("keep", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var words = t.StartsWith("gradient:", StringComparison.OrdinalIgnoreCase) ? t["gradient:".Length..].Split(':') : [t];
        foreach (var word in words.Select(w => w.Trim()))
        {
            if (Colours.Contains(word, StringComparer.OrdinalIgnoreCase))
            {
                if (!allowed.Contains(word, StringComparer.OrdinalIgnoreCase))
                {
                    return $"{word} background";
                }
            }
            else if (BackgroundColours.TryParseColour(word, out var colour))
            {
                var lab = Lab.FromRgb(colour.R, colour.G, colour.B);
                var (name, distance) = allowed
                    .Select(a => BackgroundColours.TryParseColour(a, out var c) ? (Name: a, DeltaE: Lab.DeltaE2000(lab, Lab.FromRgb(c.R, c.G, c.B))) : (Name: a, DeltaE: double.MaxValue))
                    .MinBy(a => a.DeltaE);
                var limit = Line(spec, "background_delta_e:") is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : BackgroundColours.DefaultAllowedDeltaE;
                if (distance > limit)
                {
                    var what = BackgroundColours.NameOf(colour) is { } named ? $"{named} ({BackgroundColours.ToHex(colour)})" : BackgroundColours.ToHex(colour);
                    return string.Create(CultureInfo.InvariantCulture, $"{what} background (ΔE {distance:0.0} from {name}, the nearest allowed colour; at most {limit:0.#})");
                }
            }
        }

        return null;
    }

    /// <summary>The rest of the shipped spec's top-level line that starts with <paramref name="key"/>, trimmed; null when none.</summary>
    private static string? Line(string spec, string key)
    {
        using var stream = typeof(IdSpecNames).Assembly.GetManifestResourceStream($"{Prefix}{spec}.yaml");
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        var line = reader.ReadToEnd().Split('\n').FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line?[key.Length..].Split('#', 2)[0].Trim();
    }

    public static bool IsBackground(string text)
    {
        var t = text.Trim();
        if (t.Equals("keep", StringComparison.OrdinalIgnoreCase) || IsColour(t))
        {
            return true;
        }

        return t.StartsWith("gradient:", StringComparison.OrdinalIgnoreCase) && t["gradient:".Length..].Split(':') is [var top, var bottom] && IsColour(top) && IsColour(bottom);
    }

    private static bool IsColour(string t) =>
        Colours.Contains(t, StringComparer.OrdinalIgnoreCase)
        || (t.TrimStart('#') is { Length: 6 } hex && uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _));
}
