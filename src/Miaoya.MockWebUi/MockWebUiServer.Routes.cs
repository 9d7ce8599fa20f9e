using System.Globalization;
using System.Text.Json.Nodes;
using WireMock;

namespace Miaoya.MockWebUi;

public sealed partial class MockWebUiServer
{
    private readonly Dictionary<string, JsonNode?> _optionValues;
    private CancellationTokenSource? _interruptSource;
    private long _jobStartTicks;
    private long _jobLength;
    private int _jobCount;
    private int _jobSteps;
    private bool _interrupted;
    private string _jobTimestamp = "0";
    private string _jobName = "";

    private static readonly string[] LatentUpscaleModes =
        ["Latent", "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)", "Latent (nearest)", "Latent (nearest-exact)"];

    private bool IsV110 => Profile == MockWebUiProfile.WebUi110;

    private string[] _scannedLoras = [];

    /// <summary>Rescans <see cref="MockWebUiOptions.LoraDirectory"/> (refresh-loras).</summary>
    private void ScanLoras()
    {
        var folder = _options.LoraDirectory;
        var found = folder is not null && Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal).ToArray()
            : [];
        Volatile.Write(ref _scannedLoras, found);
    }

    /// <summary>The built-in LoRAs, then those found in the LoRA folder at the last scan.</summary>
    private JsonArray AllLoras()
    {
        var list = Catalog.Loras();
        foreach (var path in Volatile.Read(ref _scannedLoras))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            list.Add(new JsonObject { ["name"] = name, ["alias"] = name, ["path"] = path, ["metadata"] = new JsonObject() });
        }

        return list;
    }

    private async Task<MockHttpResult> RouteAsync(IRequestMessage request, string path)
    {
        var get = string.Equals(request.Method, "GET", StringComparison.OrdinalIgnoreCase);
        var post = string.Equals(request.Method, "POST", StringComparison.OrdinalIgnoreCase);

        if (LacksRoute(path))
        {
            return MockHttpResult.NotFound();
        }

        // Routes registered by extensions with app.get/post are not behind --api-auth (reference §1.1).
        switch (path)
        {
            case "/sdapi/v1/loras":
                return get ? MockHttpResult.Json(Without(AllLoras(), "name")) : MockHttpResult.MethodNotAllowed();
            case "/sdapi/v1/refresh-loras":
                if (post)
                {
                    ScanLoras();
                }

                return post ? MockHttpResult.Null() : MockHttpResult.MethodNotAllowed();
            case "/controlnet/version":
                // {"version":3} from CN 1.1.448 (pydantic unit), 2 before (CN api.py:50-52; external_code.py:26-27)
                return get ? MockHttpResult.Json(new JsonObject { ["version"] = IsV110 ? 3 : 2 }) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/model_list":
                return get ? MockHttpResult.Json(new JsonObject { ["model_list"] = new JsonArray([.. Catalog.CnModels.Where(m => !LacksCnModel(m)).Select(m => (JsonNode)m)]) }) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/module_list":
                return get ? MockHttpResult.Json(Catalog.ModuleList(PydanticFields.TryBool(Query(request, "alias_names"), out var alias) && alias)) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/control_types":
                return get ? MockHttpResult.Json(Catalog.ControlTypes()) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/settings":
                return get ? MockHttpResult.Json(new JsonObject { ["control_net_unit_count"] = Catalog.ControlNetUnitCount }) : MockHttpResult.MethodNotAllowed();
            case "/controlnet/detect":
                return post ? await RunJobAsync("detect", 1, () => Detect(BodyObject(request))) : MockHttpResult.MethodNotAllowed();
            case "/rembg":
                return post ? await RunJobAsync("rembg", 1, () => Rembg(BodyObject(request))) : MockHttpResult.MethodNotAllowed();
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
                    return await RunJobAsync("interrogate", 1, () => TaggerInterrogate(BodyObject(request)));
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
                return get ? MockHttpResult.Json(OptionsJson()) : SetOptions(BodyObject(request));
            case "sd-models":
                return MockHttpResult.Json(Without(Catalog.SdModels(), "model_name"));
            case "sd-vae":
                return MockHttpResult.Json(Catalog.SdVae());
            case "embeddings":
                return MockHttpResult.Json(WithoutEmbeddings(Catalog.Embeddings()));
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
                return MockHttpResult.Json(ProgressJson());
            case "interrupt":
                Interrupt();
                return MockHttpResult.Json(new JsonObject()); // {} (A1111 api.py:649-652)
            case "skip":
                return MockHttpResult.Null(); // null (A1111 api.py:664-665)
            case "interrogate":
                return await RunJobAsync("interrogate", 1, () => Interrogate(BodyObject(request)));
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
                return MockHttpResult.Json(Without(Catalog.ScriptInfo(), "name"));
            case "extensions":
                return MockHttpResult.Json(WithoutExtensions(Catalog.Extensions(Profile)));
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

    /// <summary>Runs a generation-type call under the queue lock with latency, progress and fail-rate.</summary>
    private async Task<MockHttpResult> RunJobAsync(string name, int steps, Func<MockHttpResult> work, Func<Task>? before = null, Action? after = null)
    {
        await _queueLock.WaitAsync();
        try
        {
            if (_down)
            {
                return MockHttpResult.Null(); // the connection is closed by HandleAsync
            }

            using var interrupt = new CancellationTokenSource();
            var epoch = DownEpoch();
            lock (_gate)
            {
                _interruptSource = interrupt;
                _jobStartTicks = Clock.ElapsedTicks;
                _jobLength = (long)(_options.Latency.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
                _jobCount = 1;
                _jobSteps = Math.Max(1, steps);
                _interrupted = false;
                _jobName = name;
                _jobTimestamp = DateTime.Now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            }

            try
            {
                if (before is not null)
                {
                    await before();
                }

                // Latency is the box's whole time for the call: the mock's own work (decoding, painting, encoding the
                // images) runs meanwhile rather than after it, as a GPU box's render time includes its encoding.
                var rendering = _options.Latency > TimeSpan.Zero ? Task.Run(work) : null;
                if (_options.Latency > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(_options.Latency, interrupt.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // interrupted: the real server stops sampling early and still answers (inference).
                    }
                }

                var result = rendering is null ? work() : await rendering;
                if (_options.FailRate > 0 && NextRandom() < _options.FailRate)
                {
                    throw MockRouteException.Internal("OutOfMemoryError",
                        "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 8.00 GiB total capacity; 5.91 GiB already allocated; 0 bytes free; 6.12 GiB reserved in total by PyTorch)");
                }

                if (DownEpoch() == epoch)
                {
                    CountCompleted(name); // not when the box died during the call (its answer is never sent)
                }

                return result;
            }
            finally
            {
                after?.Invoke();
                lock (_gate)
                {
                    _interruptSource = null;
                    _jobCount = 0;
                    _jobName = "";
                }
            }
        }
        finally
        {
            _queueLock.Release();
        }
    }

    private void Interrupt()
    {
        Interlocked.Increment(ref _interruptCount);
        lock (_gate)
        {
            _interrupted = true;
            _interruptSource?.Cancel();
        }
    }

    private JsonObject ProgressJson()
    {
        lock (_gate)
        {
            var active = _jobCount > 0;
            var fraction = 0.0;
            var eta = 0.0;
            if (active)
            {
                var elapsed = (double)(Clock.ElapsedTicks - _jobStartTicks) / System.Diagnostics.Stopwatch.Frequency;
                var total = (double)_jobLength / System.Diagnostics.Stopwatch.Frequency;
                fraction = total <= 0 ? 0.99 : Math.Clamp(elapsed / total, 0.01, 0.99);
                eta = Math.Max(0, total - elapsed);
            }

            // ProgressResponse (A1111 api.py:602-628; models.py:186-194); idle → 0/0.
            return new JsonObject
            {
                ["progress"] = active ? Math.Round(fraction, 4) : 0,
                ["eta_relative"] = active ? Math.Round(eta, 3) : 0,
                ["state"] = new JsonObject
                {
                    ["skipped"] = false,
                    ["interrupted"] = _interrupted,
                    ["stopping_generation"] = false,
                    ["job"] = active ? _jobName : "",
                    ["job_count"] = _jobCount,
                    ["job_timestamp"] = _jobTimestamp,
                    ["job_no"] = 0,
                    ["sampling_step"] = active ? (int)(fraction * _jobSteps) : 0,
                    ["sampling_steps"] = active ? _jobSteps : 0,
                },
                ["current_image"] = null,
                ["textinfo"] = null,
            };
        }
    }

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

    private static Dictionary<string, JsonNode?> DefaultOptions() => new(StringComparer.Ordinal)
    {
        ["samples_save"] = true,
        ["save_init_img"] = false,
        ["control_net_detectmap_autosaving"] = false,
        ["samples_format"] = "png",
        ["grid_save"] = true,
        ["return_grid"] = true,
        ["jpeg_quality"] = 80,
        ["webp_lossless"] = false,
        ["sd_model_checkpoint"] = Catalog.Checkpoints[0].Title,
        ["sd_checkpoint_hash"] = Catalog.Checkpoints[0].Sha256,
        ["sd_vae"] = "Automatic",
        ["CLIP_stop_at_last_layers"] = 1,
        ["eta_noise_seed_delta"] = 0,
        ["face_restoration"] = false,
        ["face_restoration_model"] = "CodeFormer",
        ["tiling"] = false,
        ["initial_noise_multiplier"] = 1.0,
        ["img2img_fix_steps"] = false,
        ["interrogate_deepbooru_score_threshold"] = 0.5,
        ["return_mask"] = false,
        ["return_mask_composite"] = false,
        ["show_progress_every_n_steps"] = 10,
        ["live_previews_enable"] = true,
        ["sd_vae_overrides_per_model_preferences"] = true,
        ["control_net_unit_count"] = Catalog.ControlNetUnitCount,
        ["control_net_model_cache_size"] = 2,
        ["control_net_no_detectmap"] = false,
        ["control_net_allow_script_control"] = false,
        ["controlnet_clip_detector_on_cpu"] = false,
        ["api_enable_requests"] = true,
        ["api_forbid_local_requests"] = true,
        ["api_useragent"] = "",
    };

    private JsonObject OptionsJson()
    {
        lock (_gate)
        {
            var obj = new JsonObject();
            foreach (var (k, v) in _optionValues)
            {
                obj[k] = v?.DeepClone();
            }

            return obj;
        }
    }

    private string OptionString(string key, string fallback)
    {
        lock (_gate)
        {
            return _optionValues.TryGetValue(key, out var v) && PydanticFields.TryStr(v, out var s) ? s : fallback;
        }
    }

    private MockHttpResult SetOptions(JsonObject body)
    {
        // POST /options: unknown checkpoint → RuntimeError 500; unknown key → KeyError 500; restrict_api keys ignored (A1111 api.py:678-687; options.py:144-170).
        if (body.TryGetPropertyValue("sd_model_checkpoint", out var ckptNode) && PydanticFields.TryStr(ckptNode, out var ckpt)
            && Catalog.FindCheckpoint(ckpt) is null)
        {
            throw MockRouteException.Internal("RuntimeError", $"model '{ckpt}' not found");
        }

        lock (_gate)
        {
            foreach (var (key, _) in body)
            {
                if (!_optionValues.ContainsKey(key))
                {
                    throw MockRouteException.Internal("KeyError", $"'{key}'");
                }
            }

            foreach (var (key, value) in body)
            {
                if (key is "api_enable_requests" or "api_forbid_local_requests" or "api_useragent")
                {
                    continue;
                }

                if (key == "sd_model_checkpoint" && PydanticFields.TryStr(value, out var id) && Catalog.FindCheckpoint(id) is { } info)
                {
                    _optionValues[key] = info.Title;
                    _optionValues["sd_checkpoint_hash"] = info.Sha256;
                    LoadLocked(info); // the option's onchange callback reloads the weights
                    continue;
                }

                _optionValues[key] = value?.DeepClone();
            }
        }

        return MockHttpResult.Null();
    }
}
