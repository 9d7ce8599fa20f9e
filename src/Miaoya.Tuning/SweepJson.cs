using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.Tuning;

/// <summary>
/// What <c>miaoya sweep --json</c> prints: the sweep as one object, each cell with its varied values typed as the recipe
/// reads them (a number as a JSON number, true/false as a boolean), its status, run folder, final image, box, duration and
/// likeness. Paths are absolute.
/// </summary>
public static class SweepJson
{
    /// <summary>The sweep in <paramref name="folder"/> as one JSON object; <paramref name="html"/> and <paramref name="png"/> are its contact sheets, when written.</summary>
    public static JsonObject Describe(string folder, SweepManifest manifest, string? html, string? png)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var definition = manifest.Definition;
        var cells = new JsonArray();
        foreach (var cell in manifest.Cells)
        {
            var values = new JsonObject();
            for (var a = 0; a < definition.Axes.Count; a++)
            {
                values[definition.Axes[a].Path] = Typed(cell.Values[a]);
            }

            cells.Add(new JsonObject
            {
                ["index"] = cell.Index,
                ["values"] = values,
                ["status"] = cell.Status.ToString().ToLowerInvariant(),
                ["folder"] = Path.Combine(folder, cell.Folder),
                ["final"] = cell.Final is null ? null : Path.Combine(folder, cell.Final),
                ["box"] = cell.Box,
                ["duration_ms"] = cell.DurationMs is { } ms ? Math.Round(ms, 1) : null,
                ["error"] = cell.Error,
                ["likeness"] = cell.Likeness is not { } l ? null : new JsonObject
                {
                    ["similarity"] = l.Similarity,
                    ["ratio"] = l.Ratio,
                    ["baseline"] = l.Baseline,
                    ["faces_found"] = l.FacesFound,
                },
            });
        }

        return new JsonObject
        {
            ["folder"] = folder,
            ["recipe"] = definition.Recipe,
            ["template"] = definition.Template,
            ["seed"] = definition.Seed,
            ["boxes"] = new JsonArray([.. manifest.Boxes.Select(b => (JsonNode?)b)]),
            ["axes"] = new JsonArray([.. definition.Axes.Select(a => (JsonNode?)new JsonObject
            {
                ["path"] = a.Path,
                ["values"] = new JsonArray([.. a.Values.Select(Typed)]),
            })]),
            ["scorer"] = definition.Scorer,
            ["cells"] = cells,
            ["succeeded"] = manifest.Cells.Count(c => c.Status == CellStatus.Succeeded),
            ["failed"] = manifest.Cells.Count(c => c.Status == CellStatus.Failed),
            ["contact_sheet"] = new JsonObject { ["html"] = html, ["png"] = png },
        };
    }

    /// <summary>A <c>--vary</c> value as the recipe reads it: a number, a boolean, or the text.</summary>
    internal static JsonNode? Typed(string value)
    {
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole) ? JsonValue.Create(whole) : JsonValue.Create(number);
        }

        return value switch
        {
            "true" or "True" => JsonValue.Create(true),
            "false" or "False" => JsonValue.Create(false),
            _ => JsonValue.Create(value),
        };
    }
}
