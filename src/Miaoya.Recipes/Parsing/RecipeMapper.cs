using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Recipes.Parsing;

/// <summary>Maps the (overridden) node tree onto the recipe records, reporting every problem on the way.</summary>
internal static partial class RecipeMapper
{
    /// <summary>A recipe name that can be a folder name anywhere: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'.</summary>
    public static bool IsFolderSafeName(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private const string NoMaskOrInpaintInV3 = "V3 swaps the face locally; it has no mask or inpaint step";

    /// <summary>The recipe, or null when any problem was reported (by this or an earlier stage).</summary>
    public static Recipe? Map(YamlMappingNode root, Diagnostics diagnostics)
    {
        var r = new Section(diagnostics, root, root, string.Empty, RecipeSchema.Root);
        var name = r.String("name", required: true);
        if (name is not null && !IsFolderSafeName(name))
        {
            // The name becomes a folder (out/runs/NAME-TIME, sweep cells, batch labels): no paths, nothing hidden.
            r.Report("name", $"'{Limits.UserText.Quote(name)}' is not a recipe name: use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit (it names run folders)");
            name = null;
        }
        var description = r.String("description", required: false, TextKind.Text);
        var pipeline = r.Enum<PipelineKind>("pipeline", null);
        var baseModel = r.String("base_model", required: true);
        var interrogate = r.Child("interrogate", RecipeSchema.Interrogate, required: true) is { } i ? MapInterrogate(i) : null;
        var prompt = r.Child("prompt", RecipeSchema.Prompt, required: true) is { } p ? MapPrompt(p) : null;
        var isV3 = pipeline == PipelineKind.V3;
        var models = new List<(Section Section, string Key, string? Model)>();
        MaskSettings? mask = null;
        GenerationSettings? inpaint = null;
        if (isV3)
        {
            foreach (var key in (string[])["mask", "inpaint"])
            {
                if (r.Has(key))
                {
                    diagnostics.Report(r.KeyNode(key)!, key, NoMaskOrInpaintInV3);
                }
            }
        }
        else
        {
            // An unknown or missing pipeline is checked as v1/v2 (mask and inpaint required), so those problems still show.
            mask = r.Child("mask", RecipeSchema.Mask, required: true) is { } m ? MapMask(m) : null;
            inpaint = r.Child("inpaint", RecipeSchema.Inpaint, required: true, RecipeSchema.MisplacedIn(StepName.Inpaint)) is { } ip
                ? MapGeneration(ip, isInpaint: true, models)
                : null;
        }

        FaceSwapSettings? faceSwap = null;
        if (isV3)
        {
            if (r.Has("faceswap"))
            {
                faceSwap = r.Child("faceswap", RecipeSchema.FaceSwap, required: true) is { } fs ? MapFaceSwap(fs) : null;
            }
            else
            {
                diagnostics.Report(r.PlaceOf("pipeline"), "faceswap", "required section is missing: pipeline v3 swaps the person's face into the template locally before img2img");
            }
        }
        else if (pipeline is not null && r.Has("faceswap"))
        {
            diagnostics.Report(
                r.KeyNode("faceswap")!,
                "faceswap",
                $"a {EnumWords.Of(pipeline.Value)} recipe must not have a faceswap section (the local face swap is V3 only); remove it or set pipeline: v3");
        }

        GenerationSettings? img2img = null;
        if (pipeline == PipelineKind.V1 && r.Has("img2img"))
        {
            diagnostics.Report(r.KeyNode("img2img")!, "img2img", "a v1 recipe must not have an img2img section (the second pass is V2 and V3 only); remove it or set pipeline: v2");
        }
        else if (pipeline is PipelineKind.V2 or PipelineKind.V3)
        {
            if (r.Has("img2img"))
            {
                img2img = r.Child("img2img", RecipeSchema.Img2Img, required: true, RecipeSchema.MisplacedIn(StepName.Img2Img)) is { } ii
                    ? MapGeneration(ii, isInpaint: false, models)
                    : null;
            }
            else
            {
                var after = isV3 ? StepName.FaceSwap : StepName.Inpaint;
                diagnostics.Report(
                    r.PlaceOf("pipeline"),
                    "img2img",
                    $"required section is missing: pipeline {EnumWords.Of(pipeline.Value)} runs a whole-image img2img pass after {after}");
            }
        }

        var finish = r.Child("finish", RecipeSchema.Finish, required: false) is { } fin ? MapFinish(fin) : null;
        var family = r.Enum<ModelFamily>("model_family", ModelFamily.Sd15);
        string[] generationSteps = pipeline switch
        {
            PipelineKind.V1 => [StepName.Inpaint],
            PipelineKind.V3 => [StepName.Img2Img],
            _ => [StepName.Inpaint, StepName.Img2Img],
        };
        var detail = r.Child("detail", RecipeSchema.Detail, required: false) is { } ds ? MapDetail(ds, models) : null;
        var restore = r.Child("restore", RecipeSchema.Restore, required: false) is { } rs ? MapRestore(rs) : null;
        var upscale = r.Child("upscale", RecipeSchema.Upscale, required: false) is { } us ? MapUpscale(us) : null;
        if (detail is not null)
        {
            generationSteps = [.. generationSteps, StepName.Detail];
        }

        var identitySection = r.Child("identity", RecipeSchema.Identity, required: false);
        var identity = identitySection is null ? null : MapIdentity(identitySection, pipeline, generationSteps, models);
        var candidates = r.Child("candidates", RecipeSchema.Candidates, required: false) is { } cs ? MapCandidates(cs) : null;
        if (family is { } f)
        {
            CheckFamilies(r, f, baseModel, models, identity?.Method, identitySection);
        }

        if (diagnostics.HasProblems)
        {
            return null;
        }

        return new Recipe
        {
            Name = name!,
            Description = description,
            Pipeline = pipeline!.Value,
            BaseModel = baseModel!,
            SourcePath = diagnostics.Source,
            Interrogate = interrogate!,
            Prompt = prompt!,
            FaceSwap = faceSwap,
            Mask = mask,
            Inpaint = inpaint,
            Img2Img = img2img,
            Finish = finish,
            ModelFamily = family ?? ModelFamily.Sd15,
            Identity = identity,
            Candidates = candidates,
            Detail = detail,
            Restore = restore,
            Upscale = upscale,
        };
    }

    private static DetailSettings MapDetail(Section s, List<(Section Section, string Key, string? Model)> models)
    {
        var generation = MapGeneration(s, isInpaint: true, models, StepName.Detail);
        var skip = s.Number("skip_if_face_above", 0.04, 0, 1);
        var padding = s.Number("padding", 0.6, 0, 4);
        var size = s.Integer("size", null, 256, 2048, optional: true);
        if (size is { } v && v % 8 != 0)
        {
            s.Report("size", $"{v} is not a multiple of 8 (Stable Diffusion works in 8-pixel latent blocks)");
        }

        var feather = s.Number("feather", 0.1, 0, 0.5);
        return new DetailSettings(generation, skip ?? 0.04, padding ?? 0.6, size, feather ?? 0.1);
    }

    private static RestoreSettings MapRestore(Section s)
    {
        var model = s.Enum<FaceRestorerKind>("model", FaceRestorerKind.CodeFormer);
        var visibility = s.Number("visibility", 1.0, 0, 1);
        if (visibility == 0)
        {
            s.Report("visibility", "0 turns the restorer off on the box; use a value above 0 (1 = full), or remove the restore section");
        }

        var weight = s.Number("codeformer_weight", 0.5, 0, 1);
        if (model == FaceRestorerKind.Gfpgan && s.Has("codeformer_weight"))
        {
            s.Report("codeformer_weight", "only CodeFormer has a fidelity weight; remove it or set model: codeformer");
        }

        var strength = s.Number("strength", 0.8, 0, 1);
        var padding = s.Number("padding", 0.5, 0, 4);
        var sharpness = s.Number("skip_if_sharpness_above", null, 0, 100, optional: true);
        return new RestoreSettings(model ?? FaceRestorerKind.CodeFormer, visibility ?? 1, weight ?? 0.5, strength ?? 0.8, padding ?? 0.5, sharpness);
    }

    private static UpscaleSettings MapUpscale(Section s)
    {
        var upscaler = s.String("upscaler", required: true);
        if (upscaler is "None")
        {
            s.Report("upscaler", "None runs no upscaler; name one of the box's upscalers (GET /sdapi/v1/upscalers), such as R-ESRGAN 4x+");
        }

        var longSide = s.Integer("long_side", null, 256, 8192);
        return new UpscaleSettings(upscaler ?? string.Empty, longSide ?? 0);
    }

    private static FinishSettings MapFinish(Section s)
    {
        var spec = s.String("spec", required: true);
        if (spec is not null && !IdSpecNames.All.Contains(spec, StringComparer.Ordinal))
        {
            var closest = Similarity.Closest(spec, IdSpecNames.All);
            var hint = closest is not null && Similarity.Distance(spec, closest) <= 4 ? $" (did you mean '{closest}'?)" : string.Empty;
            s.Report("spec", $"'{spec}' is not an ID-photo spec{hint}; the specs are {string.Join(", ", IdSpecNames.All)} (recipes/id-specs/)");
        }

        var background = s.String("background", required: false) ?? "white";
        if (!IdSpecNames.IsBackground(background))
        {
            s.Report("background", $"'{background}' is not a background: use keep, a colour ({string.Join(", ", IdSpecNames.Colours)}), #RRGGBB, or gradient:TOP:BOTTOM");
        }
        else if (spec is not null && IdSpecNames.ForbiddenColour(spec, background) is { } forbidden)
        {
            s.Report("background", $"{spec} does not allow a {forbidden}; {spec} allows {string.Join(", ", IdSpecNames.Backgrounds(spec))}");
        }

        var dpi = s.Integer("dpi", 300, 1, 10000);
        if (dpi is not (null or 300 or 254 or 350))
        {
            s.Report("dpi", $"{dpi} is not one of 300, 254, 350");
        }

        var kb = s.Integer("kb", null, 1, 100_000, optional: true);
        var sheet = s.Enum<FinishSheet>("sheet", FinishSheet.None);
        var format = s.Has("format") ? s.Enum<FinishFormat>("format", null) : null;
        return new FinishSettings(spec ?? string.Empty, background, dpi ?? 300, kb, sheet ?? FinishSheet.None, format);
    }

    private static FaceSwapSettings MapFaceSwap(Section s)
    {
        var detector = s.Enum<FaceSwapDetector>("detector", FaceSwapDetector.Scrfd);
        var sourceIndex = FaceIndex(s, "source_face_index");
        var targetIndex = FaceIndex(s, "target_face_index");
        var colourCorrection = s.Boolean("colour_correction", false);
        return new FaceSwapSettings(detector ?? FaceSwapDetector.Scrfd, sourceIndex, targetIndex, colourCorrection ?? false);
    }

    private static int? FaceIndex(Section s, string key) =>
        s.Integer(key, null, 0, int.MaxValue, "{value} is below 0: a face index counts from 0 (null = the largest face)", optional: true);

    private static InterrogateSettings MapInterrogate(Section s)
    {
        var model = s.String("model", required: false);
        var threshold = s.Number("threshold", null, 0, 1);
        var exclude = s.StringList("exclude");
        var include = s.StringList("include");
        var maxTags = s.Integer("max_tags", RecipeDefaults.MaxTags, 1, 500);
        var dropRatings = s.Boolean("drop_ratings", true);
        return new InterrogateSettings(model, threshold ?? 0, exclude ?? [], include ?? [], maxTags ?? 0, dropRatings ?? true);
    }

    private static PromptSettings MapPrompt(Section s)
    {
        var loraWeight = s.Number("lora_weight", null, 0, 2);
        var faceWords = s.StringList("face_words");
        var positive = s.String("positive", required: false, TextKind.Text);
        var negative = s.String("negative", required: false, TextKind.Text);
        return new PromptSettings(loraWeight ?? 0, faceWords ?? [], positive ?? string.Empty, negative ?? string.Empty);
    }

    private static MaskSettings MapMask(Section s)
    {
        var kind = s.Enum<MaskKind>("kind", null);
        var source = s.Enum<MaskSource>("source", MaskSource.Detector);
        var grow = s.Number("grow", 0.15, 0, 2);
        var feather = s.Number("feather", 0.08, 0, 1);
        var neckLength = s.Number("neck_length", 1.0, 0, 3);
        var file = s.String("file", required: false, TextKind.Path);
        if (source == MaskSource.File && string.IsNullOrWhiteSpace(file))
        {
            s.Report("source", "source file needs mask.file (the path of a mask image, white = repaint)");
        }
        else if (source is { } other && other != MaskSource.File && file is not null)
        {
            s.Report("file", $"only used with source: file (source is {EnumWords.Of(other)}); remove it or set source: file");
        }

        return new MaskSettings(kind ?? MaskKind.Face, source ?? MaskSource.Detector, grow ?? 0, feather ?? 0, neckLength ?? 0, file);
    }

    private static GenerationSettings MapGeneration(Section s, bool isInpaint, List<(Section Section, string Key, string? Model)> models, string? step = null)
    {
        var sampler = s.String("sampler", required: true);
        var scheduler = s.String("scheduler", required: false);
        var steps = s.Integer("steps", null, 1, 150);
        var cfg = s.Number("cfg_scale", null, 1, 30);
        var denoising = s.Number("denoising_strength", null, 0, 1);
        var width = Size(s, "width");
        var height = Size(s, "height");
        var settings = new GenerationSettings
        {
            Sampler = sampler ?? string.Empty,
            Scheduler = scheduler,
            Steps = steps ?? 0,
            CfgScale = cfg ?? 0,
            DenoisingStrength = denoising ?? 0,
            Width = width,
            Height = height,
        };

        if (isInpaint)
        {
            var maskBlur = s.Integer(
                "mask_blur",
                RecipeDefaults.InpaintMaskBlur,
                RecipeDefaults.MinInpaintMaskBlur,
                64,
                $"{{value}} is below {RecipeDefaults.MinInpaintMaskBlur}: the inpaint mask blur must be at least {RecipeDefaults.MinInpaintMaskBlur} or the pasted face shows a seam");
            settings = settings with
            {
                MaskBlur = maskBlur ?? RecipeDefaults.InpaintMaskBlur,
                InpaintingFill = s.Enum<InpaintingFillKind>("inpainting_fill", InpaintingFillKind.Original) ?? InpaintingFillKind.Original,
                InpaintArea = s.Enum<InpaintArea>("inpaint_area", InpaintArea.WholePicture) ?? InpaintArea.WholePicture,
                InpaintPadding = s.Integer("inpaint_padding", RecipeDefaults.InpaintPadding, 0, 256) ?? RecipeDefaults.InpaintPadding,
            };
        }
        else
        {
            settings = settings with { SkipIfDeltaEBelow = s.Number("skip_if_delta_e_below", null, 0, 100, optional: true) };
        }

        var units = s.Child("controlnet", null, required: false) is { } map
            ? MapUnits(map, isInpaint && step is null ? UnitImageSource.Template : UnitImageSource.Previous, models)
            : [];
        return settings with { ControlNet = units };
    }

    private static int? Size(Section s, string key)
    {
        var value = s.Integer(key, null, 64, 4096, optional: true);
        if (value is { } v && v % 8 != 0)
        {
            s.Report(key, $"{v} is not a multiple of 8 (Stable Diffusion works in 8-pixel latent blocks)");
        }

        return value;
    }

    private static List<ControlNetUnitSettings> MapUnits(Section map, UnitImageSource defaultImage, List<(Section Section, string Key, string? Model)> models)
    {
        var units = new List<ControlNetUnitSettings>();
        foreach (var (key, keyNode, value) in map.Entries)
        {
            if (!UnitKey().IsMatch(key))
            {
                map.Diagnostics.Report(keyNode, map.Join(key), "unit names are lower-case words (a-z, 0-9, _), such as softedge or reference");
                continue;
            }

            if (map.Child(key, RecipeSchema.Unit, required: true) is { } unit && MapUnit(unit, key, defaultImage, models) is { } settings)
            {
                units.Add(settings);
            }
        }

        var enabled = units.Count(u => u.Enabled);
        if (enabled > RecipeDefaults.MaxEnabledControlNetUnits)
        {
            map.Diagnostics.Report(
                map.Anchor,
                map.Path,
                $"{enabled} enabled ControlNet units; at most {RecipeDefaults.MaxEnabledControlNetUnits} per step, the WebUI's default control_net_unit_count (set enabled: false on the others)");
        }

        return units;
    }

    private static ControlNetUnitSettings? MapUnit(Section s, string key, UnitImageSource defaultImage, List<(Section Section, string Key, string? Model)> models)
    {
        var enabled = s.Boolean("enabled", true);
        var module = s.String("module", required: true);
        var model = s.String("model", required: false);
        if (module is not null)
        {
            if (RecipeDefaults.IsModelFreeModule(module))
            {
                if (model is null)
                {
                    model = "None";
                }
                else if (!string.Equals(model, "None", StringComparison.Ordinal))
                {
                    s.Report("model", $"module {module} takes no model; the model must be None");
                }
            }
            else if (model is null || string.Equals(model, "None", StringComparison.OrdinalIgnoreCase))
            {
                s.Report("model", $"module {module} needs a model (such as control_v11p_sd15_softedge); only reference_* modules run with None");
            }
        }

        models.Add((s, "model", model));
        var weight = s.Number("weight", null, 0, 2);
        var guidanceStart = s.Number("guidance_start", 0, 0, 1);
        var guidanceEnd = s.Number("guidance_end", 1, 0, 1);
        if (guidanceStart is { } gs && guidanceEnd is { } ge && gs > ge)
        {
            s.Report(s.Has("guidance_start") ? "guidance_start" : "guidance_end", $"guidance_start {gs} is after guidance_end {ge}; need 0 <= guidance_start <= guidance_end <= 1");
        }

        var controlMode = s.Enum<ControlModeKind>("control_mode", ControlModeKind.Balanced);
        var resizeMode = s.Enum<ResizeModeKind>("resize_mode", ResizeModeKind.CropAndResize);
        var processorRes = s.Integer("processor_res", -1, -1, 4096);
        if (processorRes is > -1 and < 64)
        {
            s.Report("processor_res", $"{processorRes} is neither -1 (the module's default) nor in 64..4096");
        }

        var thresholdA = s.Number("threshold_a", -1, -1, 1024);
        var thresholdB = s.Number("threshold_b", -1, -1, 1024);
        var pixelPerfect = s.Boolean("pixel_perfect", false);
        var image = s.Enum<UnitImageSource>("image", defaultImage);
        return new ControlNetUnitSettings(
            key,
            enabled ?? true,
            module ?? string.Empty,
            model ?? string.Empty,
            weight ?? 0,
            guidanceStart ?? 0,
            guidanceEnd ?? 1,
            controlMode ?? ControlModeKind.Balanced,
            resizeMode ?? ResizeModeKind.CropAndResize,
            processorRes ?? -1,
            thresholdA ?? -1,
            thresholdB ?? -1,
            pixelPerfect ?? false,
            image ?? defaultImage);
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex UnitKey();
}
