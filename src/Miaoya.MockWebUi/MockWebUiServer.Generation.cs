using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

public sealed partial class MockWebUiServer
{
    // Shared API fields (A1111 processing.py:137-227 via models.py:37-132; reference §1.4). Order = echo order.
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

    private sealed record PreparedGeneration(
        bool Img2Img,
        Dictionary<string, JsonNode?> Fields,
        int Width,
        int Height,
        int Steps,
        string Sampler,
        string? Scheduler,
        CheckpointInfo Model,
        Image<Rgba32>? Mask,
        List<string> InitImages,
        List<ControlUnit> Units);

    private PreparedGeneration PrepareGeneration(JsonObject body, bool img2img)
    {
        var specs = img2img ? Img2ImgFields : Txt2ImgFields;
        if (IsV110)
        {
            specs = [.. specs, new("scheduler", FieldKind.Str), .. img2img ? Array.Empty<FieldSpec>() : [new("hr_scheduler", FieldKind.Str)]];
        }

        var issues = new List<ValidationIssue>();
        var fields = PydanticFields.Parse(body, specs, issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues); // FastAPI 422 (reference §1.11)
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

            var (sampler, scheduler) = ResolveSampler(fields);
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
                        units = ParseUnits(args);
                    }
                }
            }

            var width = (int)Math.Clamp(fields.GetInt("width", 512), 8, 4096);
            var height = (int)Math.Clamp(fields.GetInt("height", 512), 8, 4096);
            var model = _state.OptionCheckpoint();
            if (fields["override_settings"] is JsonObject overrides && overrides["sd_model_checkpoint"] is { } o
                && PydanticFields.TryStr(o, out var ckpt) && Catalog.FindCheckpoint(ckpt) is { } found)
            {
                model = found; // unknown ids are silently dropped (processing.py:828-830)
            }

            var steps = (int)Math.Max(1, fields.GetInt("steps", 50));
            return new PreparedGeneration(img2img, fields, width, height, steps, sampler, scheduler, model, mask, initImages, units);
        }
        catch
        {
            mask?.Dispose();
            throw;
        }
    }

    /// <summary>Returns (sampler, scheduler label or null for Automatic/1.8).</summary>
    private (string Sampler, string? Scheduler) ResolveSampler(Dictionary<string, JsonNode?> fields)
    {
        var requested = fields.GetStr("sampler_name");
        if (string.IsNullOrEmpty(requested))
        {
            requested = fields.GetStr("sampler_index");
        }

        if (!IsV110)
        {
            // ≤1.8: composite names only; unknown → 404 "Sampler not found" (v1.8.0 api.py:46); scheduler field ignored.
            var name = string.IsNullOrEmpty(requested) ? "Euler" : requested;
            if (!Catalog.Samplers18.Contains(name, StringComparer.Ordinal))
            {
                throw MockRouteException.Http(404, "Sampler not found");
            }

            return (name, null);
        }

        // ≥1.10: get_sampler_and_scheduler (A1111 sd_samplers.py:100-129, reference §1.6).
        var schedulerText = fields.GetStr("scheduler");
        var found = Array.FindIndex(Catalog.Schedulers, s => s.Name == schedulerText || s.Label == schedulerText);
        if (found < 0)
        {
            found = 0;
        }

        var samplerName = string.IsNullOrEmpty(requested) ? Catalog.Samplers110[0].Name : requested;
        for (var i = 0; i < Catalog.Schedulers.Length; i++)
        {
            var s = Catalog.Schedulers[i];
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

        var sampler = Array.FindIndex(Catalog.Samplers110, s => s.Name == samplerName);
        if (sampler < 0)
        {
            sampler = 0; // unknown → first sampler "DPM++ 2M", silently
        }

        var samplerInfo = Catalog.Samplers110[sampler];
        if (samplerInfo.DefaultScheduler == Catalog.Schedulers[found].Name)
        {
            found = 0; // the sampler's own default is reported as Automatic
        }

        return (samplerInfo.Name, found == 0 ? null : Catalog.Schedulers[found].Label);
    }

    private MockHttpResult Generate(PreparedGeneration g)
    {
        var f = g.Fields;
        var batch = (int)Math.Clamp(f.GetInt("batch_size", 1), 1, 64);
        var iterations = (int)Math.Clamp(f.GetInt("n_iter", 1), 1, 64);
        var disposables = new List<IDisposable>();
        try
        {
            if (g.Mask is not null)
            {
                disposables.Add(g.Mask);
            }

            var inits = new List<Image<Rgba32>>();
            foreach (var text in g.InitImages)
            {
                var img = ImageCodec.Decode(text);
                disposables.Add(img);
                inits.Add(img);
            }

            if (g.Img2Img)
            {
                if (inits.Count == 0)
                {
                    throw MockRouteException.Internal("IndexError", "list index out of range");
                }

                if (inits.Count > batch)
                {
                    throw MockRouteException.Internal("RuntimeError", "bad number of images passed: " + inits.Count.ToString(CultureInfo.InvariantCulture) + "; expecting " + batch.ToString(CultureInfo.InvariantCulture) + " or less");
                }

                if (inits.Count > 1)
                {
                    batch = inits.Count; // processing.py:1710-1722
                }
            }
            var controls = ResolveUnits(g, inits.Count > 0 ? inits[0] : null, disposables);

            var seed = f.GetInt("seed", -1);
            if (seed == -1)
            {
                seed = (long)(_random.NextDouble() * 4294967294); // randrange(4294967294) (processing.py:675-685)
            }

            var subseed = f.GetInt("subseed", -1);
            if (subseed == -1)
            {
                subseed = (long)(_random.NextDouble() * 4294967294);
            }

            var total = batch * iterations;
            var prompt = f.GetStr("prompt") ?? "";
            var negative = f.GetStr("negative_prompt") ?? "";
            var format = _state.OptionString("samples_format", "png");
            var sendImages = f.GetBool("send_images", true);
            var denoise = f.GetFloat("denoising_strength", 0.75);
            var resizeMode = f.GetInt("resize_mode", 0);
            var noDetectMap = _state.OptionFlag("control_net_no_detectmap");

            bool[]? mask = null;
            if (g.Mask is not null)
            {
                mask = Painter.BuildMask(g.Mask, g.Width, g.Height, resizeMode, f.GetInt("inpainting_mask_invert", 0) != 0);
            }
            var extra = new JsonObject();
            if (g.Scheduler is not null)
            {
                extra["Schedule type"] = g.Scheduler; // sd_samplers_kdiffusion.py:103-106
            }

            for (var i = 0; i < controls.Count; i++)
            {
                var u = controls[i].Unit;
                extra[$"ControlNet {i}"] = string.Create(CultureInfo.InvariantCulture,
                    $"\"Module: {u.Module.Name}, Model: {controls[i].Model}, Weight: {u.Weight}, Resize Mode: {u.ResizeMode}, Processor Res: {u.ProcessorRes}, Threshold A: {u.ThresholdA}, Threshold B: {u.ThresholdB}, Guidance Start: {u.GuidanceStart}, Guidance End: {u.GuidanceEnd}, Pixel Perfect: {u.PixelPerfect}, Control Mode: {u.ControlMode}\"");
            }

            var seeds = new JsonArray();
            var subseeds = new JsonArray();
            var prompts = new JsonArray();
            var negatives = new JsonArray();
            var infotexts = new JsonArray();
            var images = new JsonArray();
            for (var i = 0; i < total; i++)
            {
                var s = seed + i;
                seeds.Add(s);
                subseeds.Add(subseed + i);
                prompts.Add(prompt);
                negatives.Add(negative);
                var infotext = Infotext(g, prompt, negative, s, denoise, extra);
                infotexts.Add(infotext);
                if (!sendImages)
                {
                    continue;
                }

                Image<Rgba32> output;
                if (g.Img2Img)
                {
                    output = Painter.Resize(inits[Math.Min(i % batch, inits.Count - 1)], g.Width, g.Height, resizeMode);
                    Painter.Repaint(output, mask, s, denoise);
                }
                else
                {
                    output = PaintTxt2Img(s, prompt, g.Width, g.Height);
                }

                using (output)
                {
                    images.Add(ImageCodec.Encode(output, format, infotext));
                }
            }
            if (sendImages && !noDetectMap)
            {
                // one detected map per enabled unit unless save_detected_map=false (CN controlnet.py:1283-1296)
                foreach (var c in controls.Where(c => c.Unit.SaveDetectedMap))
                {
                    // maps come at preprocessor resolution: short side = processor_res (default 512), output aspect
                    var res = c.Unit.ProcessorRes is >= 64 and <= 2048 ? c.Unit.ProcessorRes : 512;
                    var k = (double)res / Math.Min(g.Width, g.Height);
                    var map = RenderDetectedMap(c.Unit.Module, c.Input, (int)Math.Round(g.Width * k), (int)Math.Round(g.Height * k));
                    try
                    {
                        images.Add(ImageCodec.Encode(map, format));
                    }
                    finally
                    {
                        map.Dispose();
                    }
                }
            }
            var info = new JsonObject
            {
                ["prompt"] = prompt,
                ["all_prompts"] = prompts,
                ["negative_prompt"] = negative,
                ["all_negative_prompts"] = negatives,
                ["seed"] = seed,
                ["all_seeds"] = seeds,
                ["subseed"] = subseed,
                ["all_subseeds"] = subseeds,
                ["subseed_strength"] = f.GetFloat("subseed_strength", 0),
                ["width"] = g.Width,
                ["height"] = g.Height,
                ["sampler_name"] = g.Sampler,
                ["cfg_scale"] = f.GetFloat("cfg_scale", 7.0),
                ["steps"] = g.Steps,
                ["batch_size"] = batch,
                ["restore_faces"] = f.GetBool("restore_faces", false),
                ["face_restoration_model"] = null,
                ["sd_model_name"] = g.Model.ModelName,
                ["sd_model_hash"] = g.Model.Hash,
                ["sd_vae_name"] = null,
                ["sd_vae_hash"] = null,
                ["seed_resize_from_w"] = f.GetInt("seed_resize_from_w", -1),
                ["seed_resize_from_h"] = f.GetInt("seed_resize_from_h", -1),
                ["denoising_strength"] = g.Img2Img || f.GetBool("enable_hr", false) ? denoise : null,
                ["extra_generation_params"] = extra,
                ["index_of_first_image"] = 0,
                ["infotexts"] = infotexts,
                ["styles"] = f["styles"]?.DeepClone() ?? new JsonArray(),
                ["job_timestamp"] = _jobs.Timestamp,
                ["clip_skip"] = 1,
                ["is_using_inpainting_conditioning"] = false,
                ["version"] = IsV110 ? "v1.10.1" : "v1.8.0",
            };

            // parameters = the request model echoed; init_images/mask nulled unless include_init_images (api.py:559-565)
            var parameters = new JsonObject();
            foreach (var (key, value) in f)
            {
                if (key == "include_init_images")
                {
                    continue;
                }

                parameters[key] = value?.DeepClone();
            }

            if (g.Img2Img && !f.GetBool("include_init_images", false))
            {
                parameters["init_images"] = null;
                parameters["mask"] = null;
            }

            return MockHttpResult.Json(new JsonObject
            {
                ["images"] = images,
                ["parameters"] = parameters,
                ["info"] = info.ToJsonString(MockHttpResult.WireOptions), // a JSON string inside JSON (reference §1.9)
            });
        }
        finally
        {
            foreach (var d in disposables)
            {
                d.Dispose();
            }
        }
    }

    /// <summary>txt2img's image: the test hook's (MockWebUiOptions.Txt2ImgImage) when it gives one, else the painted gradient.</summary>
    private Image<Rgba32> PaintTxt2Img(long seed, string prompt, int width, int height)
    {
        if (_options.Txt2ImgImage?.Invoke(prompt, seed, width, height) is { } image)
        {
            return image;
        }

        return Painter.Generate(seed, prompt, width, height);
    }

    private string Infotext(PreparedGeneration g, string prompt, string negative, long seed, double denoise, JsonObject extra)
    {
        var sb = new StringBuilder(prompt);
        if (negative.Length > 0)
        {
            sb.Append("\nNegative prompt: ").Append(negative);
        }

        var f = g.Fields;
        sb.Append('\n').Append(CultureInfo.InvariantCulture,
            $"Steps: {g.Steps}, Sampler: {g.Sampler}, CFG scale: {f.GetFloat("cfg_scale", 7.0)}, Seed: {seed}, Size: {g.Width}x{g.Height}, Model hash: {g.Model.Hash}, Model: {g.Model.ModelName}");
        if (g.Img2Img)
        {
            sb.Append(CultureInfo.InvariantCulture, $", Denoising strength: {denoise}");
        }

        foreach (var (key, value) in extra)
        {
            sb.Append(", ").Append(key).Append(": ").Append(value?.GetValue<string>());
        }

        sb.Append(", Version: ").Append(IsV110 ? "v1.10.1" : "v1.8.0");
        return sb.ToString();
    }

    private static MockHttpResult PngInfo(JsonObject body)
    {
        var text = body["image"] is JsonValue v && v.TryGetValue(out string? s) ? s : "";
        if (string.IsNullOrWhiteSpace(text))
        {
            return MockHttpResult.Json(new JsonObject { ["info"] = "", ["items"] = new JsonObject(), ["parameters"] = new JsonObject() });
        }

        using var image = ImageCodec.Decode(text);
        var (info, items) = ImageCodec.ReadPngText(image);
        var itemsJson = new JsonObject();
        foreach (var (k, val) in items)
        {
            itemsJson[k] = val;
        }

        return MockHttpResult.Json(new JsonObject { ["info"] = info, ["items"] = itemsJson, ["parameters"] = ParseInfotext(info) });
    }

    /// <summary>Minimal parse_generation_parameters: prompt, negative prompt and the "Key: value" last line.</summary>
    private static JsonObject ParseInfotext(string info)
    {
        var result = new JsonObject();
        if (info.Length == 0)
        {
            return result;
        }

        var lines = info.Split('\n');
        var last = lines[^1];
        var prompt = new List<string>();
        var negative = new List<string>();
        var inNegative = false;
        foreach (var line in lines[..^1])
        {
            if (line.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                inNegative = true;
                negative.Add(line["Negative prompt:".Length..].Trim());
            }
            else
            {
                (inNegative ? negative : prompt).Add(line);
            }
        }

        result["Prompt"] = string.Join('\n', prompt);
        result["Negative prompt"] = string.Join('\n', negative);
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(last, "\\s*([\\w ]+):\\s*(\"(?:\\\\.|[^\\\\\"])+\"|[^,]*)(?:,|$)"))
        {
            result[m.Groups[1].Value.Trim()] = m.Groups[2].Value.Trim();
        }

        return result;
    }

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
