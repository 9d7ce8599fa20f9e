using System.Globalization;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

/// <summary>
/// ControlNet units in a generation's <c>alwayson_scripts.controlnet.args</c>: pydantic units on ControlNet ≥1.1.448
/// (webui-1.10), dataclass units before (webui-1.8), Forge's and reForge's own (<see cref="ForgeUnits"/>), then the
/// run-time checks per enabled unit.
/// </summary>
internal static class ControlNetUnits
{
    private static readonly string[] ResizeModes = ["Just Resize", "Crop and Resize", "Resize and Fill"];
    private static readonly string[] HiresOptions = ["Both", "Low res only", "High res only"];
    private static readonly string[] ControlModes = ["Balanced", "My prompt is more important", "ControlNet is more important"];
    private static readonly string[] PulidModes = ["Fidelity", "Extremely style"];

    // Legacy resize-mode labels still accepted (sd-webui-controlnet v1.1.455 internal_controlnet/args.py:101-112,
    // check_resize_mode).
    private static readonly Dictionary<string, string> ResizeAliases = new(StringComparer.Ordinal)
    {
        ["Inner Fit (Scale to Fit)"] = "Crop and Resize",
        ["Scale to Fit (Inner Fit)"] = "Crop and Resize",
        ["Outer Fit (Shrink to Fit)"] = "Resize and Fill",
        ["Envelope (Outer Fit)"] = "Resize and Fill",
    };

    /// <summary>
    /// Parses alwayson_scripts.controlnet.args; only the first control_net_unit_count slots of <paramref name="box"/> are used
    /// (A1111 api.py:335-361).
    /// </summary>
    public static List<ControlUnit> Parse(JsonArray args, UnitDialect dialect, bool img2img, ControlNetBox? box = null)
    {
        box ??= ControlNetBox.Default;
        var units = new List<ControlUnit>();
        foreach (var node in args.Take(box.UnitCount))
        {
            if (node is not JsonObject unit)
            {
                continue;
            }

            var parsed = dialect switch
            {
                UnitDialect.Pydantic => ParseUnit110(unit, box),
                UnitDialect.Dataclass => ParseUnit18(unit, box),
                _ => ForgeUnits.Parse(unit, dialect, img2img),
            };
            if (parsed is not null)
            {
                units.Add(parsed);
            }
        }

        return units;
    }

    /// <summary>CN ≥1.1.448 pydantic ControlNetUnit (CN internal_controlnet/args.py:53-237): errors → HTTP 500 ValidationError.</summary>
    private static ControlUnit? ParseUnit110(JsonObject unit, ControlNetBox box)
    {
        var issues = new List<ValidationIssue>();
        T Field<T>(string name, FieldKind kind, T fallback, Func<JsonNode, T> read)
        {
            if (!unit.TryGetPropertyValue(name, out var raw) || raw is null)
            {
                return fallback;
            }

            var coerced = PydanticFields.Coerce(raw, kind, [name], issues);
            return coerced is null ? fallback : read(coerced);
        }

        var enabled = Field("enabled", FieldKind.Bool, false, n => n.GetValue<bool>()); // default false since 1.1.448
        var moduleName = Field("module", FieldKind.Str, "none", n => n.GetValue<string>());
        var module = ControlNetCatalog.For(ProfileData.Folder(MockWebUiProfile.WebUi110), box.HasEvaClip).FindModule(moduleName);
        if (module is null)
        {
            issues.Add(new ValidationIssue(["module"], $"module({moduleName}) not found in supported modules.", "value_error"));
        }

        var model = Field("model", FieldKind.Str, "None", n => n.GetValue<string>());
        var weight = Field("weight", FieldKind.Float, 1.0, n => n.GetValue<double>());
        if (weight < 0)
        {
            issues.Add(new ValidationIssue(["weight"], "ensure this value is greater than or equal to 0.0", "value_error.number.not_ge; limit_value=0.0"));
        }
        else if (weight > 2)
        {
            issues.Add(new ValidationIssue(["weight"], "ensure this value is less than or equal to 2.0", "value_error.number.not_le; limit_value=2.0"));
        }

        var resizeMode = "Crop and Resize";
        if (unit.TryGetPropertyValue("resize_mode", out var rm) && rm is not null)
        {
            var text = rm is JsonValue rv && rv.TryGetValue(out string? s) ? s : null;
            if (text is not null && ResizeAliases.TryGetValue(text, out var alias))
            {
                text = alias;
            }

            if (text is null || !ResizeModes.Contains(text, StringComparer.Ordinal))
            {
                // integers are rejected by an isinstance assertion (CN args.py:101-112; real message is empty)
                issues.Add(new ValidationIssue(["resize_mode"], "", "assertion_error"));
            }
            else
            {
                resizeMode = text;
            }
        }

        var controlMode = "Balanced";
        if (unit.TryGetPropertyValue("control_mode", out var cm) && cm is not null)
        {
            var text = cm is JsonValue cv && cv.TryGetValue(out string? s) ? s : null;
            if (text is null || !ControlModes.Contains(text, StringComparer.Ordinal))
            {
                issues.Add(new ValidationIssue(["control_mode"],
                    "value is not a valid enumeration member; permitted: 'Balanced', 'My prompt is more important', 'ControlNet is more important'",
                    "type_error.enum; enum_values=[<ControlMode.BALANCED: 'Balanced'>, <ControlMode.PROMPT: 'My prompt is more important'>, <ControlMode.CONTROL: 'ControlNet is more important'>]"));
            }
            else
            {
                controlMode = text;
            }
        }

        // hr_option: HiResFixOption = "Both" | "Low res only" | "High res only" (CN args.py:169; enums.py:225-228)
        if (unit.TryGetPropertyValue("hr_option", out var hr) && hr is not null
            && !(hr is JsonValue hv && hv.TryGetValue(out string? hs) && HiresOptions.Contains(hs, StringComparer.Ordinal)))
        {
            issues.Add(new ValidationIssue(["hr_option"],
                "value is not a valid enumeration member; permitted: 'Both', 'Low res only', 'High res only'", "type_error.enum"));
        }

        var start = Field("guidance_start", FieldKind.Float, 0.0, n => n.GetValue<double>());
        var end = Field("guidance_end", FieldKind.Float, Field("guidance", FieldKind.Float, 1.0, n => n.GetValue<double>()), n => n.GetValue<double>());
        foreach (var (name, value) in new[] { ("guidance_start", start), ("guidance_end", end) })
        {
            if (value is < 0 or > 1)
            {
                issues.Add(new ValidationIssue([name], value < 0 ? "ensure this value is greater than or equal to 0.0" : "ensure this value is less than or equal to 1.0",
                    value < 0 ? "value_error.number.not_ge; limit_value=0.0" : "value_error.number.not_le; limit_value=1.0"));
            }
        }

        if (start > end)
        {
            // wording approximated; the real check is a pydantic validator on the unit
            issues.Add(new ValidationIssue(["__root__"], $"guidance_start ({start.ToString(CultureInfo.InvariantCulture)}) must be <= guidance_end ({end.ToString(CultureInfo.InvariantCulture)})", "value_error"));
        }

        // pulid_mode: PuLIDMode = "Fidelity" | "Extremely style" (CN args.py; enums.py:242-244)
        var pulidMode = "Fidelity";
        if (unit.TryGetPropertyValue("pulid_mode", out var pm) && pm is not null)
        {
            if (pm is JsonValue pv && pv.TryGetValue(out string? ps) && PulidModes.Contains(ps, StringComparer.Ordinal))
            {
                pulidMode = ps;
            }
            else
            {
                issues.Add(new ValidationIssue(["pulid_mode"], "value is not a valid enumeration member; permitted: 'Fidelity', 'Extremely style'", "type_error.enum"));
            }
        }

        var crop = Field("inpaint_crop_input_image", FieldKind.Bool, true, n => n.GetValue<bool>()); // default True (args.py)
        var processorRes = Field("processor_res", FieldKind.Int, -1L, n => n.GetValue<long>());
        var thresholdA = Field("threshold_a", FieldKind.Float, -1.0, n => n.GetValue<double>());
        var thresholdB = Field("threshold_b", FieldKind.Float, -1.0, n => n.GetValue<double>());
        var pixelPerfect = Field("pixel_perfect", FieldKind.Bool, false, n => n.GetValue<bool>());
        var save = Field("save_detected_map", FieldKind.Bool, true, n => n.GetValue<bool>());
        if (unit.ContainsKey("mask") && unit.ContainsKey("mask_image"))
        {
            issues.Add(new ValidationIssue(["__root__"], "Cannot specify both 'mask' and 'mask_image'", "value_error"));
        }

        if (issues.Count > 0)
        {
            throw MockRouteException.PydanticValidation("ControlNetUnit", issues);
        }

        if (!enabled)
        {
            return null;
        }

        var (image, mask) = UnitImage(unit);
        return new ControlUnit(module!, model, weight, resizeMode, controlMode, processorRes, thresholdA, thresholdB, start, end, pixelPerfect, save, image, mask)
        {
            InpaintCropInputImage = crop,
            PulidMode = pulidMode,
            Images = UnitImages(unit, singleAsOne: true),
            MalformedImage = MalformedImageList(unit),
        };
    }

    /// <summary>CN ≤1.1.447 dataclass unit: enabled defaults true, ints accepted for resize_mode/control_mode (v1.1.447 external_code.py:160-229).</summary>
    private static ControlUnit? ParseUnit18(JsonObject unit, ControlNetBox box)
    {
        var f = PydanticFields.Parse(unit,
        [
            new("enabled", FieldKind.Any, true), new("module", FieldKind.Any, "none"), new("model", FieldKind.Any, "None"), new("weight", FieldKind.Any, 1.0),
            new("processor_res", FieldKind.Any, -1), new("threshold_a", FieldKind.Any, -1), new("threshold_b", FieldKind.Any, -1),
            new("guidance_start", FieldKind.Any, 0.0), new("guidance_end", FieldKind.Any, 1.0), new("pixel_perfect", FieldKind.Any, false),
            new("save_detected_map", FieldKind.Any, true), new("inpaint_crop_input_image", FieldKind.Any, true), new("pulid_mode", FieldKind.Any, "Fidelity"),
        ], []);
        if (!f.GetBool("enabled", true))
        {
            return null;
        }

        string ModeText(string key, string[] names, string fallback)
        {
            if (!unit.TryGetPropertyValue(key, out var n) || n is null)
            {
                return fallback;
            }

            if (PydanticFields.TryInt(n, out var i) && n.GetValueKind() == System.Text.Json.JsonValueKind.Number)
            {
                return names[Math.Clamp((int)i, 0, names.Length - 1)];
            }

            var s = n.GetValueKind() == System.Text.Json.JsonValueKind.String ? n.GetValue<string>() : fallback;
            return ResizeAliases.GetValueOrDefault(s, s);
        }

        var modules = ControlNetCatalog.For(ProfileData.Folder(MockWebUiProfile.WebUi18), box.HasEvaClip);
        var module = modules.FindModule(f.GetStr("module")) ?? modules.Modules[0];
        var (image, mask) = UnitImage(unit);
        return new ControlUnit(module, f.GetStr("model") ?? "None", f.GetFloat("weight", 1.0), ModeText("resize_mode", ResizeModes, "Crop and Resize"),
            ModeText("control_mode", ControlModes, "Balanced"), f.GetInt("processor_res", -1), f.GetFloat("threshold_a", -1), f.GetFloat("threshold_b", -1),
            f.GetFloat("guidance_start", 0), f.GetFloat("guidance_end", 1), f.GetBool("pixel_perfect", false), f.GetBool("save_detected_map", true), image, mask)
        {
            InpaintCropInputImage = f.GetBool("inpaint_crop_input_image", true),
            PulidMode = f.GetStr("pulid_mode") ?? "Fidelity", // checked at run time: PuLIDMode(unit.pulid_mode) (controlnet.py:1212 at 3d75bd08)
            // ≤1.1.447 parse_unit_image: any list of {"image"} dicts is the several-images path, one entry too (controlnet.py:697-710)
            Images = UnitImages(unit, singleAsOne: false),
        };
    }

    /// <summary>
    /// The images of an <c>image</c> list of {"image": …} dicts (several reference photos), else null. ≥1.1.448 reads a list of one
    /// as a single image (controlnet.py:706-707 at 56cec5b), so <paramref name="singleAsOne"/> leaves it null there.
    /// </summary>
    private static List<string>? UnitImages(JsonObject unit, bool singleAsOne)
    {
        if ((unit["image"] ?? unit["input_image"]) is not JsonArray { Count: > 0 } list || list[0] is not JsonObject || (singleAsOne && list.Count == 1))
        {
            return null;
        }

        return [.. list.Select(n => n is JsonObject o && o["image"] is JsonValue v && v.TryGetValue(out string? s) ? s : "")];
    }

    /// <summary>A list of plain strings must be exactly [image, mask]: any other length fails <c>assert len(init_image) == 2</c> (args.py:382).</summary>
    private static bool MalformedImageList(JsonObject unit) =>
        (unit["image"] ?? unit["input_image"]) is JsonArray { Count: > 0 } list && list[0] is not JsonObject && list.Count != 2;

    /// <summary>image: str | {image, mask} | [image, mask] | [{image, mask}, …]; legacy alias input_image (CN args.py:281-418).</summary>
    private static (string? Image, string? Mask) UnitImage(JsonObject unit)
    {
        static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        var node = unit["image"] ?? unit["input_image"];
        var mask = Str(unit["mask"]) ?? Str(unit["mask_image"]);
        switch (node)
        {
            case JsonValue:
                return (Str(node), mask);
            case JsonObject o:
                return (Str(o["image"]), Str(o["mask"]) ?? mask);
            case JsonArray { Count: > 0 } a when a[0] is JsonObject first:
                return (Str(first["image"]), Str(first["mask"]) ?? mask);
            case JsonArray { Count: 2 } a:
                return (Str(a[0]), Str(a[1]));
            default:
                return (null, mask);
        }
    }

    /// <summary>
    /// Run-time checks per enabled unit, in controlnet_main_entry's order (CN controlnet.py:897-945 at 56cec5b): the SD-version
    /// check, the model lookup (:76-89, 444-468), the input image (:663-745) with the identity units' rules
    /// (<see cref="IdentityUnits"/>), then InstantID's order. A <see cref="ControlNetScriptException"/> is what the real box
    /// only logs; the other failures keep the mock's 500 answers.
    /// </summary>
    public static List<ResolvedControl> Resolve(IEnumerable<ControlUnit> units, ControlNetRun run, List<IDisposable> disposables)
    {
        var result = new List<ResolvedControl>();
        foreach (var unit in units)
        {
            if (unit.Forge is { } forge)
            {
                result.Add(ResolveForge(unit, forge, run.InitImage, disposables));
                continue;
            }

            IdentityUnits.CheckSdVersion(unit, run.Checkpoint);
            var model = "None";
            if (!unit.Module.ModelFree)
            {
                if (string.IsNullOrEmpty(unit.Model) || unit.Model == "None")
                {
                    throw MockRouteException.Internal("RuntimeError", "You have not selected any ControlNet Model.");
                }

                model = ControlNetCatalog.ResolveModel(unit.Model) ?? throw MockRouteException.Internal("RuntimeError", $"model not found: {unit.Model}");
            }

            if (IdentityUnits.Inputs(unit, model, run, disposables) is { } identity)
            {
                result.Add(identity);
                continue;
            }

            Image<Rgba32> input;
            if (unit.Image is { Length: > 0 } b64)
            {
                input = ImageCodec.Decode(b64);
                disposables.Add(input);
            }
            else if (run.InitImage is not null)
            {
                input = run.InitImage; // img2img init_images[0] is the fallback input
            }
            else
            {
                throw MockRouteException.Internal("ValueError", "controlnet is enabled but no input image is given");
            }

            result.Add(new ResolvedControl(unit, model, input));
        }

        IdentityUnits.CheckOrder(result, run.Dialect);
        return result;
    }

    /// <summary>
    /// A Forge/reForge unit: its failure if process() meets one, else its image (or the img2img init image) and its mask
    /// (forge@dfdcbab:extensions-builtin/sd_forge_controlnet/scripts/controlnet.py:195-239).
    /// </summary>
    private static ResolvedControl ResolveForge(ControlUnit unit, ForgeRun forge, Image<Rgba32>? initImage, List<IDisposable> disposables)
    {
        if (forge.Failure is not null)
        {
            throw forge.Failure;
        }

        var input = initImage!; // no unit image is a failure on txt2img (ForgeUnits)
        if (unit.Image is { Length: > 0 } b64)
        {
            input = ImageCodec.Decode(b64);
            disposables.Add(input);
        }

        Image<Rgba32>? mask = null;
        if (unit.Mask is { Length: > 0 } maskText)
        {
            mask = ImageCodec.Decode(maskText);
            disposables.Add(mask);
        }

        return new ResolvedControl(unit, unit.Model, input, mask);
    }
}

/// <summary>One enabled ControlNet unit of a generation request, as parsed.</summary>
internal sealed record ControlUnit(
    CnModule Module,
    string Model,
    double Weight,
    string ResizeMode,
    string ControlMode,
    long ProcessorRes,
    double ThresholdA,
    double ThresholdB,
    double GuidanceStart,
    double GuidanceEnd,
    bool PixelPerfect,
    bool SaveDetectedMap,
    string? Image,
    string? Mask,
    ForgeRun? Forge = null)
{
    /// <summary>inpaint_crop_input_image (default true): crop the input to the img2img mask's box when "only masked".</summary>
    public bool InpaintCropInputImage { get; init; } = true;

    /// <summary>pulid_mode, "Fidelity" or "Extremely style".</summary>
    public string PulidMode { get; init; } = "Fidelity";

    /// <summary>Several input images (<c>image: [{"image": …}, …]</c>); null for one image.</summary>
    public IReadOnlyList<string>? Images { get; init; }

    /// <summary><c>image</c> is a list of plain strings that is not [image, mask].</summary>
    public bool MalformedImage { get; init; }
}

/// <summary>
/// A unit with its model resolved and its input image decoded (or the img2img init image); Forge units keep their mask.
/// <see cref="Inputs"/> holds every input image when there are several (identity references), else just <paramref name="Input"/>.
/// </summary>
internal sealed record ResolvedControl(ControlUnit Unit, string Model, Image<Rgba32> Input, Image<Rgba32>? Mask = null)
{
    /// <summary>Every input image the preprocessor ran on (the first is <see cref="Input"/>).</summary>
    public IReadOnlyList<Image<Rgba32>> Inputs { get; init; } = [Input];
}
