using Miaoya.Limits;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.Pipeline;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Tuning;

/// <summary>One value that differs between the two runs (null: the run has no such value).</summary>
public sealed record RunDifference(string Key, string? A, string? B);

/// <summary>A step's duration in each run (null: the run has no such step).</summary>
public sealed record StepTiming(string Step, double? A, double? B);

/// <summary>A step's image in each run (full paths; null when that run has none).</summary>
public sealed record ImagePair(string Step, string File, string? A, string? B);

/// <summary>Bad input to <c>miaoya compare</c>: not a run folder, manifest missing or unreadable. The message names the path.</summary>
public sealed class CompareException : Exception
{
    public CompareException(string message)
        : base(message)
    {
    }

    public CompareException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CompareException()
        : this("the runs cannot be compared.")
    {
    }
}

/// <summary>
/// What differs between two run folders: the resolved recipe values (<c>recipe.yaml</c>), the inputs, models, seeds,
/// server versions and every recorded request and answer field (<c>manifest.json</c>), and each step's timings and images.
/// </summary>
public sealed class RunComparison
{
    public const string HtmlFileName = "compare.html";

    // Noise for a diff: long texts repeated elsewhere (infotext), per-tag confidences (the prompt shows the tags used).
    private static readonly string[] Skipped = ["started_at", "duration_ms", "infotext", "tags", "ratings"];

    private RunComparison(string folderA, string folderB, RunManifest a, RunManifest b, IReadOnlyList<RunDifference> differences, int compared, IReadOnlyList<StepTiming> timings, IReadOnlyList<ImagePair> images)
    {
        FolderA = folderA;
        FolderB = folderB;
        A = a;
        B = b;
        Differences = differences;
        Compared = compared;
        Timings = timings;
        Images = images;
    }

    public string FolderA { get; }

    public string FolderB { get; }

    public RunManifest A { get; }

    public RunManifest B { get; }

    /// <summary>The values that differ, recipe values first, then the manifest's in its order.</summary>
    public IReadOnlyList<RunDifference> Differences { get; }

    /// <summary>How many values were compared.</summary>
    public int Compared { get; }

    public IReadOnlyList<StepTiming> Timings { get; }

    public IReadOnlyList<ImagePair> Images { get; }

    /// <exception cref="CompareException">Either folder is not a run folder, or its manifest is missing or corrupt.</exception>
    public static async Task<RunComparison> LoadAsync(string runA, string runB, CancellationToken cancellationToken = default)
    {
        var (folderA, manifestA, flatA) = await ReadAsync(runA, "RUN_A", cancellationToken);
        var (folderB, manifestB, flatB) = await ReadAsync(runB, "RUN_B", cancellationToken);
        var keys = flatA.Keys.Concat(flatB.Keys.Where(k => !flatA.ContainsKey(k))).ToArray();
        var differences = keys
            .Select(k => new RunDifference(k, flatA.GetValueOrDefault(k), flatB.GetValueOrDefault(k)))
            .Where(d => d.A != d.B)
            .ToArray();
        var steps = manifestA.Steps.Select(s => s.Name).Concat(manifestB.Steps.Select(s => s.Name)).Distinct(StringComparer.Ordinal).ToArray();
        var timings = steps.Select(s => new StepTiming(s, manifestA.Step(s)?.DurationMs, manifestB.Step(s)?.DurationMs)).ToArray();
        var images = new List<ImagePair>
        {
            new("template", "template.png", Path.Combine(folderA, manifestA.Inputs.Template.File), Path.Combine(folderB, manifestB.Inputs.Template.File)),
        };
        foreach (var step in steps)
        {
            var filesA = ImageOutputs(manifestA.Step(step));
            var filesB = ImageOutputs(manifestB.Step(step));
            foreach (var file in filesA.Concat(filesB.Where(f => !filesA.Contains(f))))
            {
                images.Add(new ImagePair(step, file, filesA.Contains(file) ? Path.Combine(folderA, file) : null, filesB.Contains(file) ? Path.Combine(folderB, file) : null));
            }
        }

        images.Add(new ImagePair("final", "final.png", manifestA.Final is { } fa ? Path.Combine(folderA, fa.File) : null, manifestB.Final is { } fb ? Path.Combine(folderB, fb.File) : null));
        return new RunComparison(folderA, folderB, manifestA, manifestB, differences, keys.Length, timings, images);
    }

    /// <summary>The differences and the timings as plain-text tables, values cut to <paramref name="valueWidth"/> characters.</summary>
    public string FormatTable(int valueWidth = 48)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"A: {FolderA}\nB: {FolderB}\n\n");
        if (Differences.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"No differences in {Compared} values.\n");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"{Differences.Count} of {Compared} values differ:\n");
            Table(text, ["value", "A", "B"], Differences.Select(d => new[] { d.Key, Cut(d.A ?? "-", valueWidth), Cut(d.B ?? "-", valueWidth) }).ToArray());
        }

        text.Append("\nStep timings:\n");
        Table(text, ["step", "A ms", "B ms", "B - A"], Timings.Select(t => new[]
        {
            t.Step,
            t.A is { } a ? a.ToString("0", CultureInfo.InvariantCulture) : "-",
            t.B is { } b ? b.ToString("0", CultureInfo.InvariantCulture) : "-",
            t.A is { } x && t.B is { } y ? (y - x).ToString("+0;-0;0", CultureInfo.InvariantCulture) : "-",
        }).ToArray());
        return text.ToString();
    }

    /// <summary>Writes <c>compare.html</c> into <paramref name="folder"/>: the differences, the timings and each step's images side by side.</summary>
    public async Task<string> WriteHtmlAsync(string folder, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        var full = Path.GetFullPath(folder);
        string Link(string path) => string.Join('/', Path.GetRelativePath(full, path).Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString));
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Compare {{E(Path.GetFileName(FolderA))}} / {{E(Path.GetFileName(FolderB))}}</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}
            table{border-collapse:collapse;font-size:.85rem;margin-bottom:2rem} td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;background:#fff}
            th{background:#f0f0f0} td code{white-space:pre-wrap;word-break:break-word} .images img{display:block;max-width:320px;height:auto}
            .none{color:#888} .face-zoom{background-repeat:no-repeat;border:1px solid #ccc}
            </style></head><body>
            <h1>Compare runs</h1>
            <p>A: <a href="{{E(Link(FolderA))}}/manifest.json">{{E(FolderA)}}</a> ({{E(A.Recipe.Name)}}, {{E(A.Status.ToString())}})<br>
            B: <a href="{{E(Link(FolderB))}}/manifest.json">{{E(FolderB)}}</a> ({{E(B.Recipe.Name)}}, {{E(B.Status.ToString())}})</p>
            <h2>{{(Differences.Count == 0 ? $"No differences in {Compared} values" : $"{Differences.Count} of {Compared} values differ")}}</h2>
            <table class="differences"><tr><th>value</th><th>A</th><th>B</th></tr>

            """);
        foreach (var d in Differences)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(d.Key)}</td><td>{Value(d.A)}</td><td>{Value(d.B)}</td></tr>\n");
        }

        html.Append("</table>\n<h2>Step timings</h2>\n<table class=\"timings\"><tr><th>step</th><th>A ms</th><th>B ms</th></tr>\n");
        foreach (var t in Timings)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(t.Step)}</td><td>{t.A:0}</td><td>{t.B:0}</td></tr>\n");
        }

        html.Append("</table>\n<h2>Images</h2>\n<table class=\"images\"><tr><th>step</th><th>A</th><th>B</th></tr>\n");
        var (zoomA, zoomB) = (FaceZoom.Window(FolderA, A), FaceZoom.Window(FolderB, B));
        var maps = A.Steps.Concat(B.Steps).SelectMany(ControlNetMaps.Of).DistinctBy(m => m.File).ToDictionary(m => m.File, m => m.Label);
        foreach (var pair in Images)
        {
            var label = maps.TryGetValue(pair.File, out var unit) ? $"<br><small>ControlNet map: {E(unit)}</small>" : "";
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(pair.Step)}<br><small>{E(pair.File)}</small>{label}</td><td>{Image(pair.A)}</td><td>{Image(pair.B)}</td></tr>\n");
            if (pair.Step == "final" && (zoomA is not null || zoomB is not null))
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>final: the face</td><td>{Zoom(pair.A, zoomA)}</td><td>{Zoom(pair.B, zoomB)}</td></tr>\n");
            }
        }

        html.Append("</table>\n</body></html>\n");
        var path = Path.Combine(full, HtmlFileName);
        await AtomicFile.WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(html.ToString()), cancellationToken);
        return path;

        string Zoom(string? file, (double, double, double, double)? window) => file is null || window is not { } w || !File.Exists(file)
            ? "<span class=\"none\">none</span>"
            : FaceZoom.Html(Link(file), w, $"face in {Path.GetFileName(file)}", 192);

        string Image(string? file) => file is null || !File.Exists(file)
            ? "<span class=\"none\">none</span>"
            : $"<a href=\"{E(Link(file))}\"><img src=\"{E(Link(file))}\" alt=\"{E(Path.GetFileName(file))}\"></a>";
    }

    private static async Task<(string Folder, RunManifest Manifest, Dictionary<string, string> Values)> ReadAsync(string path, string name, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            throw new CompareException(File.Exists(full)
                ? $"{name}: {full} is a file; give the run folder (the one holding manifest.json)."
                : $"{name}: {full}: no such folder.");
        }

        if (File.Exists(Path.Combine(full, SweepManifest.FileName)) && !File.Exists(Path.Combine(full, RunFolder.ManifestFileName)))
        {
            throw new CompareException($"{name}: {full} is a sweep folder; compare two of its cells' run folders (the subfolders listed in {SweepManifest.FileName}).");
        }

        RunManifest manifest;
        JsonNode? json;
        try
        {
            manifest = await new RunFolder(full).LoadManifestAsync(cancellationToken);
            json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(full, RunFolder.ManifestFileName), cancellationToken));
        }
        catch (PipelineException e)
        {
            throw new CompareException($"{name}: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new CompareException($"{name}: {Path.Combine(full, RunFolder.ManifestFileName)}: not a valid manifest ({e.Message}).", e);
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var recipe = Path.Combine(full, "recipe.yaml");
        if (File.Exists(recipe))
        {
            try
            {
                var stream = BoundedYaml.LoadFile(recipe);
                if (stream.Documents.Count > 0)
                {
                    Flatten(stream.Documents[0].RootNode, "recipe: ", values);
                }
            }
            catch (YamlDotNet.Core.YamlException e)
            {
                throw new CompareException($"{name}: {recipe}: not valid YAML ({(e as YamlLimitException)?.Reason ?? e.Message}).", e);
            }
            catch (InputLimitException e)
            {
                throw new CompareException($"{name}: {e.Message}", e);
            }
        }

        if (json is JsonObject root)
        {
            foreach (var (key, value) in root)
            {
                if (key == "steps" && value is JsonArray steps)
                {
                    foreach (var step in steps.OfType<JsonObject>())
                    {
                        var stepName = step["name"]?.GetValue<string>() ?? "?";
                        foreach (var (field, fieldValue) in step.Where(f => f.Key != "name"))
                        {
                            Flatten(fieldValue, $"step {stepName}: {field}", values);
                        }
                    }
                }
                else
                {
                    Flatten(value, key, values);
                }
            }
        }

        return (full, manifest, values);
    }

    private static void Flatten(JsonNode? node, string key, Dictionary<string, string> values)
    {
        if (Skipped.Any(s => key.EndsWith(s, StringComparison.Ordinal) && (key.Length == s.Length || key[^(s.Length + 1)] is '.' or ' ')))
        {
            return;
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    Flatten(child, $"{key}.{name}", values);
                }

                break;
            case JsonArray array when array.All(i => i is JsonValue or null):
                values[key] = string.Join(", ", array.Select(Scalar));
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Flatten(array[i], $"{key}[{i}]", values);
                }

                break;
            default:
                values[key] = Scalar(node);
                break;
        }
    }

    private static void Flatten(YamlNode node, string key, Dictionary<string, string> values)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (name, child) in mapping.Children)
                {
                    var segment = (name as YamlScalarNode)?.Value ?? "?";
                    Flatten(child, key.EndsWith(' ') ? key + segment : $"{key}.{segment}", values);
                }

                break;
            case YamlSequenceNode sequence when sequence.Children.All(c => c is YamlScalarNode):
                values[key] = string.Join(", ", sequence.Children.Select(c => ((YamlScalarNode)c).Value));
                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    Flatten(sequence.Children[i], $"{key}[{i}]", values);
                }

                break;
            case YamlScalarNode scalar:
                values[key] = scalar.Value ?? "null";
                break;
        }
    }

    private static string Scalar(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue value when value.TryGetValue(out string? s) => s ?? "null",
        _ => node.ToJsonString(),
    };

    private static List<string> ImageOutputs(StepRecord? step) =>
        step?.Outputs.Select(o => o.File).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".webp", StringComparison.OrdinalIgnoreCase)).ToList() ?? [];

    private static void Table(StringBuilder text, string[] header, string[][] rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Length == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        void Row(string[] cells) => text.Append("  ").AppendJoin("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).Append('\n');
        Row(header);
        Row(widths.Select(w => new string('-', w)).ToArray());
        foreach (var row in rows)
        {
            Row(row);
        }
    }

    private static string Cut(string value, int width)
    {
        var line = value.ReplaceLineEndings(" ");
        return line.Length <= width ? line : string.Concat(line.AsSpan(0, width - 1), "…");
    }

    private static string Value(string? value) => value is null ? "<span class=\"none\">none</span>" : $"<code>{E(value)}</code>";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
