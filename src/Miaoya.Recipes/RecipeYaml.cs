using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Miaoya.Recipes.Parsing;

namespace Miaoya.Recipes;

/// <summary>Writes a recipe back as YAML, every field explicit; <c>RecipeLoader.Parse(Write(r), r.SourcePath)</c> equals <c>r</c>.</summary>
public static partial class RecipeYaml
{
    /// <summary>The word a recipe file uses for <paramref name="value"/> (e.g. <c>faceid_plus</c>, <c>sdxl</c>).</summary>
    public static string Word<T>(T value)
        where T : struct, Enum => EnumWords.Of(value);

    /// <summary>The recipe as YAML in the schema of <c>recipes/README.md</c>.</summary>
    public static string Write(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var w = new StringBuilder();
        Line(w, 0, "name", Text(recipe.Name));
        if (recipe.Description is not null)
        {
            Line(w, 0, "description", Text(recipe.Description));
        }

        Line(w, 0, "pipeline", EnumWords.Of(recipe.Pipeline));
        Line(w, 0, "base_model", Text(recipe.BaseModel));
        Line(w, 0, "model_family", EnumWords.Of(recipe.ModelFamily));

        var i = recipe.Interrogate;
        Line(w, 0, "interrogate", null);
        Line(w, 1, "model", Nullable(i.Model));
        Line(w, 1, "threshold", Number(i.Threshold));
        Line(w, 1, "exclude", List(i.Exclude));
        Line(w, 1, "include", List(i.Include));
        Line(w, 1, "max_tags", Number(i.MaxTags));
        Line(w, 1, "drop_ratings", Bool(i.DropRatings));

        var p = recipe.Prompt;
        Line(w, 0, "prompt", null);
        Line(w, 1, "lora_weight", Number(p.LoraWeight));
        Line(w, 1, "face_words", List(p.FaceWords));
        Line(w, 1, "positive", Text(p.Positive));
        Line(w, 1, "negative", Text(p.Negative));

        if (recipe.FaceSwap is { } f)
        {
            Line(w, 0, StepName.FaceSwap, null);
            Line(w, 1, "detector", EnumWords.Of(f.Detector));
            Line(w, 1, "source_face_index", f.SourceFaceIndex is { } source ? Number(source) : "null");
            Line(w, 1, "target_face_index", f.TargetFaceIndex is { } target ? Number(target) : "null");
            Line(w, 1, "colour_correction", Bool(f.ColourCorrection));
        }

        if (recipe.Mask is { } m)
        {
            Line(w, 0, "mask", null);
            Line(w, 1, "kind", EnumWords.Of(m.Kind));
            Line(w, 1, "source", EnumWords.Of(m.Source));
            Line(w, 1, "grow", Number(m.Grow));
            Line(w, 1, "feather", Number(m.Feather));
            Line(w, 1, "neck_length", Number(m.NeckLength));
            if (m.File is not null)
            {
                Line(w, 1, "file", Text(m.File));
            }
        }

        if (recipe.Inpaint is { } inpaint)
        {
            Generation(w, StepName.Inpaint, inpaint, isInpaint: true);
        }

        if (recipe.Img2Img is { } img2img)
        {
            Generation(w, StepName.Img2Img, img2img, isInpaint: false);
        }

        if (recipe.Identity is { } identity)
        {
            Identity(w, identity);
        }

        if (recipe.Candidates is { } c)
        {
            Line(w, 0, "candidates", null);
            Line(w, 1, "count", Number(c.Count));
            Line(w, 1, "scorer", EnumWords.Of(c.Scorer));
            Line(w, 1, "min_similarity", Number(c.MinSimilarity));
            Line(w, 1, "min_ratio", Number(c.MinRatio));
        }

        if (recipe.Detail is { } detail)
        {
            Generation(w, StepName.Detail, detail.Generation, isInpaint: true, detail);
        }

        if (recipe.Restore is { } restore)
        {
            Line(w, 0, StepName.Restore, null);
            Line(w, 1, "model", EnumWords.Of(restore.Model));
            Line(w, 1, "visibility", Number(restore.Visibility));
            if (restore.Model == FaceRestorerKind.CodeFormer)
            {
                Line(w, 1, "codeformer_weight", Number(restore.CodeFormerWeight));
            }

            Line(w, 1, "strength", Number(restore.Strength));
            Line(w, 1, "padding", Number(restore.Padding));
            Line(w, 1, "skip_if_sharpness_above", restore.SkipIfSharpnessAbove is { } sharp ? Number(sharp) : "null");
        }

        if (recipe.Upscale is { } upscale)
        {
            Line(w, 0, StepName.Upscale, null);
            Line(w, 1, "upscaler", Text(upscale.Upscaler));
            Line(w, 1, "long_side", Number(upscale.LongSide));
        }

        if (recipe.Finish is { } finish)
        {
            Line(w, 0, StepName.Finish, null);
            Line(w, 1, "spec", Text(finish.Spec));
            Line(w, 1, "background", Text(finish.Background));
            Line(w, 1, "dpi", Number(finish.Dpi));
            Line(w, 1, "kb", finish.Kb is { } kb ? Number(kb) : "null");
            Line(w, 1, "sheet", EnumWords.Of(finish.Sheet));
            if (finish.Format is { } format)
            {
                Line(w, 1, "format", EnumWords.Of(format));
            }
        }

        return w.ToString();
    }

    private static void Identity(StringBuilder w, IdentitySettings d)
    {
        Line(w, 0, StepName.Identity, null);
        Line(w, 1, "method", EnumWords.Of(d.Method));
        Line(w, 1, "steps", List(d.Steps));
        Line(w, 1, "module", Text(d.Module));
        Line(w, 1, "model", Text(d.Model));
        Line(w, 1, "weight", Number(d.Weight));
        Line(w, 1, "guidance_start", Number(d.GuidanceStart));
        Line(w, 1, "guidance_end", Number(d.GuidanceEnd));
        Line(w, 1, "control_mode", EnumWords.Of(d.ControlMode));
        Line(w, 1, "lora", Nullable(d.Lora));
        Line(w, 1, "lora_weight", Number(d.LoraWeight));
        Line(w, 1, "crop_padding", Number(d.CropPadding));
        Line(w, 1, "crop_size", Number(d.CropSize));
        if (d.PulidMode is { } mode)
        {
            Line(w, 1, "pulid_mode", EnumWords.Of(mode));
        }

        if (d.Keypoints is { } k)
        {
            Line(w, 1, "keypoints", null);
            Line(w, 2, "module", Text(k.Module));
            Line(w, 2, "model", Text(k.Model));
            Line(w, 2, "weight", Number(k.Weight));
            Line(w, 2, "guidance_start", Number(k.GuidanceStart));
            Line(w, 2, "guidance_end", Number(k.GuidanceEnd));
            Line(w, 2, "control_mode", EnumWords.Of(k.ControlMode));
            Line(w, 2, "image", EnumWords.Of(k.Image));
        }
    }

    private static void Generation(StringBuilder w, string key, GenerationSettings g, bool isInpaint, DetailSettings? detail = null)
    {
        Line(w, 0, key, null);
        Line(w, 1, "sampler", Text(g.Sampler));
        Line(w, 1, "scheduler", Nullable(g.Scheduler));
        Line(w, 1, "steps", Number(g.Steps));
        Line(w, 1, "cfg_scale", Number(g.CfgScale));
        Line(w, 1, "denoising_strength", Number(g.DenoisingStrength));
        if (detail is not null)
        {
            Line(w, 1, "mask_blur", Number(g.MaskBlur));
            Line(w, 1, "inpainting_fill", EnumWords.Of(g.InpaintingFill));
            Line(w, 1, "skip_if_face_above", Number(detail.SkipIfFaceAbove));
            Line(w, 1, "padding", Number(detail.Padding));
            Line(w, 1, "size", detail.Size is { } size ? Number(size) : "null");
            Line(w, 1, "feather", Number(detail.Feather));
        }
        else
        {
            Line(w, 1, "width", g.Width is { } width ? Number(width) : "null");
            Line(w, 1, "height", g.Height is { } height ? Number(height) : "null");
        }

        if (isInpaint && detail is null)
        {
            Line(w, 1, "mask_blur", Number(g.MaskBlur));
            Line(w, 1, "inpainting_fill", EnumWords.Of(g.InpaintingFill));
            Line(w, 1, "inpaint_area", EnumWords.Of(g.InpaintArea));
            Line(w, 1, "inpaint_padding", Number(g.InpaintPadding));
        }
        else if (!isInpaint)
        {
            Line(w, 1, "skip_if_delta_e_below", g.SkipIfDeltaEBelow is { } skip ? Number(skip) : "null");
        }

        if (g.ControlNet.Count == 0)
        {
            Line(w, 1, "controlnet", "{}");
            return;
        }

        Line(w, 1, "controlnet", null);
        foreach (var u in g.ControlNet)
        {
            Line(w, 2, u.Key, null);
            Line(w, 3, "enabled", Bool(u.Enabled));
            Line(w, 3, "module", Text(u.Module));
            Line(w, 3, "model", Text(u.Model));
            Line(w, 3, "weight", Number(u.Weight));
            Line(w, 3, "guidance_start", Number(u.GuidanceStart));
            Line(w, 3, "guidance_end", Number(u.GuidanceEnd));
            Line(w, 3, "control_mode", EnumWords.Of(u.ControlMode));
            Line(w, 3, "resize_mode", EnumWords.Of(u.ResizeMode));
            Line(w, 3, "processor_res", Number(u.ProcessorRes));
            Line(w, 3, "threshold_a", Number(u.ThresholdA));
            Line(w, 3, "threshold_b", Number(u.ThresholdB));
            Line(w, 3, "pixel_perfect", Bool(u.PixelPerfect));
            Line(w, 3, "image", EnumWords.Of(u.Image));
        }
    }

    private static void Line(StringBuilder w, int depth, string key, string? value)
    {
        w.Append(' ', depth * 2).Append(key).Append(':');
        if (value is not null)
        {
            w.Append(' ').Append(value);
        }

        w.Append('\n');
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Nullable(string? value) => value is null ? "null" : Text(value);

    private static string List(IReadOnlyList<string> items) => $"[{string.Join(", ", items.Select(Text))}]";

    /// <summary>Plain when YAML reads the text back as the same string; double-quoted otherwise.</summary>
    private static string Text(string value)
    {
        if (PlainSafe().IsMatch(value) && !Reserved.Contains(value))
        {
            return value;
        }

        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\t' => quoted.Append("\\t"),
                '\r' => quoted.Append("\\r"),
                _ when char.IsControl(c) => quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => quoted.Append(c),
            };
        }

        return quoted.Append('"').ToString();
    }

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase) { "null", "true", "false", "yes", "no", "on", "off", "y", "n" };

    // Starts with a letter or underscore; no YAML indicators (: # , [ ] { } & * ! | > ' " % @ `), no trailing blank.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_ .+()/\-]*(?<! )$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainSafe();
}
