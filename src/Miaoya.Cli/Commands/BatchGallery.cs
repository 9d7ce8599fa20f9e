using System.Globalization;
using System.Text;
using System.Text.Json;
using Miaoya.Imaging;
using Miaoya.Pipeline;
using static System.Net.WebUtility;

namespace Miaoya.Cli.Commands;

/// <summary>One entry of a batch as the gallery shows it: what the batch file made it of, and how its job stands.</summary>
/// <param name="Index">The entry's place in the batch (templates × identities × recipes), from 0.</param>
/// <param name="Template">The template's path.</param>
/// <param name="Identity">The identity's name from the batch file.</param>
/// <param name="Recipe">The recipe's label from the batch file (its <c>name:</c>, else the recipe's).</param>
/// <param name="Seed">The batch file's seed; -1: the job drew its own (read back from its manifest when there is one).</param>
/// <param name="State">The job's state in lower case, or <c>missing</c> when the store does not hold it.</param>
/// <param name="Seconds">From the job's first step to its last, once it finished.</param>
/// <param name="Folder">The job's run folder, or null when the store does not hold the job.</param>
/// <param name="Step">The step that failed or was cancelled, if any.</param>
/// <param name="Error">The job's error, else that step's last error.</param>
internal sealed record GalleryEntry(
    int Index, string Template, string Identity, string Recipe, long Seed, string State, double? Seconds, string? Folder, string? Step, string? Error);

/// <summary>
/// <c>index.html</c> in a batch folder: one card per entry of the batch file (in its order) with the identity, template,
/// recipe, seed and state, the final image (linked where it is, not copied), a link to the job's manifest, and for a failed
/// entry its step and error. Plain HTML and CSS with relative links only, so the folder can be moved or served as it is.
/// Every text from the batch file or the store is HTML-encoded; a file is linked only when it exists.
/// </summary>
internal static class BatchGallery
{
    public const string FileName = "index.html";

    /// <summary>Writes <c>FOLDER/index.html</c> atomically (a temp file renamed over the old page) and returns its path.</summary>
    public static async Task<string> WriteAsync(string folder, string batchFile, IReadOnlyList<GalleryEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var path = Path.Combine(folder, FileName);
        var title = $"Batch: {Path.GetFileName(batchFile)}";
        var counts = entries.GroupBy(e => e.State).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
        var unfinished = entries.Count(e => e.State is "queued" or "running");
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{{HtmlEncode(title)}}</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}
            .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:1rem}
            figure{margin:0;background:#fff;padding:.5rem;border:1px solid #ddd;border-radius:6px}
            figure img{display:block;max-width:256px;max-height:256px;height:auto;margin:auto}
            .none{display:flex;align-items:center;justify-content:center;height:160px;background:#eee;color:#666;border-radius:4px}
            h2{font-size:1rem;margin:.5rem 0 .3rem} table{border-collapse:collapse;font-size:.85rem}
            td,th{padding:.1rem .5rem .1rem 0;text-align:left;vertical-align:top} th{color:#666;font-weight:normal}
            .failed,.cancelled,.missing{border-color:#d9534f} .queued,.running{border-color:#e0c96b}
            .error{background:#fdecea;border:1px solid #e6a39f;padding:.4rem;border-radius:4px;font-size:.8rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.4rem 0 0}
            .note{background:#fff3cd;border:1px solid #e0c96b;padding:.5rem;border-radius:4px} .links{font-size:.85rem;margin:.4rem 0 0}
            </style></head><body>
            <h1>{{HtmlEncode(title)}}</h1>
            <p>{{HtmlEncode($"{entries.Count} {(entries.Count == 1 ? "entry" : "entries")}: {string.Join(", ", counts)}.")}}</p>

            """);
        if (unfinished > 0)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">{unfinished} of {entries.Count} entries have not finished: run the same <code>miaoya batch</code> command again to resume; this page is rewritten when it ends.</p>\n");
        }

        html.Append("<div class=\"grid\">\n");
        foreach (var entry in entries.OrderBy(e => e.Index))
        {
            await AppendEntryAsync(html, folder, entry, cancellationToken);
        }

        html.Append("</div>\n</body></html>\n");
        await AtomicFile.WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(html.ToString()), cancellationToken);
        return path;
    }

    private static async Task AppendEntryAsync(StringBuilder html, string folder, GalleryEntry entry, CancellationToken cancellationToken)
    {
        var name = $"#{entry.Index + 1} {entry.Identity}";
        var final = entry.Folder is null ? null : Path.Combine(entry.Folder, "final.png");
        var manifest = entry.Folder is null ? null : Path.Combine(entry.Folder, RunFolder.ManifestFileName);
        var hasFinal = final is not null && File.Exists(final);
        var hasManifest = manifest is not null && File.Exists(manifest);
        html.Append(CultureInfo.InvariantCulture, $"<figure class=\"{HtmlEncode(entry.State)}\" id=\"entry-{entry.Index + 1}\">\n");
        if (hasFinal)
        {
            var href = HtmlEncode(Link(folder, final!));
            html.Append(CultureInfo.InvariantCulture, $"<a href=\"{href}\"><img src=\"{href}\" alt=\"{HtmlEncode($"{name} × {entry.Recipe}")}\"></a>\n");
        }
        else
        {
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"none\">{HtmlEncode(entry.State == "succeeded" ? "final.png missing" : $"no image ({entry.State})")}</div>\n");
        }

        var seed = entry.Seed >= 0 ? entry.Seed.ToString(CultureInfo.InvariantCulture)
            : hasManifest && await DrawnSeedAsync(entry.Folder!, cancellationToken) is { } drawn ? $"{drawn} (drawn)" : "random";
        html.Append(CultureInfo.InvariantCulture, $"<figcaption><h2>{HtmlEncode(name)}</h2>\n<table>\n");
        Row(html, "template", Path.GetFileName(entry.Template));
        Row(html, "recipe", entry.Recipe);
        Row(html, "seed", seed);
        Row(html, "state", entry.State + (entry.Seconds is { } s ? string.Create(CultureInfo.InvariantCulture, $", {s:0.0} s") : ""));
        html.Append("</table>\n");
        if (entry.State is "failed" or "cancelled" || entry.Error is not null)
        {
            var error = entry.Error ?? "(no error recorded)";
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"error\">{HtmlEncode(entry.Step is null ? error : $"step {entry.Step}: {error}")}</p>\n");
        }

        var links = new List<string>();
        if (hasFinal)
        {
            links.Add($"<a href=\"{HtmlEncode(Link(folder, final!))}\">final.png</a>");
        }

        if (hasManifest)
        {
            links.Add($"<a href=\"{HtmlEncode(Link(folder, manifest!))}\">manifest.json</a>");
        }

        if (entry.Folder is not null)
        {
            links.Add($"job {HtmlEncode(Path.GetFileName(entry.Folder))}");
        }

        html.Append(CultureInfo.InvariantCulture, $"<p class=\"links\">{string.Join(" · ", links)}</p>\n</figcaption></figure>\n");
    }

    private static void Row(StringBuilder html, string label, string value) =>
        html.Append(CultureInfo.InvariantCulture, $"<tr><th>{HtmlEncode(label)}</th><td>{HtmlEncode(value)}</td></tr>\n");

    /// <summary>A relative URL from the gallery's folder to <paramref name="file"/>, each path segment percent-encoded.</summary>
    private static string Link(string folder, string file) =>
        string.Join('/', Path.GetRelativePath(folder, file).Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).Select(Uri.EscapeDataString));

    /// <summary>The seed a job with seed -1 was rendered with: the first one a box reported in its manifest.</summary>
    private static async Task<long?> DrawnSeedAsync(string jobFolder, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = await new RunFolder(jobFolder).LoadManifestAsync(cancellationToken);
            return manifest.Steps.Select(s => s.Response?["seed"]).FirstOrDefault(n => n is not null) is { } node && node.GetValueKind() == JsonValueKind.Number
                ? node.GetValue<long>()
                : null;
        }
        catch (Exception e) when (e is PipelineException or JsonException or IOException or InvalidOperationException or FormatException)
        {
            return null; // a manifest being rewritten or damaged: the gallery says "random" rather than failing the batch
        }
    }
}
