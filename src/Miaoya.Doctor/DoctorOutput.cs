using System.Text.Encodings.Web;
using System.Text.Json;

namespace Miaoya.Doctor;

/// <summary>Writes a <see cref="DoctorReport"/> as one table per box, or as JSON.</summary>
public static class DoctorOutput
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // ✔ and quotes as themselves; the output is not HTML
    };

    /// <summary>One table per box: status, check, what was found; the fix on the line below a row that needs one.</summary>
    public static void WriteTables(DoctorReport report, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var box in report.Boxes)
        {
            writer.WriteLine($"{box.Url}  {box.Version ?? "(no answer)"}  — recipes {string.Join(", ", report.Recipes)}");
            var width = Math.Min(48, box.Rows.Max(r => r.Check.Length));
            foreach (var row in box.Rows)
            {
                var needers = row.Recipes.Count == 0 || row.Status == DoctorStatus.Ok ? "" : $"  [{string.Join(", ", row.Recipes)}]";
                writer.WriteLine($"  {Symbol(row.Status)} {row.Check.PadRight(width)}  {row.Detail}{needers}");
                if (row.Fix is not null && row.Status != DoctorStatus.Ok)
                {
                    writer.WriteLine($"    {new string(' ', width)}  fix: {row.Fix}");
                }
            }

            var missing = box.Rows.Count(r => r.Status == DoctorStatus.Missing);
            var warnings = box.Rows.Count(r => r.Status == DoctorStatus.Warning);
            writer.WriteLine(missing == 0
                ? $"  → ready{(warnings == 0 ? "" : $" ({warnings} warning{(warnings == 1 ? "" : "s")})")}"
                : $"  → {missing} missing{(warnings == 0 ? "" : $", {warnings} warning{(warnings == 1 ? "" : "s")}")}");
            writer.WriteLine();
        }
    }

    /// <summary>The report as JSON: <c>{ok, recipes, boxes: [{url, version, ok, rows: [{check, status, detail, fix, recipes}]}]}</c>.</summary>
    public static string ToJson(DoctorReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var shape = new
        {
            ok = report.Ok,
            recipes = report.Recipes,
            boxes = report.Boxes.Select(b => new
            {
                url = b.Url.ToString(),
                version = b.Version,
                ok = b.Ok,
                rows = b.Rows.Select(r => new { check = r.Check, status = r.Status.ToString().ToLowerInvariant(), detail = r.Detail, fix = r.Fix, recipes = r.Recipes }),
            }),
        };
        return JsonSerializer.Serialize(shape, Json);
    }

    /// <summary>✔, ! or ✘.</summary>
    public static string Symbol(DoctorStatus status) => status switch
    {
        DoctorStatus.Ok => "✔",
        DoctorStatus.Warning => "!",
        _ => "✘",
    };
}
