using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// Units of Forge's and reForge's built-in ControlNet, read as <c>ControlNetUnit.from_dict</c> and the script's process()
/// read them. Paths are under extensions-builtin/sd_forge_controlnet/ of forge@dfdcbab (Forge) or reforge@3b56b26 (reForge).
/// </summary>
internal static class ForgeUnits
{
    /// <summary>
    /// The fields of Forge's ControlNetUnit dataclass (lib_controlnet/external_code.py:156-182): from_dict keeps the keys
    /// in vars(ControlNetUnit) and drops every other silently (:207-212).
    /// </summary>
    public static readonly string[] ForgeKeys =
    [
        "input_mode", "use_preview_as_input", "batch_image_dir", "batch_mask_dir", "batch_input_gallery", "batch_mask_gallery",
        "generated_image", "mask_image", "mask_image_fg", "hr_option", "enabled", "module", "model", "weight", "image", "image_fg",
        "resize_mode", "processor_res", "threshold_a", "threshold_b", "guidance_start", "guidance_end", "pixel_perfect",
        "control_mode", "save_detected_map",
    ];

    /// <summary>reForge's (lib_controlnet/external_code.py:187-276): no image_fg / mask_image_fg; multi_inputs_gallery,
    /// advanced_weighting and ipa_block_weight added.</summary>
    public static readonly string[] ReForgeKeys =
    [
        "input_mode", "use_preview_as_input", "batch_image_dir", "batch_mask_dir", "batch_input_gallery", "batch_mask_gallery",
        "multi_inputs_gallery", "generated_image", "mask_image", "hr_option", "enabled", "module", "model", "weight", "image",
        "resize_mode", "processor_res", "threshold_a", "threshold_b", "guidance_start", "guidance_end", "pixel_perfect",
        "control_mode", "advanced_weighting", "ipa_block_weight", "save_detected_map",
    ];

    // ResizeMode, ControlMode, HiResFixOption members (external_code.py:15-46; enums.py:4-7). reForge renames the two
    // weighted control modes (reforge@3b56b26 external_code.py:28-29).
    private static readonly (string Member, string Value)[] ResizeModes = [("RESIZE", "Just Resize"), ("INNER_FIT", "Crop and Resize"), ("OUTER_FIT", "Resize and Fill")];
    private static readonly (string Member, string Value)[] ForgeControlModes = [("BALANCED", "Balanced"), ("PROMPT", "My prompt is more important"), ("CONTROL", "ControlNet is more important")];
    private static readonly (string Member, string Value)[] ReForgeControlModes = [("BALANCED", "Balanced"), ("PROMPT", "Prefer Prompt"), ("CONTROL", "Prefer ControlNet")];
    private static readonly (string Member, string Value)[] HrOptions = [("BOTH", "Both"), ("LOW_RES_ONLY", "Low res only"), ("HIGH_RES_ONLY", "High res only")];
    private static readonly string[] InputModes = ["simple", "batch", "merge"];

    // resize_mode_aliases (external_code.py:49-54)
    private static readonly Dictionary<string, string> ResizeAliases = new(StringComparer.Ordinal)
    {
        ["Inner Fit (Scale to Fit)"] = "Crop and Resize",
        ["Outer Fit (Shrink to Fit)"] = "Resize and Fill",
        ["Scale to Fit (Inner Fit)"] = "Crop and Resize",
        ["Envelope (Outer Fit)"] = "Resize and Fill",
    };

    /// <summary>
    /// One unit: null when it is not enabled (truthiness of <c>enabled</c>, default true, external_code.py:168;
    /// scripts/controlnet.py:101-109). reForge's enum conversions fail here, before any unit runs (reforge external_code.py:327-331);
    /// the failures process() meets later are kept in <see cref="ForgeRun.Failure"/>, in its order.
    /// </summary>
    public static ControlUnit? Parse(JsonObject raw, UnitDialect dialect, bool img2img)
    {
        var reforge = dialect == UnitDialect.ReForge;
        var keys = reforge ? ReForgeKeys : ForgeKeys;
        var d = raw.Where(p => keys.Contains(p.Key, StringComparer.Ordinal)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        if (d.TryGetValue("enabled", out var enabledNode) && !PyValues.Truthy(enabledNode))
        {
            return null;
        }

        var moduleName = Str(d, "module") ?? "None";
        var model = Str(d, "model") ?? "None";
        var weight = Number(d, "weight", 1.0);
        var processorRes = Number(d, "processor_res", -1);
        var thresholdA = Number(d, "threshold_a", -1);
        var thresholdB = Number(d, "threshold_b", -1);
        var controlModes = reforge ? ReForgeControlModes : ForgeControlModes;

        string resizeText;
        string controlText;
        string hrText;
        string ranAs;
        string? resizeError = null;
        if (reforge)
        {
            // from_dict converts the three enums (reforge external_code.py:327-331); each Enum prints as Class.MEMBER.
            if (d.TryGetValue("input_mode", out var im) && im is not null && !InputModes.Contains(Str(d, "input_mode") ?? "", StringComparer.Ordinal))
            {
                throw ValueError(im, "InputMode");
            }

            // HiResFixOption.from_value (reforge enums.py:12-21), resize_mode_from_value (external_code.py:74-92),
            // control_mode_from_value (:95-111): a bad text is a ValueError but for ControlMode, which falls back to BALANCED.
            hrText = "HiResFixOption." + EnumMember(d, "hr_option", HrOptions, "BOTH", textFallback: null, intFallback: null, "HiResFixOption");
            resizeText = "ResizeMode." + EnumMember(d, "resize_mode", ResizeModes, "INNER_FIT", textFallback: null, intFallback: "RESIZE", "ResizeMode", ResizeAliases);
            controlText = "ControlMode." + EnumMember(d, "control_mode", controlModes, "BALANCED", textFallback: "BALANCED", intFallback: "BALANCED", null);
            // process_unit_before_every_sampling compares the enum with ControlMode.X.value, a string: never equal, so every
            // unit runs as Balanced (reforge scripts/controlnet.py:515-521, inference).
            ranAs = "Balanced";
        }
        else
        {
            // Forge keeps the raw values (external_code.py:174,181); the infotext prints them as given, the defaults as
            // Class.MEMBER (lib_controlnet/infotext.py:31-42).
            resizeText = d.TryGetValue("resize_mode", out var rm) && rm is not null ? PyValues.PyStr(rm) : "ResizeMode.INNER_FIT";
            controlText = d.TryGetValue("control_mode", out var cm) && cm is not null ? PyValues.PyStr(cm) : "ControlMode.BALANCED";
            hrText = d.TryGetValue("hr_option", out var hr) && hr is not null ? PyValues.PyStr(hr) : "HiResFixOption.BOTH";
            resizeError = ForgeResizeError(d.GetValueOrDefault("resize_mode"));
            // The weighting branch compares unit.control_mode with ControlMode.CONTROL.value / PROMPT.value, strings: an
            // int (or any other text) runs as Balanced (scripts/controlnet.py:491-497, inference).
            var mode = cm is JsonValue cv && cv.TryGetValue(out string? cs) ? cs : null;
            ranAs = mode == ForgeControlModes[2].Value || mode == ForgeControlModes[1].Value ? mode : "Balanced";
        }

        var preprocessor = ForgeControlNetLists.Find(dialect, moduleName);
        var failure = Failure(d, dialect, img2img, preprocessor, processorRes, thresholdA, thresholdB, resizeError, model);
        var (image, mask) = (Str(d, "image"), Str(d, "mask_image")); // only strings are decoded (external_code.py:213-216)
        var run = new ForgeRun(ForgeInfotext.Serialize(d, moduleName, model, resizeText, controlText, hrText), ranAs, failure);
        var module = preprocessor?.ToModule() ?? new CnModule(moduleName, moduleName, false, "None", RequiresMask: false, ReturnsTensor: false, [], []);
        return new ControlUnit(module, model, weight, ResizeLabel(resizeText), ranAs, (long)processorRes, thresholdA, thresholdB,
            Number(d, "guidance_start", 0.0), Number(d, "guidance_end", 1.0), PyValues.Truthy(d.GetValueOrDefault("pixel_perfect")),
            !d.TryGetValue("save_detected_map", out var save) || save is null || PyValues.Truthy(save), image, mask, run);
    }

    /// <summary>The first exception process() raises for this unit, or null (scripts/controlnet.py:546-556).</summary>
    private static MockRouteException? Failure(Dictionary<string, JsonNode?> d, UnitDialect dialect, bool img2img, ForgePreprocessor? preprocessor,
        double processorRes, double thresholdA, double thresholdB, string? resizeError, string model)
    {
        // bound_check_params reads the sliders of get_preprocessor(unit.module), None for a name it lacks (:513-533)
        if (preprocessor is null)
        {
            var slider = processorRes < 0 ? "slider_resolution" : thresholdA < 0 ? "slider_1" : thresholdB < 0 ? "slider_2" : null;
            if (slider is not null)
            {
                return NoneAttribute(slider);
            }
        }

        if (resizeError is not null)
        {
            return MockRouteException.Internal("ValueError", resizeError); // get_input_data (:156)
        }

        d.TryGetValue("image", out var image);
        if (image is null)
        {
            if (!img2img)
            {
                // no unit image: p.resize_mode, which txt2img lacks (:205-207; modules/processing.py:1639 is img2img's)
                return MockRouteException.Internal("AttributeError", "'StableDiffusionProcessingTxt2Img' object has no attribute 'resize_mode'");
            }
        }
        else if (ImageFailure(image, dialect) is { } imageFailure)
        {
            return imageFailure;
        }

        if (preprocessor is null)
        {
            return NoneAttribute("corp_image_with_a1111_mask_when_in_img2img_inpaint_tab"); // try_crop_image_with_a1111_mask (:125-126)
        }

        if (!preprocessor.ModelFree)
        {
            if (model == "None")
            {
                return MockRouteException.Internal("AssertionError", "You have not selected any control model!"); // :411
            }

            if (!ControlNetModels.All.Contains(model, StringComparer.Ordinal))
            {
                // controlnet_filename_dict[name]: exact "name [hash]" only (:412; lib_controlnet/global_state.py:78-79)
                return MockRouteException.Internal("KeyError", "'" + model + "'");
            }
        }

        return null;
    }

    /// <summary>A unit image that is not a base64 string (scripts/controlnet.py:209; reForge :220, its from_dict wraps strings only).</summary>
    private static MockRouteException? ImageFailure(JsonNode image, UnitDialect dialect)
    {
        if (image is JsonValue)
        {
            return null;
        }

        if (dialect == UnitDialect.Forge)
        {
            // (unit_image < 5) on a dict or list, Forge #1059
            return MockRouteException.Internal("TypeError", $"'<' not supported between instances of '{PyValues.PyType(image)}' and 'int'");
        }

        return image switch
        {
            JsonObject o when o["image"] is JsonValue => MockRouteException.Internal("TypeError", "'<' not supported between instances of 'str' and 'int'"),
            JsonObject o when !o.ContainsKey("image") => MockRouteException.Internal("KeyError", "'image'"),
            JsonObject o => MockRouteException.Internal("TypeError", $"'<' not supported between instances of '{PyValues.PyType(o["image"])}' and 'int'"),
            _ => MockRouteException.Internal("TypeError", "list indices must be integers or slices, not str"),
        };
    }

    /// <summary>Forge's resize_mode_from_value at run time (external_code.py:57-71): a bad string is a ValueError, a negative int an AssertionError.</summary>
    private static string? ForgeResizeError(JsonNode? node)
    {
        if (node is not JsonValue v)
        {
            return null;
        }

        if (v.TryGetValue(out string? s))
        {
            var value = ResizeAliases.GetValueOrDefault(s, s);
            return ResizeModes.Any(m => m.Value == value) ? null : $"'{value}' is not a valid ResizeMode";
        }

        return null;
    }

    /// <summary>The enum member a reForge field converts to; a text or int it lacks is an error unless there is a fallback for it.</summary>
    private static string EnumMember(Dictionary<string, JsonNode?> d, string key, (string Member, string Value)[] members, string fallbackDefault,
        string? textFallback, string? intFallback, string? enumName, Dictionary<string, string>? aliases = null)
    {
        if (!d.TryGetValue(key, out var node) || node is null)
        {
            return fallbackDefault;
        }

        if (node is JsonValue v && v.TryGetValue(out string? s))
        {
            if (enumName is not null && s.StartsWith(enumName + ".", StringComparison.Ordinal))
            {
                var field = s[(enumName.Length + 1)..];
                return members.Any(m => m.Member == field) ? field
                    : throw MockRouteException.Internal("AttributeError", $"type object '{enumName}' has no attribute '{field}'");
            }

            var value = aliases?.GetValueOrDefault(s, s) ?? s;
            var found = Array.Find(members, m => m.Value == value);
            if (found.Member is not null)
            {
                return found.Member;
            }

            return textFallback ?? throw ValueError(node, enumName ?? key);
        }

        if (node is JsonValue n && n.GetValueKind() == JsonValueKind.Number && n.TryGetValue(out long i))
        {
            if (i == 3 && members == ResizeModes)
            {
                return "RESIZE"; // 'Just Resize (Latent upscale)' (reforge external_code.py:82-83)
            }

            return i >= 0 && i < members.Length ? members[i].Member : intFallback ?? throw MockRouteException.Internal("IndexError", "list index out of range");
        }

        return fallbackDefault;
    }

    /// <summary>The label the mock's renderer uses for an infotext resize value (raw text or ResizeMode.MEMBER).</summary>
    private static string ResizeLabel(string text)
    {
        var member = text.StartsWith("ResizeMode.", StringComparison.Ordinal) ? text["ResizeMode.".Length..] : null;
        var found = Array.Find(ResizeModes, m => m.Member == member || m.Value == ResizeAliases.GetValueOrDefault(text, text));
        return found.Value ?? "Just Resize";
    }

    private static MockRouteException NoneAttribute(string name) =>
        MockRouteException.Internal("AttributeError", $"'NoneType' object has no attribute '{name}'");

    private static MockRouteException ValueError(JsonNode node, string enumName) =>
        MockRouteException.Internal("ValueError", $"{PyValues.PyRepr(node)} is not a valid {enumName}");

    private static string? Str(Dictionary<string, JsonNode?> d, string key) =>
        d.TryGetValue(key, out var n) && n is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static double Number(Dictionary<string, JsonNode?> d, string key, double fallback) =>
        d.TryGetValue(key, out var n) && n is JsonValue v && PydanticFields.TryFloat(v, out var x) ? x : fallback;

}

/// <summary>What a Forge/reForge unit leaves beside its fields.</summary>
/// <param name="Infotext">Its "ControlNet N" value in extra_generation_params (lib_controlnet/infotext.py:84-94).</param>
/// <param name="RanAs">The control mode its weighting actually used.</param>
/// <param name="Failure">The exception process() raises for it, if any.</param>
internal sealed record ForgeRun(string Infotext, string RanAs, MockRouteException? Failure);
