using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

/// <summary>
/// Interrogation: the WD14 tagger extension's <c>/tagger/v1/*</c> (behind <c>--api-auth</c>; 404 when the box lacks the
/// tagger) and A1111's own <c>/sdapi/v1/interrogate</c> (CLIP, deepdanbooru). Both run as jobs on the queue.
/// </summary>
internal sealed class TaggerRoutes(JobQueue jobs, ProfileTraits profile)
{
    private const string Extension = "tagger";

    // Plausible portrait tags with base confidences; per-image jitter comes from the image bytes.
    private static readonly (string Tag, double Base)[] PortraitTags =
    [
        ("1girl", 0.97), ("solo", 0.95), ("looking_at_viewer", 0.86), ("smile", 0.82), ("short_hair", 0.78), ("brown_hair", 0.74),
        ("black_hair", 0.41), ("upper_body", 0.71), ("portrait", 0.58), ("realistic", 0.66), ("brown_eyes", 0.52), ("teeth", 0.47),
        ("spacesuit", 0.62), ("american_flag", 0.38), ("lips", 0.33), ("photo_background", 0.29), ("closed_mouth", 0.12), ("blue_eyes", 0.06),
    ];

    private bool V110 => profile.Tagger == TaggerFlavor.Picobyte;

    public void AddTo(RouteTable routes)
    {
        routes.Post("/sdapi/v1/interrogate", request => jobs.RunAsync("interrogate", 1, () => Interrogate(request.BodyObject())));
        routes.Get("/tagger/v1/interrogators", _ => Task.FromResult(
            MockHttpResult.Json(new JsonObject { ["models"] = new JsonArray([.. Catalog.TaggerModels(profile.Tagger).Select(m => (JsonNode)m)]) })),
            extension: Extension);
        routes.Post("/tagger/v1/interrogate", request => jobs.RunAsync("interrogate", 1, () => TaggerInterrogate(request.BodyObject())),
            extension: Extension);
        if (V110)
        {
            routes.Post("/tagger/v1/unload-interrogators", _ => Task.FromResult(MockHttpResult.Json(JsonValue.Create("Successfully unload 0 model(s)"))),
                extension: Extension);
        }
    }

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

    /// <summary>
    /// POST /tagger/v1/interrogate: picobyte shape on 1.10 (caption.tag and caption.rating, picobyte e72d984
    /// tagger/api.py:198-212), toriato flat shape on 1.8 (ratings and tags in one caption dict, toriato 99bf7d8
    /// tagger/api.py:61-81).
    /// </summary>
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
            new("threshold", FieldKind.Float, V110 ? 0.0 : 0.35), // picobyte default 0.0, toriato 0.35
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
        if (!Catalog.TaggerModels(profile.Tagger).Contains(model, StringComparer.Ordinal))
        {
            throw MockRouteException.Http(404, "Model not found");
        }

        var threshold = f.GetFloat("threshold", V110 ? 0.0 : 0.35);
        using var image = ImageCodec.Decode(imageText);
        var scores = TaggerScores(image, ImageCodec.RawBytes(imageText));
        var hash = Painter.Hash(ImageCodec.RawBytes(imageText));
        var general = Math.Round(0.80 + ((hash % 100) / 1000.0), 6);
        var ratings = new (string, double)[]
        {
            ("general", general), ("sensitive", Math.Round(1 - general - 0.01, 6)), ("questionable", 0.004), ("explicit", 0.001),
        };

        if (V110)
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

    /// <summary>POST /sdapi/v1/interrogate: CLIP's caption or deepdanbooru's tags (A1111 api.py:630-647).</summary>
    private static MockHttpResult Interrogate(JsonObject body)
    {
        var image = body["image"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        var model = body["model"] is JsonValue m && m.TryGetValue(out string? ms) ? ms : "clip";
        if (image is null)
        {
            throw MockRouteException.Http(404, "Image not found"); // api.py:630-647
        }

        using var img = ImageCodec.Decode(image);
        var caption = model switch
        {
            "clip" => "a woman in an orange space suit smiling for a portrait photo, with a flag and a model shuttle in the background",
            "deepdanbooru" => string.Join(", ", TaggerScores(img, ImageCodec.RawBytes(image)).Where(t => t.Score > 0.5).Select(t => t.Tag)),
            _ => throw MockRouteException.Http(404, "Model not found"),
        };
        return MockHttpResult.Json(new JsonObject { ["caption"] = caption });
    }
}
