using System.Globalization;

namespace Miaoya.Recipes.Parsing;

/// <summary>
/// What <c>finish</c> may name: the ID-photo specs shipped in <c>recipes/id-specs/</c> (embedded here by name, so a
/// recipe is checked without loading Miaoya.IdPhoto) and the background words Miaoya.IdPhoto's BackgroundFill reads.
/// </summary>
internal static class IdSpecNames
{
    private const string Prefix = "Miaoya.Recipes.IdSpecs.";

    public static readonly IReadOnlyList<string> All = typeof(IdSpecNames).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..^".yaml".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    public static readonly IReadOnlyList<string> Colours = ["white", "blue", "red", "off-white", "light-grey"];

    /// <summary>
    /// The allowed background colours a shipped spec lists (its <c>backgrounds: [...]</c> line); empty for a name that is
    /// not shipped.
    /// </summary>
    public static IReadOnlyList<string> Backgrounds(string spec)
    {
        using var stream = typeof(IdSpecNames).Assembly.GetManifestResourceStream($"{Prefix}{spec}.yaml");
        if (stream is null)
        {
            return [];
        }

        using var reader = new StreamReader(stream);
        var line = reader.ReadToEnd().Split('\n').FirstOrDefault(l => l.StartsWith("backgrounds:", StringComparison.Ordinal));
        return line is null ? [] : line["backgrounds:".Length..].Trim().Trim('[', ']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>
    /// The first colour name in <paramref name="background"/> (a colour or a gradient's end) that the shipped
    /// <paramref name="spec"/> does not list, or null. Only names are judged here; a #RRGGBB is judged by its distance to
    /// the allowed colours when the ID photo is finished (Miaoya.IdPhoto), still before any of its image work.
    /// </summary>
    public static string? ForbiddenColour(string spec, string background)
    {
        var allowed = Backgrounds(spec);
        var t = background.Trim();
        var words = t.StartsWith("gradient:", StringComparison.OrdinalIgnoreCase) ? t["gradient:".Length..].Split(':') : [t];
        return allowed.Count == 0 || t.Equals("keep", StringComparison.OrdinalIgnoreCase)
            ? null
            : words.FirstOrDefault(w => Colours.Contains(w, StringComparer.OrdinalIgnoreCase) && !allowed.Contains(w, StringComparer.OrdinalIgnoreCase));
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
