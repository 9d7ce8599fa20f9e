using Miaoya.Imaging;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp;

namespace Miaoya.IdPhoto;

/// <summary>
/// What goes behind the person: <c>keep</c> (the photo's own background), a solid colour (<c>white</c>, <c>blue</c>,
/// <c>red</c>, any <c>#RRGGBB</c>) or a vertical gradient <c>gradient:TOP:BOTTOM</c> (each a name or hex).
/// </summary>
public sealed record BackgroundFill(Rgb24 Top, Rgb24 Bottom, bool Keep)
{
    /// <summary>Leave the photo's background as it is (no separation, no WebUI call).</summary>
    public static BackgroundFill KeepOriginal { get; } = new(default, default, true);

    /// <summary>Whether this is a gradient.</summary>
    public bool IsGradient => !Keep && !Top.Equals(Bottom);

    /// <summary>Parses <c>keep</c>, a colour, or <c>gradient:TOP:BOTTOM</c>.</summary>
    /// <exception cref="FormatException">Not one of those; the message lists the forms.</exception>
    public static BackgroundFill Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("keep", StringComparison.OrdinalIgnoreCase))
        {
            return KeepOriginal;
        }

        if (t.StartsWith("gradient:", StringComparison.OrdinalIgnoreCase))
        {
            var parts = t["gradient:".Length..].Split(':');
            if (parts.Length == 2 && BackgroundColours.TryParseColour(parts[0], out var top) && BackgroundColours.TryParseColour(parts[1], out var bottom))
            {
                return new BackgroundFill(top, bottom, false);
            }
        }
        else if (BackgroundColours.TryParseColour(t, out var colour))
        {
            return new BackgroundFill(colour, colour, false);
        }

        throw new FormatException($"'{text}' is not a background: use keep, a colour ({string.Join(", ", BackgroundColours.Names)}), #RRGGBB, or gradient:TOP:BOTTOM (e.g. gradient:white:blue).");
    }

    /// <summary>The fill colour of row <paramref name="y"/> of <paramref name="height"/>.</summary>
    public Rgb24 At(int y, int height)
    {
        if (!IsGradient || height <= 1)
        {
            return Top;
        }

        var t = (double)y / (height - 1);
        return new Rgb24(Lerp(Top.R, Bottom.R, t), Lerp(Top.G, Bottom.G, t), Lerp(Top.B, Bottom.B, t));
    }

    /// <inheritdoc />
    public override string ToString() => Keep ? "keep" : IsGradient ? $"gradient:{BackgroundColours.ToHex(Top)}:{BackgroundColours.ToHex(Bottom)}" : BackgroundColours.ToHex(Top);

    private static byte Lerp(byte a, byte b, double t) => (byte)Math.Round(a + ((b - a) * t));
}

/// <summary>Puts a person (alpha mask: 255 = person) over a new background, keeping soft edges such as hair.</summary>
internal static class BackgroundCompositor
{
    /// <summary>
    /// out = person · α + fill · (1 − α), per pixel, with α = mask / 255. Soft mask values (hair, edges) blend rather than
    /// cut, so fine strands keep their partial coverage.
    /// </summary>
    public static Image<Rgb24> Composite(Image<Rgb24> person, Image<L8> mask, BackgroundFill fill)
    {
        if (person.Width != mask.Width || person.Height != mask.Height)
        {
            throw new ArgumentException($"mask {mask.Width}×{mask.Height} does not match the photo {person.Width}×{person.Height}.", nameof(mask));
        }

        var output = person.Clone();
        if (fill.Keep)
        {
            return output;
        }

        var height = output.Height;
        output.ProcessPixelRows(mask, (rows, alpha) =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                var a = alpha.GetRowSpan(y);
                var bg = fill.At(y, height);
                for (var x = 0; x < row.Length; x++)
                {
                    int m = a[x].PackedValue;
                    if (m == 255)
                    {
                        continue;
                    }

                    var p = row[x];
                    var inv = 255 - m;
                    row[x] = new Rgb24(
                        (byte)(((p.R * m) + (bg.R * inv) + 127) / 255),
                        (byte)(((p.G * m) + (bg.G * inv) + 127) / 255),
                        (byte)(((p.B * m) + (bg.B * inv) + 127) / 255));
                }
            }
        });
        return output;
    }
}
