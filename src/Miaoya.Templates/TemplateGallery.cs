using System.Globalization;
using System.Net;
using System.Text;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Limits;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Templates;

/// <summary>
/// One HTML page of a library: a card per template with its thumbnail (a small JPEG embedded in the page, so the page is
/// one file that can be mailed or published without its folder), title, name, tags, people and hints, model family,
/// suggested recipe, style LoRA and licence with its source link.
/// </summary>
public static class TemplateGallery
{
    /// <summary>Longest side of a thumbnail, in pixels.</summary>
    public const int ThumbnailSide = 320;

    /// <summary>The page as text; a template whose image does not decode gets a card saying so instead of a thumbnail.</summary>
    public static async Task<string> RenderAsync(string libraryDirectory, IReadOnlyList<LibraryTemplate> templates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(libraryDirectory);
        ArgumentNullException.ThrowIfNull(templates);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Miaoya templates</title>\n<style>\n")
            .Append("body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}\n")
            .Append(".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1em}\n")
            .Append(".card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em}\n")
            .Append(".card img{width:100%;height:auto;border-radius:4px;background:#eee}\n")
            .Append(".tag{display:inline-block;background:#e8eefc;border-radius:3px;padding:0 .4em;margin:0 .2em .2em 0;font-size:.85em}\n")
            .Append("dl{display:grid;grid-template-columns:auto 1fr;gap:.1em .6em;font-size:.9em;margin:.5em 0 0}dt{color:#666}dd{margin:0}\n")
            .Append("code{font-size:.9em}.missing{color:#a00}\n</style></head><body>\n");
        h.Append("<h1>Miaoya templates</h1>\n<p>").Append(Html(libraryDirectory)).Append(" · ")
            .Append(templates.Count.ToString(CultureInfo.InvariantCulture)).Append(templates.Count == 1 ? " template" : " templates")
            .Append(". Use one with <code>miaoya run --template NAME</code>.</p>\n<div class=\"grid\">\n");
        foreach (var t in templates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            h.Append("<div class=\"card\" id=\"").Append(Html(t.Name)).Append("\">\n");
            var thumbnail = await ThumbnailAsync(t.ImagePath, cancellationToken);
            h.Append(thumbnail is null
                ? "<p class=\"missing\">image does not decode</p>\n"
                : $"<img alt=\"{Html(t.Title)}\" src=\"{thumbnail}\">\n");
            h.Append("<h2>").Append(Html(t.Title)).Append("</h2>\n<div>");
            foreach (var tag in t.Tags)
            {
                h.Append("<span class=\"tag\">").Append(Html(tag)).Append("</span>");
            }

            h.Append("</div>\n<dl>\n");
            Row(h, "name", $"<code>{Html(t.Name)}</code>");
            Row(h, "people", Html(t.People.ToString(CultureInfo.InvariantCulture) + (t.Hints.Count > 0 ? $" ({string.Join(", ", t.Hints)})" : string.Empty)));
            Row(h, "model", Html(RecipesWord(t)));
            Row(h, "recipe", t.Recipe is null ? "(none suggested)" : $"<code>{Html(t.Recipe)}</code>");
            if (t.StyleLora is { } lora)
            {
                Row(h, "style LoRA", $"<code>{Html(TemplateRun.LoraTag(lora))}</code>");
            }

            if (t.PositiveAdd.Length > 0)
            {
                Row(h, "prompt +", Html(t.PositiveAdd));
            }

            Row(h, "licence", $"{Html(t.Licence.Name)}, {Html(t.Licence.Author)} (<a href=\"{Html(t.Licence.Source)}\">source</a>)");
            h.Append("</dl>\n</div>\n");
        }

        h.Append("</div>\n</body></html>\n");
        return h.ToString();
    }

    /// <summary>Writes the page to <paramref name="path"/> through a temporary file and a rename.</summary>
    public static async Task WriteAsync(string path, string libraryDirectory, IReadOnlyList<LibraryTemplate> templates, CancellationToken cancellationToken = default)
    {
        var page = await RenderAsync(libraryDirectory, templates, cancellationToken);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        await TemplateLibrary.WriteAtomicallyAsync(full, Encoding.UTF8.GetBytes(page), cancellationToken);
    }

    private static string RecipesWord(LibraryTemplate t) => Recipes.ModelFamilies.Label(t.ModelFamily);

    private static void Row(StringBuilder h, string name, string valueHtml) =>
        h.Append("<dt>").Append(Html(name)).Append("</dt><dd>").Append(valueHtml).Append("</dd>\n");

    private static string Html(string text) => WebUtility.HtmlEncode(UserText.EscapeControl(text));

    /// <summary>A JPEG data URL of the image at most <see cref="ThumbnailSide"/> a side, upright; null when it does not decode.</summary>
    private static async Task<string?> ThumbnailAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var encoded = await EncodedImage.ReadFileAsync(path, InputLimits.Images.MaxUploadBytes, cancellationToken);
            encoded.Check(InputLimits.Images.MaxTemplateSide);
            using var image = await FaceImages.LoadAsync(encoded, cancellationToken);
            var scale = Math.Min(1.0, (double)ThumbnailSide / Math.Max(image.Width, image.Height));
            image.Mutate(c => c.Resize(Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale))));
            using var stream = new MemoryStream();
            await image.SaveAsJpegAsync(stream, new JpegEncoder { Quality = 82 }, cancellationToken);
            return "data:image/jpeg;base64," + Convert.ToBase64String(stream.GetBuffer().AsSpan(0, (int)stream.Length));
        }
        catch (InvalidImageDataException)
        {
            return null;
        }
    }
}
