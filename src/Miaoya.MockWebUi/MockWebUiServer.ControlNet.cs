using System.Globalization;
using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

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
    string? Mask);

internal sealed record ResolvedControl(ControlUnit Unit, string Model, Image<Rgba32> Input);

public sealed partial class MockWebUiServer
{
    private static readonly string[] ResizeModes = ["Just Resize", "Crop and Resize", "Resize and Fill"];
    private static readonly string[] ControlModes = ["Balanced", "My prompt is more important", "ControlNet is more important"];

    // Legacy resize-mode labels still accepted (CN args.py:101-112; reference §2.2).
    private static readonly Dictionary<string, string> ResizeAliases = new(StringComparer.Ordinal)
    {
        ["Inner Fit (Scale to Fit)"] = "Crop and Resize",
        ["Scale to Fit (Inner Fit)"] = "Crop and Resize",
        ["Outer Fit (Shrink to Fit)"] = "Resize and Fill",
        ["Envelope (Outer Fit)"] = "Resize and Fill",
    };

    /// <summary>Parses alwayson_scripts.controlnet.args; only the first control_net_unit_count slots are used (A1111 api.py:335-361).</summary>
    private List<ControlUnit> ParseUnits(JsonArray args)
    {
        var units = new List<ControlUnit>();
        foreach (var node in args.Take(Catalog.ControlNetUnitCount))
        {
            if (node is not JsonObject unit)
            {
                continue;
            }

            var parsed = IsV110 ? ParseUnit110(unit) : ParseUnit18(unit);
            if (parsed is not null)
            {
                units.Add(parsed);
            }
        }

        return units;
    }

    /// <summary>CN ≥1.1.448 pydantic ControlNetUnit (CN internal_controlnet/args.py:53-237): errors → HTTP 500 ValidationError.</summary>
    private static ControlUnit? ParseUnit110(JsonObject unit)
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
        var module = Catalog.FindModule(moduleName);
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
        return new ControlUnit(module!, model, weight, resizeMode, controlMode, processorRes, thresholdA, thresholdB, start, end, pixelPerfect, save, image, mask);
    }

    /// <summary>CN ≤1.1.447 dataclass unit: enabled defaults true, ints accepted for resize_mode/control_mode (v1.1.447 external_code.py:160-229).</summary>
    private static ControlUnit? ParseUnit18(JsonObject unit)
    {
        var f = PydanticFields.Parse(unit,
        [
            new("enabled", FieldKind.Any, true), new("module", FieldKind.Any, "none"), new("model", FieldKind.Any, "None"), new("weight", FieldKind.Any, 1.0),
            new("processor_res", FieldKind.Any, -1), new("threshold_a", FieldKind.Any, -1), new("threshold_b", FieldKind.Any, -1),
            new("guidance_start", FieldKind.Any, 0.0), new("guidance_end", FieldKind.Any, 1.0), new("pixel_perfect", FieldKind.Any, false),
            new("save_detected_map", FieldKind.Any, true),
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

        var module = Catalog.FindModule(f.GetStr("module")) ?? Catalog.CnModules[0];
        var (image, mask) = UnitImage(unit);
        return new ControlUnit(module, f.GetStr("model") ?? "None", f.GetFloat("weight", 1.0), ModeText("resize_mode", ResizeModes, "Crop and Resize"),
            ModeText("control_mode", ControlModes, "Balanced"), f.GetInt("processor_res", -1), f.GetFloat("threshold_a", -1), f.GetFloat("threshold_b", -1),
            f.GetFloat("guidance_start", 0), f.GetFloat("guidance_end", 1), f.GetBool("pixel_perfect", false), f.GetBool("save_detected_map", true), image, mask);
    }

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

    /// <summary>Run-time checks per enabled unit: model lookup and input image (CN controlnet.py:76-89, 444-468, 663-745).</summary>
    private static List<ResolvedControl> ResolveUnits(PreparedGeneration g, Image<Rgba32>? initImage, List<IDisposable> disposables)
    {
        var result = new List<ResolvedControl>();
        foreach (var unit in g.Units)
        {
            var model = "None";
            if (!unit.Module.ModelFree)
            {
                if (string.IsNullOrEmpty(unit.Model) || unit.Model == "None")
                {
                    throw MockRouteException.Internal("RuntimeError", "You have not selected any ControlNet Model.");
                }

                model = Catalog.ResolveCnModel(unit.Model) ?? throw MockRouteException.Internal("RuntimeError", $"model not found: {unit.Model}");
            }

            Image<Rgba32> input;
            if (unit.Image is { Length: > 0 } b64)
            {
                input = ImageCodec.Decode(b64);
                disposables.Add(input);
            }
            else if (initImage is not null)
            {
                input = initImage; // img2img init_images[0] is the fallback input
            }
            else
            {
                throw MockRouteException.Internal("ValueError", "controlnet is enabled but no input image is given");
            }

            result.Add(new ResolvedControl(unit, model, input));
        }

        return result;
    }

    private static Image<Rgba32> RenderDetectedMap(CnModule module, Image<Rgba32> input, int width, int height)
    {
        if (module.Name.Contains("openpose", StringComparison.Ordinal))
        {
            var (body, face) = PoseKeypoints(input);
            float sx = (float)width / input.Width, sy = (float)height / input.Height;
            return Painter.PoseMap(width, height, body.Where(p => p.HasValue).Select(p => (new PointF(p!.Value.X * sx, p.Value.Y * sy), new Rgba32(255, 0, 85, 255)))
                .Concat(face.Select(p => (new PointF(p.X * sx, p.Y * sy), new Rgba32(255, 255, 255, 255)))));
        }

        return Painter.DetectedMap(input, module.Tag, width, height);
    }

    /// <summary>18 COCO body points (null = not visible) and 70 face points in input pixels.</summary>
    private static (PointF?[] Body, List<PointF> Face) PoseKeypoints(Image<Rgba32> input)
    {
        var box = FaceLocator.Locate(input);
        var face = FaceLocator.FaceLandmarks(box);
        float cx = box.X + (box.Width / 2), fw = box.Width, top = box.Y, bottom = box.Y + box.Height;
        PointF? Inside(float x, float y) => x >= 0 && y >= 0 && x < input.Width && y < input.Height ? new PointF(x, y) : null;
        var body = new PointF?[]
        {
            Inside(cx, top + (box.Height * 0.62f)),          // 0 nose
            Inside(cx, bottom + (fw * 0.45f)),                // 1 neck
            Inside(cx - (fw * 1.1f), bottom + (fw * 0.6f)),   // 2 right shoulder
            Inside(cx - (fw * 1.4f), bottom + (fw * 1.7f)),   // 3 right elbow
            Inside(cx - (fw * 1.3f), bottom + (fw * 2.7f)),   // 4 right wrist
            Inside(cx + (fw * 1.1f), bottom + (fw * 0.6f)),   // 5 left shoulder
            Inside(cx + (fw * 1.4f), bottom + (fw * 1.7f)),   // 6 left elbow
            Inside(cx + (fw * 1.3f), bottom + (fw * 2.7f)),   // 7 left wrist
            Inside(cx - (fw * 0.6f), bottom + (fw * 3.2f)),   // 8 right hip
            null, null,                                        // 9, 10 right knee/ankle
            Inside(cx + (fw * 0.6f), bottom + (fw * 3.2f)),   // 11 left hip
            null, null,                                        // 12, 13 left knee/ankle
            Inside(face[68].X, face[68].Y),                   // 14 right eye
            Inside(face[69].X, face[69].Y),                   // 15 left eye
            Inside(box.X + (fw * 0.05f), face[68].Y),         // 16 right ear
            Inside(box.X + (fw * 0.95f), face[69].Y),         // 17 left ear
        };
        return (body, face);
    }

    /// <summary>POST /controlnet/detect (CN scripts/api.py:99-200).</summary>
    private MockHttpResult Detect(JsonObject body)
    {
        var issues = new List<ValidationIssue>();
        var f = PydanticFields.Parse(body,
        [
            new("controlnet_module", FieldKind.Str, "none"),
            new("controlnet_input_images", FieldKind.StrList, new JsonArray()),
            new("controlnet_masks", FieldKind.StrList),
            new("controlnet_processor_res", FieldKind.Int, -1),
            new("controlnet_threshold_a", FieldKind.Float, -1),
            new("controlnet_threshold_b", FieldKind.Float, -1),
            new("low_vram", FieldKind.Bool, false),
        ], issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues);
        }

        var moduleName = f.GetStr("controlnet_module") ?? "none";
        var module = Catalog.FindModule(moduleName) ?? throw MockRouteException.Http(422, "Module not available");
        if (moduleName is "clip_vision" or "revision_clipvision" or "revision_ignore_prompt" or "ip-adapter-auto")
        {
            throw MockRouteException.Http(422, "Module not supported");
        }

        var inputs = f["controlnet_input_images"] as JsonArray;
        if (inputs is null || inputs.Count == 0)
        {
            throw MockRouteException.Http(422, "No image selected");
        }

        var masks = f["controlnet_masks"] as JsonArray;
        if (module.RequiresMask && (masks is null || masks.Count != inputs.Count))
        {
            throw MockRouteException.Http(422, "Module requires mask(s) of the same count as input images");
        }

        var res = f.GetInt("controlnet_processor_res", -1);
        if (res is < 64 or > 2048)
        {
            res = 512; // out of range → preprocessor default (CN args.py:119-149)
        }

        var images = new JsonArray();
        var tensors = new JsonArray();
        var poses = new JsonArray();
        var format = _state.OptionString("samples_format", "png");
        foreach (var node in inputs)
        {
            using var input = ImageCodec.Decode(node?.GetValue<string>() ?? "");
            // resize_image_with_pad: short side → res, pad bottom/right to a multiple of 64 (CN processor.py:34-51)
            var k = (double)res / Math.Min(input.Width, input.Height);
            var rw = (int)Math.Round(input.Width * k);
            var rh = (int)Math.Round(input.Height * k);
            var canvasW = (rw + 63) / 64 * 64;
            var canvasH = (rh + 63) / 64 * 64;
            if (module.ReturnsTensor)
            {
                tensors.Add(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"mock-torch-tensor:{module.Name}:{rw}x{rh}")));
                continue;
            }

            var map = RenderDetectedMap(module, input, rw, rh);
            try
            {
                images.Add(ImageCodec.Encode(map, format));
            }
            finally
            {
                map.Dispose();
            }

            if (module.Name.Contains("openpose", StringComparison.Ordinal))
            {
                poses.Add(PoseJson(input, k, canvasW, canvasH));
            }
        }

        var result = new JsonObject { ["info"] = "Success" };
        if (module.ReturnsTensor)
        {
            result["tensor"] = tensors;
        }
        else
        {
            result["images"] = images;
        }

        if (module.Name.Contains("openpose", StringComparison.Ordinal))
        {
            result["poses"] = poses; // api.py:186-188
        }

        return MockHttpResult.Json(result);
    }

    /// <summary>encode_poses_as_json shape: flat normalised triplets on the padded canvas (CN annotator/openpose/__init__.py:136-175).</summary>
    private static JsonObject PoseJson(Image<Rgba32> input, double k, int canvasW, int canvasH)
    {
        var (body, face) = PoseKeypoints(input);
        JsonArray Flat(IEnumerable<PointF?> pts)
        {
            var arr = new JsonArray();
            foreach (var p in pts)
            {
                if (p is { } v)
                {
                    arr.Add(Math.Round(v.X * k / canvasW, 6));
                    arr.Add(Math.Round(v.Y * k / canvasH, 6));
                    arr.Add(1.0);
                }
                else
                {
                    arr.Add(0.0);
                    arr.Add(0.0);
                    arr.Add(0.0);
                }
            }

            return arr;
        }

        return new JsonObject
        {
            ["people"] = new JsonArray(new JsonObject
            {
                ["pose_keypoints_2d"] = Flat(body),
                ["face_keypoints_2d"] = Flat(face.Select(p => (PointF?)p)),
                ["hand_left_keypoints_2d"] = null,
                ["hand_right_keypoints_2d"] = null,
            }),
            ["animals"] = new JsonArray(),
            ["canvas_width"] = canvasW,
            ["canvas_height"] = canvasH,
        };
    }
}
