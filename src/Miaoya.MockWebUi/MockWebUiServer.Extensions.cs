using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

public sealed partial class MockWebUiServer
{
    // Plausible portrait tags with base confidences; per-image jitter comes from the image bytes.
    private static readonly (string Tag, double Base)[] PortraitTags =
    [
        ("1girl", 0.97), ("solo", 0.95), ("looking_at_viewer", 0.86), ("smile", 0.82), ("short_hair", 0.78), ("brown_hair", 0.74),
        ("black_hair", 0.41), ("upper_body", 0.71), ("portrait", 0.58), ("realistic", 0.66), ("brown_eyes", 0.52), ("teeth", 0.47),
        ("spacesuit", 0.62), ("american_flag", 0.38), ("lips", 0.33), ("photo_background", 0.29), ("closed_mouth", 0.12), ("blue_eyes", 0.06),
    ];

    private static List<(string Tag, double Score)> TaggerScores(Image<Rgba32> image, byte[] raw)
    {
        var h = Painter.Hash(raw) ^ ((ulong)image.Width << 32) ^ (ulong)image.Height;
        var list = new List<(string, double)>();
        foreach (var (tag, score) in PortraitTags)
        {
            h = (h ^ Painter.Hash(tag)) * 0x9E3779B97F4A7C15UL;
            var jitter = ((h >> 40) % 1000 / 1000.0 - 0.5) * 0.06;
            list.Add((tag, Math.Round(Math.Clamp(score + jitter, 0.001, 0.999), 6)));
        }

        return list;
    }

    /// <summary>POST /tagger/v1/interrogate: picobyte shape on 1.10, toriato flat shape on 1.8 (reference §3).</summary>
    private MockHttpResult TaggerInterrogate(JsonObject body)
    {
        var issues = new List<ValidationIssue>();
        if (!body.ContainsKey("model"))
        {
            issues.Add(new ValidationIssue(["body", "model"], "field required", "value_error.missing")); // model is required in all variants
        }

        var f = PydanticFields.Parse(body,
        [
            new("image", FieldKind.Str, ""),
            new("model", FieldKind.Str),
            new("threshold", FieldKind.Float, IsV110 ? 0.0 : 0.35), // picobyte default 0.0, toriato 0.35
        ], issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues);
        }

        var imageText = f.GetStr("image");
        if (string.IsNullOrEmpty(imageText))
        {
            throw MockRouteException.Http(404, "Image not found"); // picobyte tagger/api.py:179-185
        }

        var model = f.GetStr("model") ?? "";
        if (!Catalog.TaggerModels(Profile).Contains(model, StringComparer.Ordinal))
        {
            throw MockRouteException.Http(404, "Model not found");
        }

        var threshold = f.GetFloat("threshold", IsV110 ? 0.0 : 0.35);
        using var image = ImageCodec.Decode(imageText);
        var scores = TaggerScores(image, ImageCodec.RawBytes(imageText));
        var hash = Painter.Hash(ImageCodec.RawBytes(imageText));
        var general = Math.Round(0.80 + ((hash % 100) / 1000.0), 6);
        var ratings = new (string, double)[]
        {
            ("general", general), ("sensitive", Math.Round(1 - general - 0.01, 6)), ("questionable", 0.004), ("explicit", 0.001),
        };

        if (IsV110)
        {
            // {"caption":{"tag":{t: score > threshold}, "rating":{r: score}}} (picobyte tagger/api.py:200-212)
            var tags = new JsonObject();
            foreach (var (tag, score) in scores.Where(s => s.Score > threshold).OrderByDescending(s => s.Score))
            {
                tags[tag] = score;
            }

            var rating = new JsonObject();
            foreach (var (r, score) in ratings)
            {
                rating[r] = score;
            }

            return MockHttpResult.Json(new JsonObject { ["caption"] = new JsonObject { ["tag"] = tags, ["rating"] = rating } });
        }

        // toriato: flat {tag_or_rating: score}, ratings + tags ≥ threshold, by confidence (toriato tagger/api.py:61-81)
        var flat = new JsonObject();
        foreach (var (key, score) in ratings.Concat(scores.Where(s => s.Score >= threshold)).OrderByDescending(s => s.Item2))
        {
            flat[key] = score;
        }

        return MockHttpResult.Json(new JsonObject { ["caption"] = flat });
    }

    /// <summary>POST /rembg (AUTOMATIC1111/stable-diffusion-webui-rembg scripts/api.py:19-45).</summary>
    private MockHttpResult Rembg(JsonObject body)
    {
        var issues = new List<ValidationIssue>();
        var f = PydanticFields.Parse(body,
        [
            new("input_image", FieldKind.Str, ""),
            new("model", FieldKind.Str, "u2net"),
            new("return_mask", FieldKind.Bool, false),
            new("alpha_matting", FieldKind.Bool, false),
            new("alpha_matting_foreground_threshold", FieldKind.Int, 240),
            new("alpha_matting_background_threshold", FieldKind.Int, 10),
            new("alpha_matting_erode_size", FieldKind.Int, 10),
        ], issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues);
        }

        var model = f.GetStr("model");
        if (string.IsNullOrEmpty(model) || model == "None")
        {
            return MockHttpResult.Null(); // rembg api.py:30-31 returns nothing
        }

        using var input = ImageCodec.Decode(f.GetStr("input_image") ?? "");
        if (!Catalog.RembgModels.Contains(model, StringComparer.Ordinal))
        {
            throw MockRouteException.Internal("ValueError", $"No session class found for model '{model}'");
        }

        using var output = Painter.RemoveBackground(input, f.GetBool("return_mask", false));
        // encode_pil_to_base64 → follows samples_format like every A1111 image (api.py:102-132)
        return MockHttpResult.Json(new JsonObject { ["image"] = ImageCodec.Encode(output, _state.OptionString("samples_format", "png"), keepAlpha: true) });
    }
}
