using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

/// <summary>
/// Renders a prepared txt2img/img2img call: painted (or repainted) images, ControlNet's detected maps, the echoed
/// parameters and the info string, as A1111's <c>process_images</c> and api.py shape them.
/// </summary>
internal sealed class GenerationRenderer(
    MockWebUiOptions options, MockState state, JobQueue jobs, MockRandom random, ProfileTraits profile, ControlRunLog controlRuns, ControlNetBox box, ConsoleLog console)
{
    private string Version => profile.Version;

    /// <summary>The answer to <paramref name="g"/> rendered with <paramref name="model"/> (runs inside its job).</summary>
    public MockHttpResult Render(PreparedGeneration g, CheckpointInfo model)
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
            var resizeMode = f.GetInt("resize_mode", 0);
            bool[]? mask = null;
            if (g.Mask is not null)
            {
                mask = Painter.BuildMask(g.Mask, g.Width, g.Height, resizeMode, f.GetInt("inpainting_mask_invert", 0) != 0);
            }

            var onlyMasked = g.Img2Img && mask is not null && f.GetBool("inpaint_full_res", true)
                ? new OnlyMaskedInpaint(mask, g.Width, g.Height, (int)f.GetInt("inpaint_full_res_padding", 0))
                : null;
            List<ResolvedControl> controls;
            var controlNetFailed = false;
            try
            {
                controls = ControlNetUnits.Resolve(g.Units, new ControlNetRun(inits.Count > 0 ? inits[0] : null, model.Version, box, profile.Units, onlyMasked), disposables);
            }
            catch (ControlNetScriptException e)
            {
                // A1111 reports it and renders without ControlNet (see IdentityUnits)
                console.Add(e.ConsoleText);
                controls = [];
                controlNetFailed = true;
            }

            var seed = f.GetInt("seed", -1);
            if (seed == -1)
            {
                seed = (long)(random.NextDouble() * 4294967294); // randrange(4294967294) (processing.py:675-685)
            }

            var subseed = f.GetInt("subseed", -1);
            if (subseed == -1)
            {
                subseed = (long)(random.NextDouble() * 4294967294);
            }

            var total = batch * iterations;
            var prompt = f.GetStr("prompt") ?? "";
            var negative = f.GetStr("negative_prompt") ?? "";
            var format = state.OptionString("samples_format", "png");
            var sendImages = f.GetBool("send_images", true);
            var denoise = f.GetFloat("denoising_strength", 0.75);
            // Forge registers control_net_no_detectmap but never reads it (forge@dfdcbab: only scripts/controlnet.py:590 names it)
            var noDetectMap = !profile.ForgeControlNet && state.OptionFlag("control_net_no_detectmap");

            var extra = new JsonObject();
            if (g.Scheduler is not null)
            {
                extra["Schedule type"] = g.Scheduler; // sd_samplers_kdiffusion.py:103-106
            }

            controlRuns.Record(controls.Select(c => c.Unit.ControlMode));
            // the units as written before ControlNet's per-unit loop, so a failed run names them too (controlnet.py:660)
            var written = controlNetFailed ? g.Units.Select(u => (Unit: u, u.Model)).ToList() : controls.Select(c => (c.Unit, c.Model)).ToList();
            for (var i = 0; i < written.Count; i++)
            {
                var u = written[i].Unit;
                if (u.Forge is { } forge)
                {
                    extra[$"ControlNet {i}"] = forge.Infotext; // Infotext.write_infotext (lib_controlnet/infotext.py:84-94)
                    continue;
                }

                extra[$"ControlNet {i}"] = string.Create(CultureInfo.InvariantCulture,
                    $"\"Module: {u.Module.Name}, Model: {written[i].Model}, Weight: {u.Weight}, Resize Mode: {u.ResizeMode}, Processor Res: {u.ProcessorRes}, Threshold A: {u.ThresholdA}, Threshold B: {u.ThresholdB}, Guidance Start: {u.GuidanceStart}, Guidance End: {u.GuidanceEnd}, Pixel Perfect: {u.PixelPerfect}, Control Mode: {u.ControlMode}\"");
            }

            var seeds = new JsonArray();
            var subseeds = new JsonArray();
            var prompts = new JsonArray();
            var negatives = new JsonArray();
            var infotexts = new JsonArray();
            var images = new JsonArray();
            var hires = GenerationLayout.HiresSize(g);
            var (outW, outH) = hires ?? (g.Width, g.Height);
            var identity = controls.Any(c => c.Unit.Forge is null && IdentityCatalog.CarriesIdentity(c.Unit.Module.Name));
            var generated = new List<Image<Rgba32>>();
            disposables.Add(new DisposableList(generated));
            for (var i = 0; i < total; i++)
            {
                var s = seed + i;
                seeds.Add(s);
                subseeds.Add(subseed + i);
                prompts.Add(prompt);
                negatives.Add(negative);
                var infotext = Infotext(g, model, prompt, negative, s, denoise, extra);
                infotexts.Add(infotext);
                if (!sendImages)
                {
                    continue;
                }

                Image<Rgba32> output;
                if (g.Img2Img)
                {
                    output = Painter.Resize(inits[Math.Min(i % batch, inits.Count - 1)], g.Width, g.Height, resizeMode);
                    var face = identity ? FaceLocator.Locate(output) : default;
                    Painter.Repaint(output, mask, s, denoise);
                    if (identity)
                    {
                        IdentityPainter.Apply(output, face, mask, controls, s);
                    }
                }
                else
                {
                    output = PaintTxt2Img(s, prompt, outW, outH);
                    if (identity)
                    {
                        IdentityPainter.Apply(output, FaceLocator.Locate(output), null, controls, s);
                    }
                }

                generated.Add(output);
                images.Add(ImageCodec.Encode(output, format, infotext));
            }
            if (sendImages && !noDetectMap)
            {
                foreach (var map in GenerationLayout.ControlNetMaps(controls, g.Width, g.Height, hires))
                {
                    using (map)
                    {
                        images.Add(ImageCodec.Encode(map, format));
                    }
                }
            }

            var firstImage = 0;
            if (GenerationLayout.ReturnsGrid(f, state, total))
            {
                // the grid and its infotext go first (processing.py:1119-1128)
                infotexts.Insert(0, infotexts[0]!.DeepClone());
                if (sendImages)
                {
                    using var grid = GenerationLayout.Grid(generated);
                    images.Insert(0, ImageCodec.Encode(grid, format, infotexts[0]!.GetValue<string>()));
                }

                firstImage = 1;
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
                ["sd_model_name"] = model.ModelName,
                ["sd_model_hash"] = model.Hash,
                ["sd_vae_name"] = null,
                ["sd_vae_hash"] = null,
                ["seed_resize_from_w"] = f.GetInt("seed_resize_from_w", -1),
                ["seed_resize_from_h"] = f.GetInt("seed_resize_from_h", -1),
                ["denoising_strength"] = g.Img2Img || f.GetBool("enable_hr", false) ? denoise : null,
                ["extra_generation_params"] = extra,
                ["index_of_first_image"] = firstImage,
                ["infotexts"] = infotexts,
                ["styles"] = f["styles"]?.DeepClone() ?? new JsonArray(),
                ["job_timestamp"] = jobs.Timestamp,
                ["clip_skip"] = 1,
                ["is_using_inpainting_conditioning"] = false,
                ["version"] = Version,
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
                // A JSON string inside JSON (A1111 v1.10.1 modules/api/models.py:134-142, info: str).
                ["info"] = info.ToJsonString(MockHttpResult.WireOptions),
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
        if (options.Txt2ImgImage?.Invoke(prompt, seed, width, height) is { } image)
        {
            return image;
        }

        return Painter.Generate(seed, prompt, width, height);
    }

    private string Infotext(PreparedGeneration g, CheckpointInfo model, string prompt, string negative, long seed, double denoise, JsonObject extra)
    {
        var sb = new StringBuilder(prompt);
        if (negative.Length > 0)
        {
            sb.Append("\nNegative prompt: ").Append(negative);
        }

        var f = g.Fields;
        sb.Append('\n').Append(CultureInfo.InvariantCulture,
            $"Steps: {g.Steps}, Sampler: {g.Sampler}, CFG scale: {f.GetFloat("cfg_scale", 7.0)}, Seed: {seed}, Size: {g.Width}x{g.Height}, Model hash: {model.Hash}, Model: {model.ModelName}");
        if (g.Img2Img)
        {
            sb.Append(CultureInfo.InvariantCulture, $", Denoising strength: {denoise}");
        }

        foreach (var (key, value) in extra)
        {
            sb.Append(", ").Append(key).Append(": ").Append(Quote(value?.GetValue<string>() ?? ""));
        }

        sb.Append(", Version: ").Append(Version);
        return sb.ToString();
    }

    /// <summary>
    /// A1111's infotext_utils.quote: a value with ',', ':' or a newline goes in JSON quotes. The A1111 profiles' ControlNet
    /// values are kept quoted already, as this mock always wrote them, and pass unchanged.
    /// </summary>
    private static string Quote(string text) =>
        text.StartsWith('"') || (!text.Contains(',', StringComparison.Ordinal) && !text.Contains(':', StringComparison.Ordinal) && !text.Contains('\n', StringComparison.Ordinal))
            ? text
            : System.Text.Json.JsonSerializer.Serialize(text, QuoteOptions);

    private static readonly System.Text.Json.JsonSerializerOptions QuoteOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

/// <summary>Disposes the images of a list (the generated ones, kept for the grid).</summary>
internal sealed class DisposableList(List<Image<Rgba32>> images) : IDisposable
{
    public void Dispose()
    {
        foreach (var image in images)
        {
            image.Dispose();
        }
    }
}
