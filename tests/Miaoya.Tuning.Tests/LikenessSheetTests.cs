using System.Globalization;
using System.Xml.Linq;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Tuning.Tests;

/// <summary>The contact sheets of a scored sweep: the figures under each cell, and one SVG chart per varied key.</summary>
public sealed class LikenessSheetTests : IDisposable
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-likeness-sheet-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A finished, scored sweep: cell i has a grey final image and similarity <paramref name="similarity"/>(i).</summary>
    private async Task<SweepManifest> SweepAsync(Func<int, double?> similarity, params SweepAxis[] axes)
    {
        var manifest = SweepManifest.Create(SweepHarness.Definition(axes) with { Faces = ["/photos/me.jpg", "/photos/me2.jpg"], Scorer = "sface", ScorerModel = "/models/face_recognition_sface_2021dec.onnx" });
        foreach (var cell in manifest.Cells)
        {
            Directory.CreateDirectory(Path.Combine(_folder, cell.Folder));
            using var image = new Image<Rgb24>(100, 100, new Rgb24(128, 128, 128));
            await image.SaveAsPngAsync(Path.Combine(_folder, cell.Folder, "final.png"));
            cell.Status = CellStatus.Succeeded;
            cell.Final = $"{cell.Folder}/final.png";
            var s = similarity(cell.Index);
            cell.Likeness = new CellLikeness(s, s / 0.9, 0.9, s is null ? 0 : 1);
        }

        await manifest.SaveAsync(_folder);
        return manifest;
    }

    private static XElement Chart(SweepManifest manifest, int axis) => XElement.Parse(ScoreChart.Svg(manifest, axis)!);

    private static double D(XElement e, string attribute) => double.Parse(e.Attribute(attribute)!.Value, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Chart_HasOnePointPerScoredCell_AtItsValueAndSimilarity()
    {
        var manifest = await SweepAsync(i => i == 2 ? null : 0.5 + (0.1 * i), new SweepAxis("identity.weight", ["0.2", "0.5", "0.8"]));

        var svg = Chart(manifest, 0);

        // y: the scores 0.5..0.6 and the baseline 0.9, to the nearest 0.1; x: 0.2..0.8 linear across the plot.
        Assert.Equal((0.5, 0.9), (D(svg, "data-y-low"), D(svg, "data-y-high")));
        var points = svg.Descendants(Svg + "circle").ToArray();
        Assert.Equal(["0", "1"], points.Select(p => p.Attribute("data-cell")!.Value)); // cell 2 found no face
        double left = ScoreChart.Left + ScoreChart.Inset, right = ScoreChart.Width - ScoreChart.Right - ScoreChart.Inset;
        double top = ScoreChart.Top, bottom = ScoreChart.Height - ScoreChart.Bottom;
        Assert.Equal(left, D(points[0], "cx"), 2);
        Assert.Equal(left + ((right - left) * 0.5), D(points[1], "cx"), 2);
        Assert.Equal(bottom, D(points[0], "cy"), 2); // 0.5 = the range's low end
        Assert.Equal(bottom - ((bottom - top) * 0.25), D(points[1], "cy"), 2); // 0.6
        Assert.Equal(["0.2", "0.5"], points.Select(p => p.Attribute("data-value")!.Value));
        Assert.Equal(["0.5", "0.6"], points.Select(p => p.Attribute("data-similarity")!.Value));

        // Axis labels and the values; one cell per value draws no mean line.
        Assert.Equal(["0.2", "0.5", "0.8"], svg.Descendants(Svg + "text").Where(t => t.Attribute("class")?.Value == "x-tick").Select(t => t.Value));
        Assert.Equal(["0.5", "0.6", "0.7", "0.8", "0.9"], svg.Descendants(Svg + "text").Where(t => t.Attribute("class")?.Value == "y-tick").Select(t => t.Value));
        Assert.Equal("identity.weight", svg.Descendants(Svg + "text").Single(t => t.Attribute("class")?.Value == "x-label").Value);
        Assert.Equal("similarity", svg.Descendants(Svg + "text").Single(t => t.Attribute("class")?.Value == "y-label").Value);
        Assert.Empty(svg.Descendants(Svg + "polyline"));
        Assert.Equal(ScoreChart.Y(0.9, (0.5, 0.9)), D(svg.Descendants(Svg + "line").Single(l => l.Attribute("class")?.Value == "baseline"), "y1"), 2);
    }

    [Fact]
    public async Task Chart_SeveralCellsPerValue_DrawsTheMeanLine_AndTextValuesAreEvenlySpaced()
    {
        // Cells: (sampler, steps) = (a,20) (b,20) (a,30) (b,30); similarity 0.40 0.60 0.50 0.80.
        double[] sims = [0.4, 0.6, 0.5, 0.8];
        var manifest = await SweepAsync(i => sims[i], new SweepAxis("inpaint.sampler", ["Euler a", "DPM++ 2M"]), new SweepAxis("inpaint.steps", ["20", "30"]));

        var bySampler = Chart(manifest, 0);
        var bySteps = Chart(manifest, 1);

        Assert.Equal(4, bySampler.Descendants(Svg + "circle").Count());
        Assert.Equal(4, bySteps.Descendants(Svg + "circle").Count());
        var range = (D(bySampler, "data-y-low"), D(bySampler, "data-y-high"));
        Assert.Equal((0.4, 0.9), range);
        var xs = ScoreChart.Xs(manifest.Definition.Axes[0]);
        Assert.Equal([ScoreChart.Left + ScoreChart.Inset, ScoreChart.Width - ScoreChart.Right - ScoreChart.Inset], xs);
        var mean = bySampler.Descendants(Svg + "polyline").Single().Attribute("points")!.Value.Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(2, mean.Length);
        Assert.Equal(xs[0], mean[0][0], 2);
        Assert.Equal(ScoreChart.Y(0.45, range), mean[0][1], 2); // Euler a: (0.4 + 0.5) / 2
        Assert.Equal(ScoreChart.Y(0.70, range), mean[1][1], 2); // DPM++ 2M: (0.6 + 0.8) / 2
        var stepsMean = bySteps.Descendants(Svg + "polyline").Single().Attribute("points")!.Value.Split(' ');
        Assert.Equal(ScoreChart.Y(0.65, range), double.Parse(stepsMean[1].Split(',')[1], CultureInfo.InvariantCulture), 2); // 30 steps: (0.5 + 0.8) / 2
    }

    [Fact]
    public async Task Html_ShowsTheFiguresPerCell_AndOneInlineChartPerKey_WithoutScripts()
    {
        double[] sims = [0.4, 0.6, 0.5, 0.8];
        var manifest = await SweepAsync(i => sims[i], new SweepAxis("inpaint.sampler", ["Euler a", "DPM++ 2M"]), new SweepAxis("inpaint.steps", ["20", "30"]));

        var html = await File.ReadAllTextAsync(await ContactSheet.WriteHtmlAsync(_folder, manifest));

        Assert.Equal(2, html.Split("<svg class=\"chart\"").Length - 1);
        Assert.Contains("<li class=\"likeness\">similarity 0.800, ratio 0.89 (baseline 0.900)</li>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>face photos</dt><dd>me.jpg, me2.jpg</dd>", html, StringComparison.Ordinal);
        Assert.Contains("baseline 0.900", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_WithoutFacePhotos_HasNoCharts()
    {
        var manifest = SweepManifest.Create(SweepHarness.Definition(new SweepAxis("a", ["1", "2"])));

        var html = await File.ReadAllTextAsync(await ContactSheet.WriteHtmlAsync(_folder, manifest));

        Assert.DoesNotContain("<svg", html, StringComparison.Ordinal);
        Assert.Null(ScoreChart.Svg(manifest, 0));
    }

    [Fact]
    public async Task Png_PrintsTheSimilarityUnderEachThumbnail()
    {
        var manifest = await SweepAsync(i => i == 1 ? null : 0.712, new SweepAxis("identity.weight", ["0.2", "0.8"]), new SweepAxis("inpaint.steps", ["20", "30"]));

        var layout = await ContactSheet.WritePngAsync(_folder, manifest);

        using var sheet = await Image.LoadAsync<Rgb24>(Path.Combine(_folder, ContactSheet.PngFileName));
        foreach (var (cell, box) in layout.Thumbnails)
        {
            var label = Assert.Single(layout.Labels, l => l.Box.Y == box.Bottom + 4 && l.Box.X == box.X);
            Assert.Equal(cell == 1 ? "no face" : "sim 0.71", label.Text);
            Assert.True(label.Box.Bottom <= sheet.Height);
            Assert.All(layout.Thumbnails, t => Assert.False(t.Box.IntersectsWith(label.Box)));
        }
    }
}
