using System.Globalization;
using System.Net;
using System.Text;

namespace Miaoya.Training;

/// <summary>The dataset's QA page: one card per photo with its thumbnail (face box drawn), verdict, reasons and caption.</summary>
internal static class QaReport
{
    public const string Style = """
        body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
        .grid{display:flex;flex-wrap:wrap;gap:12px}
        .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;width:220px;font-size:13px}
        .card img{max-width:204px;max-height:204px;display:block;margin-bottom:6px}
        .accepted{border-left:6px solid #2a2}.held_out{border-left:6px solid #27c}.flagged{border-left:6px solid #e90}.rejected{border-left:6px solid #c22}
        .verdict{font-weight:bold;text-transform:uppercase}.reason{color:#a11}.caption{color:#555;font-style:italic}
        table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
        """;

    public static string Html(string name, string trigger, IReadOnlyList<PhotoReport> photos)
    {
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Dataset QA: ").Append(E(name)).Append("</title><style>").Append(Style).Append("</style></head><body>");
        b.Append("<h1>Dataset QA: ").Append(E(name)).Append("</h1><p>Trigger word <b>").Append(E(trigger)).Append("</b>. ");
        foreach (var group in photos.GroupBy(p => p.Status).OrderBy(g => g.Key))
        {
            b.Append(CultureInfo.InvariantCulture, $"{group.Count()} {Label(group.Key)}. ");
        }

        b.Append("</p><div class=\"grid\">");
        foreach (var p in photos)
        {
            var css = Label(p.Status).Replace(' ', '_');
            b.Append("<div class=\"card ").Append(css).Append("\">");
            if (p.Thumbnail is not null)
            {
                // The report lives in qa/; thumbnails in qa/thumbs/.
                b.Append("<img src=\"").Append(E(p.Thumbnail["qa/".Length..])).Append("\" alt=\"").Append(E(p.File)).Append("\">");
            }

            b.Append("<div><b>").Append(E(p.File)).Append("</b></div><div class=\"verdict\">").Append(Label(p.Status)).Append("</div>");
            foreach (var r in p.Reasons)
            {
                b.Append("<div class=\"reason\">").Append(E(r)).Append("</div>");
            }

            b.Append("<div>").Append(CultureInfo.InvariantCulture, $"{p.Width}×{p.Height}");
            if (p.FaceSize is { } size)
            {
                b.Append(CultureInfo.InvariantCulture, $", face {size:0} px, sharpness {p.Sharpness:0}, yaw {p.Yaw:0.00}, roll {p.RollDegrees:0}°");
            }

            if (p.IdentitySimilarity is { } s)
            {
                b.Append(CultureInfo.InvariantCulture, $", identity {s:0.00}");
            }

            b.Append("</div>");
            if (p.Output is not null)
            {
                b.Append("<div>→ ").Append(E(p.Output)).Append("</div>");
            }

            if (p.Caption is not null)
            {
                b.Append("<div class=\"caption\">").Append(E(p.Caption)).Append("</div>");
            }

            b.Append("</div>");
        }

        return b.Append("</div></body></html>\n").ToString();
    }

    public static string Label(PhotoStatus status) => status switch
    {
        PhotoStatus.Accepted => "accepted",
        PhotoStatus.HeldOut => "held out",
        PhotoStatus.Flagged => "flagged",
        _ => "rejected",
    };

    public static string E(string text) => WebUtility.HtmlEncode(text);
}
