using System.Globalization;
using Miaoya.Imaging;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.IdPhoto;

/// <summary>A closed range of fractions (of the photo's height or width).</summary>
public readonly record struct FractionRange(double Min, double Max)
{
    /// <summary>The middle of the range.</summary>
    public double Mid => (Min + Max) / 2;

    /// <summary>Whether <paramref name="value"/> lies in the range.</summary>
    public bool Contains(double value) => value >= Min && value <= Max;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Min:0.###}–{Max:0.###}");
}

/// <summary>
/// One ID-photo specification (a <c>recipes/id-specs/*.yaml</c> file): the physical size, the head geometry as
/// fractions of the photo, the allowed backgrounds and the file rules. Fractions of the height are measured from the top
/// edge: <see cref="TopMargin"/> top edge → crown, <see cref="HeadHeight"/> crown → chin, <see cref="EyeLine"/> top
/// edge → the line through the eyes.
/// </summary>
public sealed record IdSpec
{
    /// <summary>The DPIs a photo may be made at: 300 (print shops, the default), 254 (studios: 1000 px = 10 cm) and 350.</summary>
    public static readonly IReadOnlyList<int> SupportedDpis = [300, 254, 350];

    /// <summary>Short name, e.g. <c>cn-1inch</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Human title.</summary>
    public required string Title { get; init; }

    /// <summary>Width in millimetres.</summary>
    public required double WidthMm { get; init; }

    /// <summary>Height in millimetres.</summary>
    public required double HeightMm { get; init; }

    /// <summary>The default DPI (300 unless the file says otherwise).</summary>
    public int Dpi { get; init; } = 300;

    /// <summary>Crown to chin over the photo height.</summary>
    public required FractionRange HeadHeight { get; init; }

    /// <summary>Top edge to crown over the photo height.</summary>
    public required FractionRange TopMargin { get; init; }

    /// <summary>Top edge to the eye line over the photo height.</summary>
    public required FractionRange EyeLine { get; init; }

    /// <summary>Largest allowed |head centre − photo centre| over the photo width.</summary>
    public double CentreTolerance { get; init; } = 0.05;

    /// <summary>Largest allowed head roll (eye line against the horizontal), degrees.</summary>
    public double MaxRollDegrees { get; init; } = 5;

    /// <summary>Allowed background colours (names of <see cref="BackgroundColours"/> or #RRGGBB).</summary>
    public required IReadOnlyList<string> Backgrounds { get; init; }

    /// <summary>Largest ΔE2000 between the mean background and the nearest allowed colour.</summary>
    public double BackgroundDeltaE { get; init; } = BackgroundColours.DefaultAllowedDeltaE;

    /// <summary>Largest ΔE2000 spread (95th percentile of each sample against the mean) over the background region.</summary>
    public double UniformityDeltaE { get; init; } = 6;

    /// <summary>The default of <see cref="RimDeltaE"/>.</summary>
    public const double DefaultRimDeltaE = 10;

    /// <summary>
    /// Largest ΔE2000 (90th percentile) between the target colour and the band of a few pixels just outside the person's
    /// matte: a halo of the old backdrop or a cut edge shows there first.
    /// </summary>
    public double RimDeltaE { get; init; } = DefaultRimDeltaE;

    /// <summary>Allowed file formats: <c>jpeg</c>, <c>png</c>.</summary>
    public required IReadOnlyList<string> Formats { get; init; }

    /// <summary>Smallest file size in KB (1 KB = 1024 bytes), or null.</summary>
    public int? MinKb { get; init; }

    /// <summary>Largest file size in KB (1 KB = 1024 bytes), or null.</summary>
    public int? MaxKb { get; init; }

    /// <summary>Where the numbers come from.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>The pixel size at <paramref name="dpi"/>: millimetres / 25.4 × dpi, rounded to the nearest pixel.</summary>
    public (int Width, int Height) PixelSize(int dpi) => (MmToPixels(WidthMm, dpi), MmToPixels(HeightMm, dpi));

    /// <summary>Millimetres to pixels at <paramref name="dpi"/>, rounded to the nearest pixel (half away from zero).</summary>
    public static int MmToPixels(double mm, int dpi) => (int)Math.Round(mm / 25.4 * dpi, MidpointRounding.AwayFromZero);

    /// <summary>The allowed background colour nearest to <paramref name="colour"/> (ΔE2000), with its name as the spec writes it.</summary>
    public (string Name, Rgb24 Colour, double DeltaE) NearestBackground(Lab colour)
    {
        var best = (Name: "?", Colour: default(Rgb24), DeltaE: double.MaxValue);
        foreach (var name in Backgrounds)
        {
            if (BackgroundColours.TryParseColour(name, out var c))
            {
                var d = Lab.DeltaE2000(colour, Lab.FromRgb(c.R, c.G, c.B));
                if (d < best.DeltaE)
                {
                    best = (name, c, d);
                }
            }
        }

        return best;
    }

    /// <summary>
    /// Why this spec forbids <paramref name="fill"/>, or null when it allows it: <c>keep</c> is always allowed (the
    /// verdict measures the photo's own background); a colour, and each end of a gradient, must lie within
    /// <see cref="BackgroundDeltaE"/> of an allowed colour, as the verdict's background_colour rule measures.
    /// </summary>
    public string? BackgroundProblem(BackgroundFill fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        if (fill.Keep)
        {
            return null;
        }

        foreach (var end in fill.IsGradient ? [fill.Top, fill.Bottom] : new[] { fill.Top })
        {
            var (name, _, distance) = NearestBackground(Lab.FromRgb(end.R, end.G, end.B));
            if (distance > BackgroundDeltaE)
            {
                var what = BackgroundColours.NameOf(end) is { } named ? $"{named} ({BackgroundColours.ToHex(end)})" : BackgroundColours.ToHex(end);
                var others = IdSpecs.BuiltIn.Where(s => s.Name != Name && s.NearestBackground(Lab.FromRgb(end.R, end.G, end.B)).DeltaE <= s.BackgroundDeltaE).Select(s => s.Name).ToArray();
                return string.Create(CultureInfo.InvariantCulture,
                    $"{Name} does not allow a {what} background (ΔE {distance:0.0} from {name}, the nearest allowed colour; at most {BackgroundDeltaE:0.#}). {Name} allows {string.Join(", ", Backgrounds)}: choose one of those{(others.Length > 0 ? $", or a spec that allows {what}: {string.Join(", ", others)}" : string.Empty)}.");
            }
        }

        return null;
    }

    /// <summary>Throws unless <paramref name="dpi"/> is one of <see cref="SupportedDpis"/>.</summary>
    public static void CheckDpi(int dpi)
    {
        if (!SupportedDpis.Contains(dpi))
        {
            throw new ArgumentOutOfRangeException(nameof(dpi), dpi, $"{dpi} dpi is not supported; use {string.Join(", ", SupportedDpis)}.");
        }
    }
}
