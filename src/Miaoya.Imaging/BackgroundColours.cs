using System.Globalization;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Imaging;

/// <summary>
/// Named background colours of ID photos and <c>#RRGGBB</c> parsing: what a recipe's <c>finish.background</c> is judged by
/// when it is loaded (Miaoya.Recipes) and what the ID-photo finish fills (Miaoya.IdPhoto).
/// </summary>
public static class BackgroundColours
{
    /// <summary>How far (ΔE2000) a background may lie from a spec's nearest allowed colour when the spec sets no <c>background_delta_e</c>.</summary>
    public const double DefaultAllowedDeltaE = 10;

    private static readonly Dictionary<string, Rgb24> Named = new(StringComparer.OrdinalIgnoreCase)
    {
        ["white"] = new Rgb24(255, 255, 255),
        ["blue"] = new Rgb24(67, 142, 219),   // the usual Chinese ID-photo blue, RGB(67, 142, 219)
        ["red"] = new Rgb24(255, 0, 0),       // the usual Chinese ID-photo red
        ["off-white"] = new Rgb24(245, 245, 240),
        ["light-grey"] = new Rgb24(220, 220, 220),
    };

    /// <summary>The colour names: white, blue, red, off-white, light-grey.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Named.Keys];

    /// <summary>A colour name or <c>#RRGGBB</c> (the # may be left out).</summary>
    public static bool TryParseColour(string text, out Rgb24 colour)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Named.TryGetValue(text.Trim(), out colour))
        {
            return true;
        }

        var hex = text.Trim().TrimStart('#');
        if (hex.Length == 6 && uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v))
        {
            colour = new Rgb24((byte)(v >> 16), (byte)(v >> 8), (byte)v);
            return true;
        }

        colour = default;
        return false;
    }

    /// <summary>The name of a named colour (white, blue, ...), or null.</summary>
    public static string? NameOf(Rgb24 colour) => Named.FirstOrDefault(p => p.Value.Equals(colour)).Key;

    /// <summary><c>#RRGGBB</c>.</summary>
    public static string ToHex(Rgb24 c) => string.Create(CultureInfo.InvariantCulture, $"#{c.R:X2}{c.G:X2}{c.B:X2}");
}
