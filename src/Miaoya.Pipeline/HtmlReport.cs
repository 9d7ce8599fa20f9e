using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Miaoya.Imaging;

namespace Miaoya.Pipeline;

/// <summary>A static <c>index.html</c> showing each run's step images side by side with their parameters.</summary>
public static class HtmlReport
{
    /// <param name="path">Where to write the page.</param>
    /// <param name="runs">The runs, one section each.</param>
    /// <param name="banner">A note shown above every run (the demo says here that the box was the mock).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async Task<string> WriteAsync(string path, IReadOnlyList<RunResult> runs, string? banner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var html = new StringBuilder();
        html.Append("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Miaoya runs</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}
            section{margin-bottom:3rem} .steps{display:flex;gap:1rem;flex-wrap:wrap}
            figure{margin:0;background:#fff;padding:.5rem;border:1px solid #ddd;border-radius:6px}
            figure img{display:block;max-width:256px;height:auto} .maps figure img{max-width:160px} .maps summary{margin:.6rem 0;cursor:pointer} figcaption{font-size:.85rem;margin-top:.3rem}
            table{border-collapse:collapse;font-size:.85rem;margin-top:.8rem} td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
            code{white-space:pre-wrap} .note{background:#fff3cd;border:1px solid #e0c96b;padding:.5rem;border-radius:4px}
            </style></head><body>
            <h1>Miaoya runs</h1>
            """);
        if (banner is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"\n<p class=\"note banner\">{E(banner)}</p>\n");
        }

        foreach (var run in runs)
        {
            var m = run.Manifest;
            var relative = Path.GetRelativePath(directory, run.Folder).Replace('\\', '/');
            html.Append(CultureInfo.InvariantCulture, $"<section><h2>{E(m.Recipe.Name)} <small>({E(m.Recipe.Pipeline)}, {E(m.Status.ToString())})</small></h2>\n");
            if (m.Inputs.StandInModels && m.Recipe.Pipeline == "v3")
            {
                html.Append("<p class=\"note\"><strong>Stand-in face models:</strong> this run's face swap used the repository's tiny stand-in ONNX models, not insightface's; the swapped face is not a real result.</p>\n");
            }

            if (m.Step(Recipes.StepName.Select)?.ResultAs<SelectResult>() is { } select)
            {
                var chosen = select.Chosen is { } c ? select.Candidates[c - 1] : null;
                html.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">Best of {select.Candidates.Count} by likeness ({E(select.Scorer)}{(select.StandInModels ? ", a stand-in model: the figures mean nothing about real faces" : "")}): ")
                    .Append(chosen is null ? "no candidate passed the gates" : string.Create(CultureInfo.InvariantCulture, $"candidate {chosen.Candidate} (seed {chosen.Seed}), similarity {chosen.Similarity:0.000}"))
                    .Append(CultureInfo.InvariantCulture, $". <a href=\"{E(relative)}/{PortraitPipeline.CandidatesPageFileName}\">The candidates side by side</a>.</p>\n");
            }

            html.Append("<div class=\"steps\">\n");
            Figure(html, $"{relative}/{m.Inputs.Template.File}", "template");
            if (m.Inputs.Face is { } face)
            {
                Figure(html, $"{relative}/{face.File}", "face photo");
            }
            foreach (var step in m.Steps)
            {
                var image = step.Outputs.FirstOrDefault(o => o.File.EndsWith(".png", StringComparison.Ordinal) || o.File.EndsWith(".jpg", StringComparison.Ordinal) || o.File.EndsWith(".webp", StringComparison.Ordinal));
                if (image is not null && !image.File.Contains("-controlnet-", StringComparison.Ordinal))
                {
                    Figure(html, $"{relative}/{image.File}", $"{step.Name} ({step.Status}, {step.DurationMs:0} ms)");
                }

                // A several-person step: what each face's call brought back, after the step's whole image.
                foreach (var call in RecordedCall.Of(step).Where(c => c.FaceIndex is not null))
                {
                    if (call.Image(step) is { } faceImage)
                    {
                        Figure(html, $"{relative}/{faceImage.File}", call.Label(step.Name));
                    }
                }
            }

            if (m.Final is { } final)
            {
                Figure(html, $"{relative}/{final.File}", "final");
            }

            html.Append("</div>\n");
            var maps = m.Steps.SelectMany(step => ControlNetMaps.Of(step).Select(map => (Step: step.Name, map.File, map.Label))).ToList();
            if (maps.Count > 0)
            {
                // What each ControlNet unit saw, labelled by its module: the maps the box sent back with the image.
                html.Append("<details class=\"maps\" open><summary>ControlNet maps</summary><div class=\"steps\">\n");
                foreach (var (step, file, label) in maps)
                {
                    Figure(html, $"{relative}/{file}", $"{step}: {label}");
                }

                html.Append("</div></details>\n");
            }

            html.Append("<table><tr><th>step</th><th>parameters</th></tr>\n");
            foreach (var step in m.Steps)
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(step.Name)}</td><td><code>{E(Summary(step))}</code></td></tr>\n");
                foreach (var call in RecordedCall.Of(step).Where(c => c.FaceIndex is not null))
                {
                    html.Append(CultureInfo.InvariantCulture, $"<tr class=\"face-call\"><td>{E(call.Label(step.Name))}</td><td><code>{E(string.Join("\n", CallSummary(call)))}</code></td></tr>\n");
                }
            }

            html.Append(CultureInfo.InvariantCulture, $"</table><p><a href=\"{E(relative)}/manifest.json\">manifest.json</a></p></section>\n");
        }

        html.Append("</body></html>\n");
        await AtomicFile.WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(html.ToString()), cancellationToken);
        return Path.GetFullPath(path);
    }

    private static void Figure(StringBuilder html, string src, string caption) =>
        html.Append(CultureInfo.InvariantCulture, $"<figure><img src=\"{E(src)}\" alt=\"{E(caption)}\"><figcaption>{E(caption)}</figcaption></figure>\n");

    private static string Summary(StepRecord step)
    {
        var parts = new List<string>();
        if (step.Box is { } box)
        {
            parts.Add($"box: {box}");
        }

        // The result but the tag lists and the face (the prompt and the mask show them).
        foreach (var (key, value) in step.Result)
        {
            if (key is not ("kept_tags" or "dropped_tags" or "face"))
            {
                parts.Add($"{key}: {Text(value)}");
            }
        }

        // A one-call step's request beside its result; a several-person step's calls get a row each (face N).
        if (RecordedCall.Of(step) is [{ FaceIndex: null } call])
        {
            parts.AddRange(CallSummary(call));
        }

        if (step.Error is { } error)
        {
            parts.Add($"error: {error}");
        }

        return string.Join("\n", parts);
    }

    /// <summary>One call's parameters: an img2img call's sampler and ControlNet units, and the seed and model it answered with.</summary>
    private static IEnumerable<string> CallSummary(RecordedCall call)
    {
        var request = call.Request;
        if (call.IsGeneration)
        {
            yield return $"sampler: {Text(request["sampler_name"])} {Text(request["scheduler"])}, steps {Text(request["steps"])}, cfg {Text(request["cfg_scale"])}, denoise {Text(request["denoising_strength"])}, mask blur {Text(request["mask_blur"])}";
            foreach (var unit in request["alwayson_scripts"]?["controlnet"]?["args"]?.AsArray() ?? [])
            {
                yield return $"ControlNet {Text(unit?["module"])} / {Text(unit?["model"])} weight {Text(unit?["weight"])}";
            }
        }
        else if (call.FaceIndex is not null)
        {
            // A restore face's extras call: the restorer's settings (the one-person row shows them in its result).
            yield return string.Join(", ", request.Where(p => p.Key != "image" && p.Value is JsonValue).Select(p => $"{p.Key} {Text(p.Value)}"));
        }

        if (call.Response?["seed"] is { } seed)
        {
            yield return $"seed {Text(seed)}, model {Text(call.Response["sd_model_name"])}";
        }
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue(out string? s) => s ?? "",
        _ => node.ToJsonString(Relaxed),
    };

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
