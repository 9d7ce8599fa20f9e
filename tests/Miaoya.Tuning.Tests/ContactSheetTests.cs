using System.Text.RegularExpressions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Tuning.Tests;

/// <summary>The contact sheets from a sweep folder made in code: solid-colour "final images" show where each cell landed.</summary>
public sealed partial class ContactSheetTests : IDisposable
{
    private static readonly Rgb24 Ink = new(20, 20, 20);
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-sheet-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A finished sweep whose cell i has a 300×400 final image of colour (i*20, 100, 200).</summary>
    private async Task<SweepManifest> SweepAsync(params SweepAxis[] axes)
    {
        var manifest = SweepManifest.Create(SweepHarness.Definition(axes));
        foreach (var cell in manifest.Cells)
        {
            Directory.CreateDirectory(Path.Combine(_folder, cell.Folder));
            using var image = new Image<Rgb24>(300, 400, Colour(cell.Index));
            await image.SaveAsPngAsync(Path.Combine(_folder, cell.Folder, "final.png"));
            cell.Status = CellStatus.Succeeded;
            cell.Final = $"{cell.Folder}/final.png";
        }

        await manifest.SaveAsync(_folder);
        return manifest;
    }

    private static Rgb24 Colour(int cell) => new((byte)(cell * 20), 100, 200);

    [Fact]
    public void Grids_FirstAxisColumns_SecondRows_FurtherAxesOneGridEach()
    {
        var axes = new[] { new SweepAxis("a", ["1", "2", "3"]), new SweepAxis("b", ["x", "y"]), new SweepAxis("c", ["p", "q"]) };
        var cells = SweepPlan.Expand(axes);

        var grids = ContactSheet.Grids(axes);

        Assert.Equal(["c=p", "c=q"], grids.Select(g => g.Heading));
        foreach (var (heading, grid) in grids)
        {
            Assert.Equal((2, 3), (grid.GetLength(0), grid.GetLength(1)));
            for (var r = 0; r < 2; r++)
            {
                for (var c = 0; c < 3; c++)
                {
                    Assert.Equal([axes[0].Values[c], axes[1].Values[r], heading[2..]], cells[grid[r, c]].Values(axes));
                }
            }
        }
    }

    [Fact]
    public async Task Html_IsAGridOfLinkedCells_WithTheirParameters()
    {
        var manifest = await SweepAsync(new SweepAxis("inpaint.controlnet.softedge.weight", ["0.5", "0.75", "1.0"]), new SweepAxis("inpaint.denoising_strength", ["0.4", "0.6"]));
        manifest.Cells[4].Status = CellStatus.Failed;
        manifest.Cells[4].Error = "the box said <no>";

        var html = await File.ReadAllTextAsync(await ContactSheet.WriteHtmlAsync(_folder, manifest));

        Assert.Single(TableRegex().Matches(html));
        var rows = RowRegex().Matches(html).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.Equal(["0.5", "0.75", "1.0"], HeaderRegex().Matches(rows[0]).Skip(1).Select(m => m.Groups[1].Value));
        Assert.Equal(["0.4", "0.6"], rows.Skip(1).Select(r => HeaderRegex().Match(r).Groups[1].Value));
        Assert.Equal([0, 1, 2], CellRegex().Matches(rows[1]).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal([3, 4, 5], CellRegex().Matches(rows[2]).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(5, ImageRegex().Count(html));
        foreach (var cell in manifest.Cells.Where(c => c.Status == CellStatus.Succeeded))
        {
            Assert.Contains($"<a href=\"{cell.Folder}/\"><img src=\"{cell.Folder}/final.png\"", html, StringComparison.Ordinal);
            Assert.Contains($"<a href=\"{cell.Folder}/manifest.json\">manifest.json</a>", html, StringComparison.Ordinal);
        }

        Assert.Contains("failed: the box said &lt;no&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<li><code>inpaint.denoising_strength</code> = 0.6</li>", rows[2], StringComparison.Ordinal);
        Assert.Contains("seed 4242", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_ThreeAxes_OneGridPerThirdValue()
    {
        var manifest = await SweepAsync(new SweepAxis("a", ["1", "2"]), new SweepAxis("b", ["x"]), new SweepAxis("inpaint.steps", ["20", "30"]));

        var html = await File.ReadAllTextAsync(await ContactSheet.WriteHtmlAsync(_folder, manifest));

        Assert.Equal(2, TableRegex().Count(html));
        Assert.Contains("<h2>inpaint.steps=20</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>inpaint.steps=30</h2>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Png_PutsEachCellInItsColumnAndRow_AndPrintsTheValues()
    {
        var manifest = await SweepAsync(new SweepAxis("inpaint.controlnet.softedge.weight", ["0.5", "0.75", "1.0"]), new SweepAxis("inpaint.denoising_strength", ["0.4", "0.6"]));

        var layout = await ContactSheet.WritePngAsync(_folder, manifest);

        using var sheet = await Image.LoadAsync<Rgb24>(Path.Combine(_folder, ContactSheet.PngFileName));
        Assert.Equal(layout.Size, sheet.Size());
        Assert.Equal(6, layout.Thumbnails.Count);
        foreach (var (cell, box) in layout.Thumbnails)
        {
            // 300×400 fitted into 192×192: 144×192, centred.
            Assert.Equal(Colour(cell), sheet[box.X + (box.Width / 2), box.Y + (box.Height / 2)]);
            Assert.Equal(Colour(cell), sheet[box.X + 25, box.Y + 1]);
            Assert.Equal(new Rgb24(255, 255, 255), sheet[box.X + 2, box.Y + 1]);
        }

        var columns = layout.Thumbnails.Where(t => t.Cell < 3).OrderBy(t => t.Box.X).Select(t => t.Cell);
        Assert.Equal([0, 1, 2], columns);
        Assert.True(layout.Thumbnails.Single(t => t.Cell == 3).Box.Y > layout.Thumbnails.Single(t => t.Cell == 0).Box.Y);

        // Every value is printed, left to right / top to bottom, and each label has exactly its glyphs' ink.
        string[] expected = ["columns: inpaint.controlnet.softedge.weight", "rows: inpaint.denoising_strength", "0.5", "0.75", "1.0", "0.4", "0.6"];
        foreach (var text in expected)
        {
            Assert.Contains(layout.Labels, l => l.Text == text);
        }

        foreach (var label in layout.Labels)
        {
            Assert.Equal(BitmapFont.InkCount(label.Text) * label.Scale * label.Scale, CountInk(sheet, label.Box));
        }

        var first = layout.Labels.Single(l => l.Text == "0.5");
        Assert.Equal(Ink, sheet[first.Box.X + (2 * first.Scale), first.Box.Y + (0 * first.Scale)]); // '0' row 0 ".###."
        Assert.Equal(new Rgb24(255, 255, 255), sheet[first.Box.X, first.Box.Y]); // its corner is blank
        Assert.True(layout.Labels.Single(l => l.Text == "0.6").Box.Y > layout.Labels.Single(l => l.Text == "0.4").Box.Y);
        Assert.True(layout.Labels.Single(l => l.Text == "1.0").Box.X > layout.Labels.Single(l => l.Text == "0.75").Box.X);
    }

    [Fact]
    public async Task Png_MissingOrFailedCell_IsAGreyBoxSayingSo()
    {
        var manifest = await SweepAsync(new SweepAxis("a", ["1", "2"]));
        manifest.Cells[1].Status = CellStatus.Failed;

        var layout = await ContactSheet.WritePngAsync(_folder, manifest);

        using var sheet = await Image.LoadAsync<Rgb24>(Path.Combine(_folder, ContactSheet.PngFileName));
        var box = layout.Thumbnails.Single(t => t.Cell == 1).Box;
        Assert.Equal(new Rgb24(205, 205, 205), sheet[box.X + 1, box.Y + 1]);
        var label = Assert.Single(layout.Labels, l => l.Text == "failed");
        Assert.True(box.Contains(label.Box));
        Assert.Equal(BitmapFont.InkCount("failed") * 4, CountInk(sheet, label.Box));
    }

    [Fact]
    public void Font_CoversPrintableAscii_WithDistinctGlyphs()
    {
        var glyphs = Enumerable.Range(0x21, 0x7E - 0x20).Select(c => Convert.ToHexString(BitmapFont.Glyph((char)c))).ToArray();

        Assert.Equal(94, glyphs.Distinct().Count());
        Assert.Equal(0, BitmapFont.InkCount(" "));
        Assert.Equal(Convert.ToHexString(BitmapFont.Glyph('?')), Convert.ToHexString(BitmapFont.Glyph('é')));
        Assert.Equal(new Size(((3 * 6) - 1) * 2, 14), BitmapFont.Measure("abc", 2));
    }

    private static int CountInk(Image<Rgb24> image, Rectangle box)
    {
        var count = 0;
        for (var y = box.Top; y < box.Bottom; y++)
        {
            for (var x = box.Left; x < box.Right; x++)
            {
                count += image[x, y] == Ink ? 1 : 0;
            }
        }

        return count;
    }

    [GeneratedRegex("<table class=\"grid\">")]
    private static partial Regex TableRegex();

    [GeneratedRegex("<tr>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex RowRegex();

    [GeneratedRegex("<th>([^<]*)</th>")]
    private static partial Regex HeaderRegex();

    [GeneratedRegex("<td data-cell=\"(\\d+)\">")]
    private static partial Regex CellRegex();

    [GeneratedRegex("<img ")]
    private static partial Regex ImageRegex();
}
