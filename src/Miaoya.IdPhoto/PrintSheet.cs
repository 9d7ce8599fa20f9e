using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.IdPhoto;

/// <summary>A print sheet size.</summary>
public sealed record SheetSize(string Name, double WidthMm, double HeightMm)
{
    /// <summary>6-inch photo paper (4R), 152 × 102 mm.</summary>
    public static SheetSize SixInch { get; } = new("6inch", 152, 102);

    /// <summary>A4, 210 × 297 mm.</summary>
    public static SheetSize A4 { get; } = new("a4", 210, 297);

    /// <summary>The sheets by name: <c>6inch</c> (also <c>4r</c>), <c>a4</c>.</summary>
    public static SheetSize Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "6inch" or "6in" or "4r" => SixInch,
        "a4" => A4,
        _ => throw new FormatException($"'{name}' is not a sheet; use 6inch (4R, 152 × 102 mm) or a4."),
    };
}

/// <summary>
/// Where the copies go on a sheet: a grid of <see cref="Columns"/> × <see cref="Rows"/> copies with the same gap between
/// neighbours in both directions, the block centred on the sheet (so the gaps stay small and even and the leftover paper
/// is the outer margin), in whichever sheet orientation holds more copies.
/// </summary>
public sealed record SheetLayout(int SheetWidth, int SheetHeight, int PhotoWidth, int PhotoHeight, int Columns, int Rows, int Gap, int Left, int Top)
{
    /// <summary>How many copies.</summary>
    public int Count => Columns * Rows;

    /// <summary>The top-left corner of copy (<paramref name="column"/>, <paramref name="row"/>).</summary>
    public Point Origin(int column, int row) => new(Left + (column * (PhotoWidth + Gap)), Top + (row * (PhotoHeight + Gap)));

    /// <summary>
    /// The layout at <paramref name="dpi"/>: gap <paramref name="gapMm"/> (2 mm leaves room for crop marks and a cut), and
    /// at least <paramref name="marginMm"/> of paper around the block (printers do not print to the edge).
    /// </summary>
    public static SheetLayout For(SheetSize sheet, int photoWidth, int photoHeight, int dpi, double gapMm = 2, double marginMm = 3)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        var gap = IdSpec.MmToPixels(gapMm, dpi);
        var margin = IdSpec.MmToPixels(marginMm, dpi);
        var a = IdSpec.MmToPixels(sheet.WidthMm, dpi);
        var b = IdSpec.MmToPixels(sheet.HeightMm, dpi);
        var landscape = Fit(Math.Max(a, b), Math.Min(a, b), photoWidth, photoHeight, gap, margin);
        var portrait = Fit(Math.Min(a, b), Math.Max(a, b), photoWidth, photoHeight, gap, margin);
        var best = portrait.Count > landscape.Count ? portrait : landscape;
        if (best.Count == 0)
        {
            throw new ArgumentException($"a {photoWidth}×{photoHeight} px photo does not fit on {sheet.Name} ({a}×{b} px at {dpi} dpi).");
        }

        return best;
    }

    private static SheetLayout Fit(int width, int height, int pw, int ph, int gap, int margin)
    {
        var columns = Math.Max(0, (width - (2 * margin) + gap) / (pw + gap));
        var rows = Math.Max(0, (height - (2 * margin) + gap) / (ph + gap));
        var blockW = (columns * pw) + (Math.Max(0, columns - 1) * gap);
        var blockH = (rows * ph) + (Math.Max(0, rows - 1) * gap);
        return new SheetLayout(width, height, pw, ph, columns, rows, gap, (width - blockW) / 2, (height - blockH) / 2);
    }
}

/// <summary>Renders print sheets: copies on white, with crop marks.</summary>
internal static class SheetRenderer
{
    /// <summary>Crop-mark colour.</summary>
    public static readonly Rgb24 MarkColour = new(90, 90, 90);

    /// <summary>
    /// The sheet: every copy at its <see cref="SheetLayout.Origin"/>, and crop marks drawn as 1-pixel lines: at each copy's
    /// corners, short ticks continuing its edges into the gap (stopping 2 px short of the neighbour's cut), and long ticks
    /// continuing every cut line into the outer margin.
    /// </summary>
    public static Image<Rgb24> Render(Image<Rgb24> photo, SheetLayout layout)
    {
        var sheet = new Image<Rgb24>(layout.SheetWidth, layout.SheetHeight, new Rgb24(255, 255, 255));
        for (var r = 0; r < layout.Rows; r++)
        {
            for (var c = 0; c < layout.Columns; c++)
            {
                var o = layout.Origin(c, r);
                sheet.Mutate(x => x.DrawImage(photo, o, 1f));
            }
        }

        var tick = Math.Max(1, (layout.Gap / 2) - 2);
        var outer = Math.Max(1, Math.Min(layout.Left, layout.Top) - 4);
        var xs = new List<int>();
        var ys = new List<int>();
        for (var c = 0; c < layout.Columns; c++)
        {
            var x0 = layout.Origin(c, 0).X;
            xs.Add(x0);
            xs.Add(x0 + layout.PhotoWidth - 1);
        }

        for (var r = 0; r < layout.Rows; r++)
        {
            var y0 = layout.Origin(0, r).Y;
            ys.Add(y0);
            ys.Add(y0 + layout.PhotoHeight - 1);
        }

        var blockTop = layout.Top;
        var blockBottom = layout.Top + (layout.Rows * layout.PhotoHeight) + ((layout.Rows - 1) * layout.Gap) - 1;
        var blockLeft = layout.Left;
        var blockRight = layout.Left + (layout.Columns * layout.PhotoWidth) + ((layout.Columns - 1) * layout.Gap) - 1;
        foreach (var x in xs)
        {
            // Long ticks above and below the block, and short ticks in every horizontal gap.
            VLine(sheet, x, blockTop - 2 - outer, blockTop - 2);
            VLine(sheet, x, blockBottom + 2, blockBottom + 2 + outer);
            for (var r = 0; r + 1 < layout.Rows; r++)
            {
                var gapTop = layout.Origin(0, r).Y + layout.PhotoHeight;
                VLine(sheet, x, gapTop + 1, gapTop + tick);
                VLine(sheet, x, gapTop + layout.Gap - tick - 1, gapTop + layout.Gap - 2);
            }
        }

        foreach (var y in ys)
        {
            HLine(sheet, y, blockLeft - 2 - outer, blockLeft - 2);
            HLine(sheet, y, blockRight + 2, blockRight + 2 + outer);
            for (var c = 0; c + 1 < layout.Columns; c++)
            {
                var gapLeft = layout.Origin(c, 0).X + layout.PhotoWidth;
                HLine(sheet, y, gapLeft + 1, gapLeft + tick);
                HLine(sheet, y, gapLeft + layout.Gap - tick - 1, gapLeft + layout.Gap - 2);
            }
        }

        return sheet;
    }

    private static void VLine(Image<Rgb24> image, int x, int y0, int y1)
    {
        for (var y = Math.Max(0, y0); y <= Math.Min(image.Height - 1, y1); y++)
        {
            image[x, y] = MarkColour;
        }
    }

    private static void HLine(Image<Rgb24> image, int y, int x0, int x1)
    {
        for (var x = Math.Max(0, x0); x <= Math.Min(image.Width - 1, x1); x++)
        {
            image[x, y] = MarkColour;
        }
    }
}
