using System.Text;
using System.Text.Json;
using static System.Net.WebUtility;

namespace Miaoya.Cli.Conformance;

/// <summary><c>conformance.json</c> (for machines) and <c>conformance.html</c> (self-contained: no script, no network) in the output folder.</summary>
internal static class ConformanceFiles
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void Write(string directory, ConformanceReport report)
    {
        Directory.CreateDirectory(directory);
        Miaoya.Imaging.AtomicFile.WriteAllBytes(Path.Combine(directory, "conformance.json"), Encoding.UTF8.GetBytes(JsonSerializer.Serialize(report, Json) + "\n"));
        Miaoya.Imaging.AtomicFile.WriteAllBytes(Path.Combine(directory, "conformance.html"), Encoding.UTF8.GetBytes(Html(report)));
    }

    public static string Html(ConformanceReport report)
    {
        var rows = new StringBuilder();
        foreach (var check in report.Checks)
        {
            var status = check.Status.ToString().ToLowerInvariant();
            rows.Append($"<tr class=\"{status}\"><td class=\"status\">{status}</td><td><code>{HtmlEncode(check.Id)}</code></td><td>{HtmlEncode(check.Title)}</td><td>{HtmlEncode(check.Detail)}</td></tr>\n");
        }

        var counts = string.Join(", ", report.Checks.GroupBy(c => c.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Conformance of {{HtmlEncode(report.WebUi)}}</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
            table { border-collapse: collapse; width: 100%; }
            td, th { border: 1px solid #ccc; padding: .4em .6em; text-align: left; vertical-align: top; }
            tr.pass td.status { background: #d8f5d8; } tr.fail td.status { background: #f8d0d0; font-weight: bold; } tr.skip td.status { background: #eee; }
            .result-pass { color: #176317; } .result-fail { color: #a11; }
            </style></head>
            <body>
            <h1>Conformance: <span class="result-{{report.Result}}">{{report.Result}}</span></h1>
            <p>Box <code>{{HtmlEncode(report.WebUi)}}</code>, {{HtmlEncode(report.Backend ?? "backend unknown")}} {{HtmlEncode(report.Version ?? "")}};
            checked {{report.Started:u}} in {{report.Seconds:0.0}} s: {{HtmlEncode(counts)}}.</p>
            <p>Every exchange is in <code>{{HtmlEncode(report.Recording)}}</code> ({{report.Exchanges}} exchanges, credentials stripped): attach the folder to a bug report;
            <code>miaoya mock-webui --replay {{HtmlEncode(report.Recording)}}</code> serves it back.</p>
            <table><thead><tr><th>result</th><th>check</th><th>rule</th><th>what the box did</th></tr></thead><tbody>
            {{rows}}</tbody></table>
            </body></html>

            """;
    }
}
