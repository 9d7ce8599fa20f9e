using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

/// <summary>
/// SD.Next's txt2img/img2img request (vladmandic/sdnext@431bcc3 modules/api/models.py:194-240, generate.py, script.py):
/// validated and prepared for the same renderer; ControlNet units never reach it.
/// </summary>
internal static class SdNextGeneration
{
    // The fields the mock reads or echoes; the model holds every StableDiffusionProcessing parameter (pydantic v1, extra ignored).
    private static readonly FieldSpec[] Common =
    [
        new("prompt", FieldKind.Str, ""),
        new("negative_prompt", FieldKind.Str, ""),
        new("styles", FieldKind.StrList, new JsonArray()),
        new("seed", FieldKind.Int, -1),
        new("subseed", FieldKind.Int, -1),
        new("subseed_strength", FieldKind.Float, 0),
        new("batch_size", FieldKind.Int, 1),
        new("n_iter", FieldKind.Int, 1),
        new("steps", FieldKind.Int, 50),
        new("cfg_scale", FieldKind.Float, 7.0),
        new("width", FieldKind.Int, 512),
        new("height", FieldKind.Int, 512),
        new("override_settings", FieldKind.Dict, new JsonObject()),
        new("override_settings_restore_afterwards", FieldKind.Bool, true),
        new("sampler_index", FieldKind.Any, 0), // Union[int, str]
        new("sampler_name", FieldKind.Str, "UniPC"), // models.py:199 (A1111's API has no default)
        new("hr_sampler_name", FieldKind.Str, "Same as primary"),
        new("script_name", FieldKind.Str, "none"),
        new("script_args", FieldKind.List, new JsonArray()),
        new("send_images", FieldKind.Bool, true),
        new("save_images", FieldKind.Bool, false), // do_not_save_* = not save_images (generate.py:100-104)
        new("alwayson_scripts", FieldKind.Dict, new JsonObject()),
        new("extra", FieldKind.Dict, new JsonObject()),
    ];

    private static readonly FieldSpec[] Txt2Img =
    [
        .. Common,
        new("enable_hr", FieldKind.Bool, false),
        new("hr_scale", FieldKind.Float, 2.0),
        new("hr_resize_x", FieldKind.Int, 0),
        new("hr_resize_y", FieldKind.Int, 0),
        new("denoising_strength", FieldKind.Float, 0.5),
    ];

    private static readonly FieldSpec[] Img2Img =
    [
        .. Common,
        new("init_images", FieldKind.StrList),
        new("denoising_strength", FieldKind.Float, 0.5), // models.py:228
        new("mask", FieldKind.Str),
        new("resize_mode", FieldKind.Int, 0),
        new("include_init_images", FieldKind.Bool, false),
    ];

    /// <summary>Validates as SD.Next does and prepares the render; throws its 422/404/400 answers.</summary>
    public static PreparedGeneration Prepare(JsonObject body, bool img2img)
    {
        var issues = new List<ValidationIssue>();
        var fields = PydanticFields.Parse(body, img2img ? Img2Img : Txt2Img, issues);
        // txt2img reads `face`; img2img's model declares `face_id` and its `face` key is dropped as extra, while
        // prepare_face_module reads request.face, so on img2img neither reaches the face script (generate.py:43-62)
        SdNextIdentityFields.Validate(body, img2img ? "face_id" : "face", issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues);
        }

        // validate_sampler_name(sampler_name or sampler_index): unknown → 404 (helpers.py:10-14)
        var sampler = fields.GetStr("sampler_name") is { Length: > 0 } name ? name : fields["sampler_index"]?.ToJsonString().Trim('"') ?? "0";
        if (!SdNextCatalog.Samplers.Contains(sampler, StringComparer.Ordinal))
        {
            throw SdNextErrors.Http(404, "Sampler not found");
        }

        var initImages = new List<string>();
        Image<Rgba32>? mask = null;
        if (img2img)
        {
            if (fields["init_images"] is not JsonArray init)
            {
                throw MockRouteException.WithBody(400, new JsonObject { ["error"] = "Init image is none" }, "Init image is none"); // generate.py:121-122
            }

            initImages.AddRange(init.Select(n => n?.GetValue<string>() ?? ""));
            if (fields.GetStr("mask") is { Length: > 0 } maskText)
            {
                mask = ImageCodec.Decode(maskText);
            }
        }

        if (fields["alwayson_scripts"] is JsonObject alwayson)
        {
            foreach (var (key, _) in alwayson)
            {
                // get_script: title().lower(), or its part before ':' (script.py:9-20, 88-94)
                var lower = key.ToLowerInvariant();
                if (!SdNextCatalog.AlwaysOn.Any(t => t == lower || t.Split(':')[0] == lower))
                {
                    mask?.Dispose();
                    throw SdNextErrors.Http(422, $"Always on script not found: {key}");
                }
            }
        }

        var width = (int)Math.Clamp(fields.GetInt("width", 512), 8, 4096);
        var height = (int)Math.Clamp(fields.GetInt("height", 512), 8, 4096);
        var steps = (int)Math.Max(1, fields.GetInt("steps", 50));
        return new PreparedGeneration(img2img, fields, width, height, steps, sampler, null, mask, initImages, []);
    }
}
