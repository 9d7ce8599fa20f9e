using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// POST /controlnet/detect of Forge's built-in ControlNet (forge@dfdcbab:extensions-builtin/sd_forge_controlnet/lib_controlnet/api.py:82-137):
/// no masks and no low_vram; module by exact preprocessor name; resolution 512 and thresholds 64 by default.
/// </summary>
internal static class ForgeDetect
{
    public static MockHttpResult Run(JsonObject body, UnitDialect dialect, string format)
    {
        var issues = new List<ValidationIssue>();
        var f = PydanticFields.Parse(body,
        [
            new("controlnet_module", FieldKind.Str, "none"),
            new("controlnet_input_images", FieldKind.StrList, new JsonArray()),
            new("controlnet_processor_res", FieldKind.Int, 512),
            new("controlnet_threshold_a", FieldKind.Float, 64),
            new("controlnet_threshold_b", FieldKind.Float, 64),
        ], issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues); // (FastAPI 0.104 + pydantic 2 word these items differently)
        }

        var moduleName = f.GetStr("controlnet_module") ?? "none";
        var preprocessor = ForgeControlNetLists.Find(dialect, moduleName) ?? throw MockRouteException.Http(422, "Module not available"); // :92-94
        var inputs = f["controlnet_input_images"] as JsonArray;
        if (inputs is null || inputs.Count == 0)
        {
            throw MockRouteException.Http(422, "No image selected"); // :96-97
        }

        var res = (int)Math.Clamp(f.GetInt("controlnet_processor_res", 512), 64, 2048);
        var module = preprocessor.ToModule();
        var openpose = moduleName.Contains("openpose", StringComparison.Ordinal);
        var images = new JsonArray();
        var poses = new JsonArray();
        foreach (var node in inputs)
        {
            using var input = ImageCodec.Decode(node?.GetValue<string>() ?? "");
            if (!preprocessor.Image)
            {
                images.Add("Detect result is not image"); // encode_to_base64 of an embedding (:21-25)
                continue;
            }

            // resize_image_with_pad, then the pad removed: short side = resolution, the input's aspect
            var k = (double)res / Math.Min(input.Width, input.Height);
            var rw = (int)Math.Round(input.Width * k);
            var rh = (int)Math.Round(input.Height * k);
            var map = DetectedMaps.Render(module, input, rw, rh);
            try
            {
                images.Add(ImageCodec.Encode(map, format));
            }
            finally
            {
                map.Dispose();
            }

            if (openpose)
            {
                poses.Add(DetectedMaps.PoseJson(input, k, rw, rh)); // :128-130
            }
        }

        var result = new JsonObject { ["images"] = images, ["info"] = "Success" };
        if (poses.Count > 0)
        {
            result["poses"] = poses; // :134-135
        }

        return MockHttpResult.Json(result);
    }
}
