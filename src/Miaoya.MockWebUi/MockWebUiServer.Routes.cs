using System.Text.Json.Nodes;
using WireMock;

namespace Miaoya.MockWebUi;

public sealed partial class MockWebUiServer
{
    private static readonly string[] LatentUpscaleModes =
        ["Latent", "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)", "Latent (nearest)", "Latent (nearest-exact)"];

    private bool IsV110 => Profile == MockWebUiProfile.WebUi110;

    private async Task<MockHttpResult> RouteAsync(IRequestMessage request, string path)
    {
        var get = string.Equals(request.Method, "GET", StringComparison.OrdinalIgnoreCase);
        var post = string.Equals(request.Method, "POST", StringComparison.OrdinalIgnoreCase);

        if (_lacking.Route(path))
        {
            return MockHttpResult.NotFound();
        }

        // Routes registered by extensions with app.get/post are not behind --api-auth (reference §1.1).
        switch (path)
        {
            case "/sdapi/v1/loras":
                return get ? MockHttpResult.Json(_lacking.Filter(_loras.All(), "name")) : MockHttpResult.MethodNotAllowed();
            case "/sdapi/v1/refresh-loras":
                if (post)
                {
                    _loras.Scan();
                }

                return post ? MockHttpResult.Null() : MockHttpResult.MethodNotAllowed();
            case "/controlnet/version":
                // {"version":3} from CN 1.1.448 (pydantic unit), 2 before (CN api.py:50-52; external_code.py:26-27)
                return get ? MockHttpResult.Json(new JsonObject { ["version"] = IsV110 ? 3 : 2 }) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/model_list":
                return get ? MockHttpResult.Json(new JsonObject { ["model_list"] = new JsonArray([.. Catalog.CnModels.Where(m => !_lacking.CnModel(m)).Select(m => (JsonNode)m)]) }) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/module_list":
                return get ? MockHttpResult.Json(Catalog.ModuleList(PydanticFields.TryBool(Query(request, "alias_names"), out var alias) && alias)) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/control_types":
                return get ? MockHttpResult.Json(Catalog.ControlTypes()) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/settings":
                return get ? MockHttpResult.Json(new JsonObject { ["control_net_unit_count"] = Catalog.ControlNetUnitCount }) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/detect":
                return post ? await _jobs.RunAsync("detect", 1, () => Detect(BodyObject(request))) : MockHttpResult.MethodNotAllowed();
            case "/rembg":
                return post ? await _jobs.RunAsync("rembg", 1, () => Rembg(BodyObject(request))) : MockHttpResult.MethodNotAllowed();
            default:
                break;
        }

        if (path.StartsWith("/tagger/v1/", StringComparison.Ordinal))
        {
            switch (path)
            {
                case "/tagger/v1/interrogators":
                    if (!get)
                    {
                        return MockHttpResult.MethodNotAllowed();
                    }

                    CheckAuth(request);
                    return MockHttpResult.Json(new JsonObject { ["models"] = new JsonArray([.. Catalog.TaggerModels(Profile).Select(m => (JsonNode)m)]) });
                case "/tagger/v1/interrogate":
                    if (!post)
                    {
                        return MockHttpResult.MethodNotAllowed();
                    }

                    CheckAuth(request);
                    return await _jobs.RunAsync("interrogate", 1, () => TaggerInterrogate(BodyObject(request)));
                case "/tagger/v1/unload-interrogators" when IsV110:
                    if (!post)
                    {
                        return MockHttpResult.MethodNotAllowed();
                    }

                    CheckAuth(request);
                    return MockHttpResult.Json(JsonValue.Create("Successfully unload 0 model(s)"));
                default:
                    return MockHttpResult.NotFound();
            }
        }

        if (!path.StartsWith("/sdapi/v1/", StringComparison.Ordinal))
        {
            return MockHttpResult.NotFound();
        }

        var route = path["/sdapi/v1/".Length..];
        var method = RouteMethod(route);
        if (method is null)
        {
            return MockHttpResult.NotFound();
        }

        if (method == "GET/POST" ? !(get || post) : method == "GET" ? !get : !post)
        {
            return MockHttpResult.MethodNotAllowed();
        }

        CheckAuth(request);
        switch (route)
        {
            case "txt2img":
            case "img2img":
                {
                    var body = BodyObject(request);
                    var img2img = route == "img2img";
                    var prepared = PrepareGeneration(body, img2img);
                    return await RunGenerationAsync(route, prepared);
                }

            case "options":
                return get ? MockHttpResult.Json(_state.OptionsJson()) : SetOptions(BodyObject(request));
            case "sd-models":
                return MockHttpResult.Json(_lacking.Filter(Catalog.SdModels(), "model_name"));
            case "sd-vae":
                return MockHttpResult.Json(Catalog.SdVae());
            case "embeddings":
                return MockHttpResult.Json(_lacking.FilterEmbeddings(Catalog.Embeddings()));
            case "samplers":
                return MockHttpResult.Json(Catalog.SamplersJson(Profile));
            case "schedulers":
                return MockHttpResult.Json(Catalog.SchedulersJson());
            case "upscalers":
                return MockHttpResult.Json(Catalog.Upscalers());
            case "latent-upscale-modes":
                return MockHttpResult.Json(new JsonArray([.. LatentUpscaleModes.Select(n => (JsonNode)new JsonObject { ["name"] = n })]));
            case "hypernetworks":
            case "face-restorers":
            case "realesrgan-models":
            case "prompt-styles":
                return MockHttpResult.Json(new JsonArray());
            case "progress":
                return MockHttpResult.Json(_jobs.Progress());
            case "interrupt":
                _jobs.Interrupt();
                return MockHttpResult.Json(new JsonObject()); // {} (A1111 api.py:649-652)
            case "skip":
                return MockHttpResult.Null(); // null (A1111 api.py:664-665)
            case "interrogate":
                return await _jobs.RunAsync("interrogate", 1, () => Interrogate(BodyObject(request)));
            case "png-info":
                return PngInfo(BodyObject(request));
            case "refresh-checkpoints":
            case "refresh-embeddings":
            case "refresh-vae":
                return MockHttpResult.Null();
            case "unload-checkpoint":
            case "reload-checkpoint":
                return MockHttpResult.Json(new JsonObject());
            case "scripts":
                return MockHttpResult.Json(Catalog.Scripts());
            case "script-info":
                return MockHttpResult.Json(_lacking.Filter(Catalog.ScriptInfo(), "name"));
            case "extensions":
                return MockHttpResult.Json(_lacking.FilterExtensions(Catalog.Extensions(Profile)));
            case "memory":
                return MockHttpResult.Json(MemoryJson());
            case "cmd-flags":
                return MockHttpResult.Json(CmdFlags());
            default:
                return MockHttpResult.NotFound();
        }
    }

    private string? RouteMethod(string route) => route switch
    {
        "txt2img" or "img2img" or "png-info" or "interrogate" or "interrupt" or "skip" or "refresh-checkpoints" or "refresh-embeddings"
            or "refresh-vae" or "unload-checkpoint" or "reload-checkpoint" => "POST",
        "options" => "GET/POST",
        "progress" or "cmd-flags" or "samplers" or "upscalers" or "latent-upscale-modes" or "sd-models" or "sd-vae" or "hypernetworks"
            or "face-restorers" or "realesrgan-models" or "prompt-styles" or "embeddings" or "memory" or "scripts" or "script-info"
            or "extensions" => "GET",
        "schedulers" when IsV110 => "GET", // since 1.9.1; 404 on 1.8 (reference §1.2)
        _ => null,
    };

    private static JsonObject MemoryJson()
    {
        static JsonObject Triple(double free, double used) => new() { ["free"] = free, ["used"] = used, ["total"] = free + used };
        static JsonObject Pair(long current, long peak) => new() { ["current"] = current, ["peak"] = peak };
        return new JsonObject
        {
            ["ram"] = Triple(54_000_000_000, 12_000_000_000),
            ["cuda"] = new JsonObject
            {
                ["system"] = Triple(20_000_000_000, 4_000_000_000),
                ["active"] = Pair(2_600_000_000, 3_900_000_000),
                ["allocated"] = Pair(2_600_000_000, 3_900_000_000),
                ["reserved"] = Pair(3_100_000_000, 4_300_000_000),
                ["inactive"] = Pair(150_000_000, 800_000_000),
                ["events"] = new JsonObject { ["retries"] = 0, ["oom"] = 0 },
            },
        };
    }

    private MockHttpResult SetOptions(JsonObject body)
    {
        _state.SetOptions(body);
        return MockHttpResult.Null();
    }

    private JsonObject CmdFlags() => new()
    {
        ["data_dir"] = "/app",
        ["models_dir"] = "/app/models",
        ["ckpt_dir"] = null,
        ["port"] = WireMock.Ports[0],
        ["listen"] = _options.ListenOnAllInterfaces,
        ["api"] = true,
        ["api_auth"] = _credentials.Length == 0 ? null : _options.Auth,
        ["api_log"] = false,
        ["nowebui"] = true,
        ["xformers"] = true,
        ["medvram"] = false,
        ["lowvram"] = false,
        ["no_half"] = false,
        ["no_half_vae"] = false,
        ["api_server_stop"] = false,
        ["cors_allow_origins"] = null,
        ["skip_torch_cuda_test"] = false,
        ["enable_insecure_extension_access"] = false,
    };
}
