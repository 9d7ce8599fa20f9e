using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// The ControlNet extension's own routes (<c>/controlnet/*</c>): its listings and <c>detect</c>, a job on the queue. They are
/// open (no <c>--api-auth</c>) and answer 404 when the box lacks ControlNet.
/// </summary>
internal sealed class ControlNetRoutes(MockState state, JobQueue jobs, Lacking lacking, ProfileTraits profile, ControlNetBox controlNet)
{
    private const string Extension = "controlnet";

    public void AddTo(RouteTable routes)
    {
        if (profile.ForgeControlNet)
        {
            AddForge(routes);
            return;
        }

        Get(routes, "/controlnet/version", _ => new JsonObject { ["version"] = profile.ControlNetVersion });
        Get(routes, "/controlnet/model_list", _ =>
            new JsonObject { ["model_list"] = new JsonArray([.. Models().Select(m => (JsonNode)m)]) });
        Get(routes, "/controlnet/module_list", request =>
            Cn.ModuleList(PydanticFields.TryBool(request.Query("alias_names"), out var alias) && alias));
        Get(routes, "/controlnet/control_types", _ => Cn.ControlTypes(Models()));
        // get_max_models_num reads the option at each call (internal_controlnet/external_code.py:214-220)
        Get(routes, "/controlnet/settings", _ => new JsonObject
        {
            ["control_net_unit_count"] = state.OptionsJson()["control_net_unit_count"]?.DeepClone() ?? controlNet.UnitCount,
        });
        routes.Post("/controlnet/detect", request => jobs.RunAsync("detect", 1, () => Detect(request.BodyObject())), RouteAccess.Open, Extension);
    }

    /// <summary>
    /// Forge's built-in ControlNet registers four routes only, with app.get/post (no --api-auth): no version, settings or
    /// module_detail (forge@dfdcbab:extensions-builtin/sd_forge_controlnet/lib_controlnet/api.py:40-137; reForge's is identical).
    /// </summary>
    private void AddForge(RouteTable routes)
    {
        Get(routes, "/controlnet/model_list", _ => new JsonObject { ["model_list"] = new JsonArray([.. ForgeControlNetLists.Models(lacking).Select(m => (JsonNode)m)]) });
        Get(routes, "/controlnet/module_list", _ => ForgeControlNetLists.ModuleList(profile.Units));
        Get(routes, "/controlnet/control_types", _ => ForgeControlNetLists.ControlTypes(profile.Units, lacking));
        routes.Post("/controlnet/detect", request => jobs.RunAsync("detect", 1, () => ForgeDetect.Run(request.BodyObject(), profile.Units, state.OptionString("samples_format", "png"))), RouteAccess.Open, Extension);
    }

    private ControlNetCatalog Cn => ControlNetCatalog.For(profile.DataFolder, controlNet.HasEvaClip);

    private List<string> Models() => [.. ControlNetModels.All.Where(m => !lacking.CnModel(m))];

    private static void Get(RouteTable routes, string path, Func<MockRequest, JsonNode> answer) =>
        routes.Get(path, request => Task.FromResult(MockHttpResult.Json(answer(request))), RouteAccess.Open, Extension);

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
        var module = Cn.FindModule(moduleName) ?? throw MockRouteException.Http(422, "Module not available");
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
        var format = state.OptionString("samples_format", "png");
        foreach (var node in inputs)
        {
            using var input = ImageCodec.Decode(node?.GetValue<string>() ?? "");
            if (IdentityCatalog.UsesInsightFace(module.Name))
            {
                // the preprocessor's own failures propagate from the route: A1111's api_middleware 500 (api.py:167-188)
                try
                {
                    IdentityUnits.Preprocess(module.Name, input, controlNet);
                }
                catch (ControlNetScriptException e)
                {
                    throw MockRouteException.Internal(e.PythonType, e.Message);
                }
            }

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

            var map = DetectedMaps.Render(module, input, rw, rh);
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
                poses.Add(DetectedMaps.PoseJson(input, k, canvasW, canvasH));
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
}
