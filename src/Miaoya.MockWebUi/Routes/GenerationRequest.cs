using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

/// <summary>The txt2img/img2img request models (A1111 v1.10.1 modules/api/models.py) and their validation before a render.</summary>
internal static class GenerationRequest
{
    // Shared API fields (A1111 v1.10.1 modules/processing.py:137-227 via modules/api/models.py:37-132).
    // Order = echo order.
    private static readonly FieldSpec[] CommonFields =
    [
        new("prompt", FieldKind.Str, ""),
        new("negative_prompt", FieldKind.Str, ""),
        new("styles", FieldKind.StrList),
        new("seed", FieldKind.Int, -1),
        new("subseed", FieldKind.Int, -1),
        new("subseed_strength", FieldKind.Float, 0),
        new("seed_resize_from_h", FieldKind.Int, -1),
        new("seed_resize_from_w", FieldKind.Int, -1),
        new("sampler_name", FieldKind.Str),
        new("batch_size", FieldKind.Int, 1),
        new("n_iter", FieldKind.Int, 1),
        new("steps", FieldKind.Int, 50),
        new("cfg_scale", FieldKind.Float, 7.0),
        new("width", FieldKind.Int, 512),
        new("height", FieldKind.Int, 512),
        new("restore_faces", FieldKind.Bool),
        new("tiling", FieldKind.Bool),
        new("do_not_save_samples", FieldKind.Bool, false),
        new("do_not_save_grid", FieldKind.Bool, false),
        new("eta", FieldKind.Float),
        new("denoising_strength", FieldKind.Float, 0.75),
        new("s_min_uncond", FieldKind.Float),
        new("s_churn", FieldKind.Float),
        new("s_tmax", FieldKind.Float),
        new("s_tmin", FieldKind.Float),
        new("s_noise", FieldKind.Float),
        new("override_settings", FieldKind.Dict),
        new("override_settings_restore_afterwards", FieldKind.Bool, true),
        new("refiner_checkpoint", FieldKind.Str),
        new("refiner_switch_at", FieldKind.Float),
        new("disable_extra_networks", FieldKind.Bool, false),
        new("comments", FieldKind.Dict),
        new("sampler_index", FieldKind.Str, "Euler"), // models.py:119
        new("script_name", FieldKind.Str),
        new("script_args", FieldKind.List, new JsonArray()),
        new("send_images", FieldKind.Bool, true),
        new("save_images", FieldKind.Bool, false),
        new("alwayson_scripts", FieldKind.Dict, new JsonObject()),
        new("force_task_id", FieldKind.Str),
        new("infotext", FieldKind.Str),
    ];

    private static readonly FieldSpec[] Txt2ImgFields =
    [
        .. CommonFields,
        new("enable_hr", FieldKind.Bool, false),
        new("firstphase_width", FieldKind.Int, 0),
        new("firstphase_height", FieldKind.Int, 0),
        new("hr_scale", FieldKind.Float, 2.0),
        new("hr_upscaler", FieldKind.Str),
        new("hr_second_pass_steps", FieldKind.Int, 0),
        new("hr_resize_x", FieldKind.Int, 0),
        new("hr_resize_y", FieldKind.Int, 0),
        new("hr_checkpoint_name", FieldKind.Str),
        new("hr_sampler_name", FieldKind.Str),
        new("hr_prompt", FieldKind.Str, ""),
        new("hr_negative_prompt", FieldKind.Str, ""),
        new("firstpass_image", FieldKind.Str),
    ];

    // img2img-only fields (processing.py:1557-1574; models.py:115-132).
    private static readonly FieldSpec[] Img2ImgFields =
    [
        .. CommonFields,
        new("init_images", FieldKind.StrList),
        new("resize_mode", FieldKind.Int, 0),
        new("image_cfg_scale", FieldKind.Float),
        new("mask", FieldKind.Str),
        new("mask_blur_x", FieldKind.Int, 4),
        new("mask_blur_y", FieldKind.Int, 4),
        new("mask_blur", FieldKind.Int),
        new("mask_round", FieldKind.Bool, true),
        new("inpainting_fill", FieldKind.Int, 0),
        new("inpaint_full_res", FieldKind.Bool, true),
        new("inpaint_full_res_padding", FieldKind.Int, 0),
        new("inpainting_mask_invert", FieldKind.Int, 0),
        new("initial_noise_multiplier", FieldKind.Float),
        new("latent_mask", FieldKind.Str),
        new("include_init_images", FieldKind.Bool, false),
    ];

    /// <summary>Validates a body as the profile's A1111 does; throws its 422/404/500 answers.</summary>
    public static PreparedGeneration Prepare(JsonObject body, bool img2img, MockWebUiProfile profile) =>
        Prepare(body, img2img, ProfileTraits.For(profile));

    /// <summary>
    /// Validates a body as the A1111 (or fork) of <paramref name="traits"/> does, with <paramref name="controlNet"/>'s unit slots
    /// and extras (default: 3 slots, nothing lacking); throws its 422/404/500 answers.
    /// </summary>
    public static PreparedGeneration Prepare(JsonObject body, bool img2img, ProfileTraits traits, ControlNetBox? controlNet = null)
    {
        var v110 = traits.Samplers == SamplerDialect.Split;
        var specs = img2img ? Img2ImgFields : Txt2ImgFields;
        if (v110)
        {
            specs = [.. specs, new("scheduler", FieldKind.Str), .. img2img ? Array.Empty<FieldSpec>() : [new("hr_scheduler", FieldKind.Str)]];
        }

        var issues = new List<ValidationIssue>();
        var fields = PydanticFields.Parse(body, specs, issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues); // FastAPI's 422 (fastapi 0.94.0 fastapi/exception_handlers.py)
        }

        var initImages = new List<string>();
        Image<Rgba32>? mask = null;
        if (img2img)
        {
            if (fields["init_images"] is not JsonArray init)
            {
                throw MockRouteException.Http(404, "Init image not found"); // A1111 api.py:495-497
            }

            initImages.AddRange(init.Select(n => n?.GetValue<string>() ?? ""));
            if (fields.GetStr("mask") is { Length: > 0 } maskText)
            {
                mask = ImageCodec.Decode(maskText); // decoded before anything else (api.py:499-501)
            }
        }

        try
        {
            // Selectable script (api.py:308-313): unknown → 422 "Script 'x' not found".
            var selectable = img2img ? Catalog.SelectableImg2Img : Catalog.SelectableTxt2Img;
            if (fields.GetStr("script_name") is { Length: > 0 } scriptName
                && !selectable.Contains(scriptName.ToLowerInvariant(), StringComparer.Ordinal))
            {
                throw MockRouteException.Http(422, $"Script '{scriptName}' not found");
            }

            var (sampler, scheduler) = ResolveSampler(fields, traits);
            var units = new List<ControlUnit>();
            if (fields["alwayson_scripts"] is JsonObject alwayson)
            {
                var known = img2img ? Catalog.SelectableImg2Img.Concat(Catalog.AlwaysOnImg2Img) : Catalog.SelectableTxt2Img.Concat(Catalog.AlwaysOnTxt2Img);
                foreach (var (key, value) in alwayson)
                {
                    // title().lower() == key.lower() over all scripts (A1111 api.py:36-40, 335-361)
                    if (!known.Contains(key.ToLowerInvariant(), StringComparer.Ordinal))
                    {
                        throw MockRouteException.Http(422, $"always on script {key} not found");
                    }

                    if (string.Equals(key, "controlnet", StringComparison.OrdinalIgnoreCase) && value is JsonObject { } cn && cn["args"] is JsonArray args)
                    {
                        units = ControlNetUnits.Parse(args, traits.Units, img2img, controlNet);
                    }
                }
            }

            var width = (int)Math.Clamp(fields.GetInt("width", 512), 8, 4096);
            var height = (int)Math.Clamp(fields.GetInt("height", 512), 8, 4096);
            var steps = (int)Math.Max(1, fields.GetInt("steps", 50));
            return new PreparedGeneration(img2img, fields, width, height, steps, sampler, scheduler, mask, initImages, units);
        }
        catch
        {
            mask?.Dispose();
            throw;
        }
    }

    /// <summary>Returns (sampler, scheduler label or null for Automatic/1.8).</summary>
    private static (string Sampler, string? Scheduler) ResolveSampler(Dictionary<string, JsonNode?> fields, ProfileTraits traits)
    {
        var v110 = traits.Samplers == SamplerDialect.Split;
        var samplers = traits.SplitSamplers;
        var schedulers = traits.Schedulers;
        var requested = fields.GetStr("sampler_name");
        if (string.IsNullOrEmpty(requested))
        {
            requested = fields.GetStr("sampler_index");
        }

        if (!v110)
        {
            // ≤1.8: composite names only; unknown → 404 "Sampler not found" (v1.8.0 api.py:46); scheduler field ignored.
            var name = string.IsNullOrEmpty(requested) ? "Euler" : requested;
            if (!Catalog.Samplers18.Contains(name, StringComparer.Ordinal))
            {
                throw MockRouteException.Http(404, "Sampler not found");
            }

            return (name, null);
        }

        // ≥1.10: get_sampler_and_scheduler (A1111 v1.10.1 modules/sd_samplers.py:100-123).
        var schedulerText = fields.GetStr("scheduler");
        var found = IndexOf(schedulers, s => s.Name == schedulerText || s.Label == schedulerText);
        if (found < 0)
        {
            found = 0;
        }

        var samplerName = string.IsNullOrEmpty(requested) ? samplers[0].Name : requested;
        for (var i = 0; i < schedulers.Count; i++)
        {
            var s = schedulers[i];
            foreach (var option in new[] { s.Label, s.Name }.Concat(s.Aliases ?? []))
            {
                if (samplerName.EndsWith(" " + option, StringComparison.Ordinal))
                {
                    // a scheduler suffix in the sampler name overrides the explicit scheduler field
                    found = i;
                    samplerName = samplerName[..^(option.Length + 1)];
                    break;
                }
            }
        }

        var sampler = IndexOf(samplers, s => s.Name == samplerName);
        if (sampler < 0)
        {
            sampler = 0; // unknown → first sampler "DPM++ 2M", silently
        }

        var samplerInfo = samplers[sampler];
        if (samplerInfo.DefaultScheduler == schedulers[found].Name)
        {
            found = 0; // the sampler's own default is reported as Automatic
        }

        return (samplerInfo.Name, found == 0 ? null : schedulers[found].Label);
    }

    private static int IndexOf<T>(IReadOnlyList<T> items, Func<T, bool> match)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (match(items[i]))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A txt2img/img2img body after FastAPI's validation and the checks A1111 makes before it renders.</summary>
internal sealed record PreparedGeneration(
    bool Img2Img,
    Dictionary<string, JsonNode?> Fields,
    int Width,
    int Height,
    int Steps,
    string Sampler,
    string? Scheduler,
    Image<Rgba32>? Mask,
    List<string> InitImages,
    List<ControlUnit> Units);
