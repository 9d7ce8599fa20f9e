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
