using System.Globalization;
using System.Net;
using System.Text;

namespace Miaoya.Pipeline;

/// <summary>The <c>select</c> step's page: the person's photos and each candidate's face side by side, with its figures and verdict.</summary>
internal static class CandidatesPage
{
    public static string Html(RunContext run, SelectResult result, IReadOnlyList<string> photoNames)
    {
        var faces = FacePhotos.Files(run.Manifest.Inputs);
        var b = new StringBuilder();
        b.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Candidates — ").Append(E(run.Recipe.Name)).Append("</title><style>")
            .Append("body{font:14px system-ui,sans-serif;margin:24px;background:#fafafa}figure{display:inline-block;margin:6px;padding:6px;background:#fff;border:2px solid #ddd;vertical-align:top;width:170px}")
            .Append("figure.pass{border-color:#8c8}figure.chosen{border-color:#282;box-shadow:0 0 0 3px #afa}figure.fail{border-color:#d88}img{width:160px;height:160px;object-fit:cover;display:block}figcaption{font-size:12px;margin-top:4px}")
            .Append("</style></head><body>");
        b.Append("<h1>").Append(E(run.Recipe.Name)).Append(": ").Append(result.Chosen is { } c ? $"candidate {c} chosen" : "no candidate passed").Append("</h1>");
        b.Append(CultureInfo.InvariantCulture, $"<p>Scorer <b>{E(result.Scorer)}</b> ({E(result.Model)}{(result.NonCommercial ? ", non-commercial" : "")}{(result.StandInModels ? ", the repository's stand-in model: figures mean nothing about real faces" : "")}). ")
            .Append(CultureInfo.InvariantCulture, $"Gates: similarity ≥ {result.MinSimilarity}, ratio to the person's own baseline ≥ {result.MinRatio}. ")
            .Append(CultureInfo.InvariantCulture, $"Baseline (leave-one-out over {result.Photos} photo{(result.Photos == 1 ? "" : "s")}): {(result.Baseline is { } bl ? bl.ToString("0.000", CultureInfo.InvariantCulture) : "none (one photo: the ratio gate is skipped)")}.</p>");
        b.Append("<h2>The person</h2>");
        for (var i = 0; i < faces.Count; i++)
        {
            b.Append("<figure><img src=\"").Append(E(faces[i].File)).Append("\" alt=\"face photo\"><figcaption>").Append(E(photoNames.ElementAtOrDefault(i) ?? faces[i].File)).Append("</figcaption></figure>");
        }

        b.Append("<h2>Candidates</h2>");
        foreach (var s in result.Candidates)
        {
            var css = s.Candidate == result.Chosen ? "chosen" : s.Passed ? "pass" : "fail";
            b.Append("<figure class=\"").Append(css).Append("\">");
            b.Append(s.Face is null ? "<div style=\"height:160px\">no face</div>" : $"<img src=\"{E(s.Face)}\" alt=\"candidate {s.Candidate} face\">");
            b.Append(CultureInfo.InvariantCulture, $"<figcaption><b>#{s.Candidate}</b> seed {s.Seed}<br>similarity {Num(s.Similarity)} · ratio {Num(s.Ratio)}<br>");
            b.Append(s.Passed ? (s.Candidate == result.Chosen ? "chosen" : "passes") : E(string.Join("; ", s.Reasons)));
            b.Append("</figcaption></figure>");
        }

        return b.Append("</body></html>\n").ToString();
    }

    private static string Num(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "—";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
