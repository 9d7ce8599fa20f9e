using System.Globalization;
using System.Net;
using System.Text;
using Miaoya.Imaging;
using Miaoya.Pipeline;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Tuning;

/// <summary>A line of text drawn on the PNG contact sheet, where it was drawn, and at which scale.</summary>
public sealed record SheetLabel(string Text, Rectangle Box, int Scale);

/// <summary>Where everything went on the PNG contact sheet.</summary>
public sealed record SheetLayout(Size Size, IReadOnlyList<SheetLabel> Labels, IReadOnlyList<(int Cell, Rectangle Box)> Thumbnails);

/// <summary>
/// The sweep's results as a grid whose axes are the varied values: the first axis across (columns), the second down
/// (rows), and one grid per combination of any further axes. Written as <c>contact-sheet.html</c> (each cell links to
/// its run folder and manifest and lists its parameters) and <c>contact-sheet.png</c> (thumbnails with the values printed).
/// </summary>
public static class ContactSheet
{
    public const string HtmlFileName = "contact-sheet.html";
    public const string PngFileName = "contact-sheet.png";

    /// <summary>The side of the square each thumbnail is fitted into on the PNG.</summary>
    public const int Thumbnail = 192;

    /// <summary>Text scale on the PNG (font pixels → image pixels).</summary>
    public const int TextScale = 2;

    private const int Pad = 12;
    private static readonly Rgb24 Ink = new(20, 20, 20);
    private static readonly Rgb24 Paper = new(255, 255, 255);
    private static readonly Rgb24 Missing = new(205, 205, 205);

    /// <summary>The grids: for each combination of the third and further axes, its heading and the cell index at [row, column].</summary>
    internal static IReadOnlyList<(string Heading, int[,] Cells)> Grids(IReadOnlyList<SweepAxis> axes)
    {
        var columns = axes[0].Values.Count;
        var rows = axes.Count > 1 ? axes[1].Values.Count : 1;
        var further = axes.Skip(2).ToArray();
        var groupCount = further.Aggregate(1, (n, a) => n * a.Values.Count);
        var grids = new List<(string, int[,])>();
        for (var group = 0; group < groupCount; group++)
        {
            var cells = new int[rows, columns];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    cells[r, c] = c + (columns * (r + (rows * group)));
                }
            }

            var heading = new List<string>();
            var rest = group;
            foreach (var axis in further)
            {
                heading.Add($"{axis.Path}={axis.Values[rest % axis.Values.Count]}");
                rest /= axis.Values.Count;
            }

            grids.Add((string.Join(", ", heading), cells));
        }

        return grids;
    }

    public static async Task<string> WriteHtmlAsync(string folder, SweepManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var definition = manifest.Definition;
        var axes = definition.Axes;
        var zooms = await ZoomsAsync(folder, manifest, cancellationToken);
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Sweep: {{E(RecipeName(definition))}}</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}
            table.grid{border-collapse:collapse;margin-bottom:2rem} .grid th,.grid td{border:1px solid #ddd;padding:.4rem;vertical-align:top;background:#fff}
            .grid th{background:#f0f0f0;font-weight:600} .grid img{display:block;max-width:220px;height:auto}
            .face-zoom{margin-top:.3rem;background-repeat:no-repeat;border:1px solid #ccc}
            .params{font-size:.8rem;margin:.3rem 0 0;padding-left:1rem} .missing{width:220px;height:120px;background:#ddd;display:flex;align-items:center;justify-content:center;text-align:center;font-size:.85rem}
            .failed{color:#a00} .likeness{font-weight:600} .charts{display:flex;flex-wrap:wrap;gap:1rem} .charts figure{margin:0;background:#fff;border:1px solid #ddd;padding:.4rem}
            dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem} dt{font-weight:600}
            </style></head><body>
            <h1>Sweep: {{E(RecipeName(definition))}}</h1>
            <dl><dt>recipe</dt><dd>{{E(definition.Recipe)}}</dd><dt>template</dt><dd>{{E(definition.Template)}}</dd>
            <dt>LoRA</dt><dd>{{E(definition.Lora ?? "none")}}</dd><dt>seed</dt><dd>{{definition.Seed}} (every cell)</dd>
            <dt>--set</dt><dd>{{E(definition.Sets.Count == 0 ? "none" : string.Join(", ", definition.Sets))}}</dd>
            <dt>columns</dt><dd><code>{{E(axes[0].Path)}}</code></dd>
            {{(axes.Count > 1 ? $"<dt>rows</dt><dd><code>{E(axes[1].Path)}</code></dd>" : "")}}
            {{(axes.Count > 2 ? $"<dt>grids</dt><dd>{E(string.Join(", ", axes.Skip(2).Select(a => a.Path)))}</dd>" : "")}}
            <dt>cells</dt><dd>{{manifest.Cells.Count(c => c.Status == CellStatus.Succeeded)}} of {{manifest.Cells.Count}} succeeded</dd>
            {{Person(definition, manifest)}}
            <dt>sweep manifest</dt><dd><a href="{{SweepManifest.FileName}}">{{SweepManifest.FileName}}</a></dd></dl>

            """);
        Charts(html, manifest);
        foreach (var (heading, cells) in Grids(axes))
        {
            if (heading.Length > 0)
            {
                html.Append(CultureInfo.InvariantCulture, $"<h2>{E(heading)}</h2>\n");
            }

            html.Append(CultureInfo.InvariantCulture, $"<table class=\"grid\"><tr><th>{(axes.Count > 1 ? $"{E(axes[1].Path)} ↓ / " : "")}{E(axes[0].Path)} →</th>");
            foreach (var value in axes[0].Values)
            {
                html.Append(CultureInfo.InvariantCulture, $"<th>{E(value)}</th>");
            }

            html.Append("</tr>\n");
            for (var r = 0; r < cells.GetLength(0); r++)
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><th>{(axes.Count > 1 ? E(axes[1].Values[r]) : "")}</th>");
                for (var c = 0; c < cells.GetLength(1); c++)
                {
                    Cell(html, manifest, manifest.Cells[cells[r, c]], zooms);
                }

                html.Append("</tr>\n");
            }

            html.Append("</table>\n");
        }

        html.Append("</body></html>\n");
        var path = Path.Combine(folder, HtmlFileName);
        await AtomicFile.WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(html.ToString()), cancellationToken);
        return Path.GetFullPath(path);
    }

    /// <summary>Each succeeded cell's face window (<see cref="FaceZoom"/>), from its run's manifest.</summary>
    private static async Task<Dictionary<int, (double, double, double, double)>> ZoomsAsync(string folder, SweepManifest manifest, CancellationToken cancellationToken)
    {
        var zooms = new Dictionary<int, (double, double, double, double)>();
        foreach (var cell in manifest.Cells.Where(c => c.Status == CellStatus.Succeeded && c.Final is not null))
        {
            var run = new RunFolder(Path.Combine(folder, cell.Folder));
            try
            {
                if (run.HasManifest && FaceZoom.Window(run.Path, await run.LoadManifestAsync(cancellationToken)) is { } window)
                {
                    zooms[cell.Index] = window;
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
            {
                // A cell whose manifest cannot be read shows no zoom; the sheet is still written.
            }
        }

        return zooms;
    }

    private static void Cell(StringBuilder html, SweepManifest manifest, SweepCellRecord cell, Dictionary<int, (double, double, double, double)> zooms)
    {
        var axes = manifest.Definition.Axes;
        var folder = E(cell.Folder);
        html.Append(CultureInfo.InvariantCulture, $"<td data-cell=\"{cell.Index}\">");
        if (cell.Status == CellStatus.Succeeded && cell.Final is { } final)
        {
            html.Append(CultureInfo.InvariantCulture, $"<a href=\"{folder}/\"><img src=\"{E(final)}\" alt=\"{E(SweepPlan.Label(axes, cell.Values))}\"></a>");
            if (zooms.TryGetValue(cell.Index, out var window))
            {
                html.Append(FaceZoom.Html(final, window, $"face of {SweepPlan.Label(axes, cell.Values)}"));
            }
        }
        else
        {
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"missing {cell.Status.ToString().ToLowerInvariant()}\">{E(cell.Status.ToString().ToLowerInvariant())}{(cell.Error is null ? "" : ": " + E(cell.Error))}</div>");
        }

        html.Append("<ul class=\"params\">");
        for (var a = 0; a < axes.Count; a++)
        {
            html.Append(CultureInfo.InvariantCulture, $"<li><code>{E(axes[a].Path)}</code> = {E(cell.Values[a])}</li>");
        }

        if (cell.Likeness is { } likeness)
        {
            html.Append(CultureInfo.InvariantCulture, $"<li class=\"likeness\">{E(Likeness(likeness))}</li>");
        }

        html.Append(CultureInfo.InvariantCulture, $"<li>seed {manifest.Definition.Seed}{(cell.DurationMs is { } ms ? $", {ms / 1000:0.0} s" : "")}{(cell.Box is null ? "" : $" on {E(cell.Box)}")}</li>");
        html.Append(CultureInfo.InvariantCulture, $"<li><a href=\"{folder}/\">run folder</a> · <a href=\"{folder}/manifest.json\">manifest.json</a></li></ul></td>");
    }

    /// <summary>The person's photos, the scorer and the baseline, for sweeps with face photos.</summary>
    private static string Person(SweepDefinition definition, SweepManifest manifest)
    {
        if (definition.Faces.Count == 0)
        {
            return "";
        }

        var baseline = manifest.Cells.Select(c => c.Likeness?.Baseline).OfType<double>().Select(b => b.ToString("0.000", CultureInfo.InvariantCulture)).FirstOrDefault();
        return $"<dt>face photos</dt><dd>{E(string.Join(", ", definition.Faces.Select(Path.GetFileName)))}</dd>"
            + $"<dt>likeness</dt><dd>{E(definition.Scorer ?? "sface")} ({E(Path.GetFileName(definition.ScorerModel ?? ""))}): cosine of each final image's face to the centroid of the photos; "
            + $"baseline {(baseline ?? (definition.Faces.Count == 1 ? "none (one photo)" : "not yet scored"))}</dd>";
    }

    /// <summary>One chart of similarity against each varied key, when any cell is scored.</summary>
    private static void Charts(StringBuilder html, SweepManifest manifest)
    {
        if (manifest.Definition.Faces.Count == 0)
        {
            return;
        }

        var charts = manifest.Definition.Axes.Select((_, a) => ScoreChart.Svg(manifest, a)).ToArray();
        if (charts[0] is null)
        {
            html.Append("<p>No cell has a likeness score yet.</p>\n");
            return;
        }

        html.Append("<h2>Likeness against each varied value</h2>\n<p>Each point is a cell's similarity to the person (cosine to the centroid of their photos); the line joins the mean per value where a value has several cells. The dashed line is the person's baseline (how alike their own photos are).</p>\n<div class=\"charts\">\n");
        foreach (var chart in charts)
        {
            html.Append("<figure>").Append(chart).Append("</figure>\n");
        }

        html.Append("</div>\n");
    }

    /// <summary>"similarity 0.712, ratio 0.81 (baseline 0.880)", or why there is none.</summary>
    private static string Likeness(CellLikeness likeness)
    {
        var inv = CultureInfo.InvariantCulture;
        if (likeness.Similarity is not { } similarity)
        {
            return string.Create(inv, $"likeness: no face found ({likeness.FacesFound} faces)");
        }

        return string.Create(inv, $"similarity {similarity:0.000}")
            + (likeness.Ratio is { } ratio ? string.Create(inv, $", ratio {ratio:0.00}") : "")
            + (likeness.Baseline is { } baseline ? string.Create(inv, $" (baseline {baseline:0.000})") : "");
    }

    /// <summary>"sim 0.71" under a PNG thumbnail; "no face" when none was scored.</summary>
    internal static string ShortLikeness(CellLikeness likeness) =>
        likeness.Similarity is { } s ? string.Create(CultureInfo.InvariantCulture, $"sim {s:0.00}") : "no face";

    /// <summary>Writes <c>contact-sheet.png</c>: thumbnails of the final images in the grid, the values printed in the headers.</summary>
    public static async Task<SheetLayout> WritePngAsync(string folder, SweepManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var definition = manifest.Definition;
        var axes = definition.Axes;
        var line = (BitmapFont.GlyphHeight * TextScale) + 8;
        var header = new List<string>
        {
            $"{RecipeName(definition)}  seed {definition.Seed}  lora {definition.Lora ?? "none"}",
            $"columns: {axes[0].Path}",
        };
        if (axes.Count > 1)
        {
            header.Add($"rows: {axes[1].Path}");
        }

        // Under each thumbnail, the cell's likeness ("sim 0.71") when the sweep scores cells.
        var scoreLine = definition.Faces.Count > 0 ? line : 0;
        var rowHeaderWidth = axes.Count > 1 ? axes[1].Values.Max(v => BitmapFont.Measure(v, TextScale).Width) + Pad : 0;
        var cellWidth = Math.Max(Thumbnail, axes[0].Values.Max(v => BitmapFont.Measure(v, TextScale).Width)) + Pad;
        var grids = Grids(axes);
        var gridWidth = Pad + rowHeaderWidth + (cellWidth * axes[0].Values.Count);
        var rowsPerGrid = grids[0].Cells.GetLength(0);
        var gridHeight = (grids[0].Heading.Length > 0 ? line : 0) + line + (rowsPerGrid * (Thumbnail + Pad + scoreLine)) + Pad;
        var texts = header.Concat(grids.Select(g => g.Heading));
        var width = Math.Max(gridWidth, texts.Max(t => BitmapFont.Measure(t, TextScale).Width) + (2 * Pad));
        var height = Pad + (header.Count * line) + (grids.Count * gridHeight);

        var labels = new List<SheetLabel>();
        var thumbnails = new List<(int, Rectangle)>();
        using var sheet = new Image<Rgb24>(width, height, Paper);
        void Text(string text, int x, int y)
        {
            BitmapFont.Draw(sheet, text, x, y, TextScale, Ink);
            labels.Add(new SheetLabel(text, new Rectangle(new Point(x, y), BitmapFont.Measure(text, TextScale)), TextScale));
        }

        var top = Pad;
        foreach (var text in header)
        {
            Text(text, Pad, top);
            top += line;
        }

        foreach (var (heading, cells) in grids)
        {
            top += Pad / 2;
            if (heading.Length > 0)
            {
                Text(heading, Pad, top);
                top += line;
            }

            for (var c = 0; c < axes[0].Values.Count; c++)
            {
                Text(axes[0].Values[c], Pad + rowHeaderWidth + (c * cellWidth), top);
            }

            top += line;
            for (var r = 0; r < cells.GetLength(0); r++)
            {
                if (axes.Count > 1)
                {
                    Text(axes[1].Values[r], Pad, top + (Thumbnail / 2) - (BitmapFont.GlyphHeight * TextScale / 2));
                }

                for (var c = 0; c < cells.GetLength(1); c++)
                {
                    var box = new Rectangle(Pad + rowHeaderWidth + (c * cellWidth), top, Thumbnail, Thumbnail);
                    var cell = manifest.Cells[cells[r, c]];
                    await DrawCellAsync(sheet, folder, cell, box, labels, cancellationToken);
                    thumbnails.Add((cells[r, c], box));
                    if (scoreLine > 0 && cell.Likeness is { } likeness)
                    {
                        Text(ShortLikeness(likeness), box.X, box.Bottom + 4);
                    }
                }

                top += Thumbnail + Pad + scoreLine;
            }

            top += Pad / 2;
        }

        await EncodedImage.FromPng(sheet).WriteFileAtomicallyAsync(Path.Combine(folder, PngFileName), cancellationToken);
        return new SheetLayout(new Size(width, height), labels, thumbnails);
    }

    private static async Task DrawCellAsync(Image<Rgb24> sheet, string folder, SweepCellRecord cell, Rectangle box, List<SheetLabel> labels, CancellationToken cancellationToken)
    {
        var path = cell.Final is null ? null : Path.Combine(folder, cell.Final);
        if (cell.Status == CellStatus.Succeeded && path is not null && File.Exists(path))
        {
            try
            {
                using var decoded = await (await EncodedImage.ReadFileAsync(path, cancellationToken)).DecodeAsync(cancellationToken);
                using var image = decoded.CloneAs<Rgb24>();
                image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(box.Width, box.Height), Mode = ResizeMode.Max }));
                var at = new Point(box.X + ((box.Width - image.Width) / 2), box.Y + ((box.Height - image.Height) / 2));
                sheet.Mutate(x => x.DrawImage(image, at, 1f));
                return;
            }
            catch (InvalidImageDataException)
            {
                // Drawn as missing below.
            }
        }

        sheet.ProcessPixelRows(pixels =>
        {
            for (var y = box.Top; y < box.Bottom; y++)
            {
                pixels.GetRowSpan(y).Slice(box.X, box.Width).Fill(Missing);
            }
        });
        var text = cell.Status == CellStatus.Succeeded ? "missing" : cell.Status.ToString().ToLowerInvariant();
        var size = BitmapFont.Measure(text, TextScale);
        var position = new Point(box.X + ((box.Width - size.Width) / 2), box.Y + ((box.Height - size.Height) / 2));
        BitmapFont.Draw(sheet, text, position.X, position.Y, TextScale, Ink);
        labels.Add(new SheetLabel(text, new Rectangle(position, size), TextScale));
    }

    private static string RecipeName(SweepDefinition definition) => Path.GetFileNameWithoutExtension(definition.Recipe);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
