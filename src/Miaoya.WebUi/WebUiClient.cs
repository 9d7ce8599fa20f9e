using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Refit;

namespace Miaoya.WebUi;

/// <summary>
/// Typed client of one WebUI box (A1111 + ControlNet + WD14 tagger + rembg). Control calls (lists, options,
/// progress) run with short timeouts and retries; generation calls with one long timeout and no retry once
/// sent. Errors surface as <see cref="WebUiException"/> subtypes naming the endpoint. Thread-safe.
/// </summary>
public sealed partial class WebUiClient
{
    private readonly IWebUiApi _control;
    private readonly IWebUiApi _generation;
    private readonly WebUiOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private (WebUiCapabilities Capabilities, long At)? _capabilities;

    internal WebUiClient(WebUiEndpoint endpoint, IWebUiApi control, IWebUiApi generation, WebUiOptions options, ILogger logger, TimeProvider time)
    {
        Endpoint = endpoint;
        _control = control;
        _generation = generation;
        _options = options;
        _logger = logger;
        _time = time;
    }

    /// <summary>The box this client talks to.</summary>
    public WebUiEndpoint Endpoint { get; }

    /// <summary>The generation calls' HttpClient (its resilience pipeline included), for the calls that read large answers themselves.</summary>
    internal HttpClient? GenerationHttp { get; init; }

    internal RefitSettings? RefitSettings { get; init; }

    // ---- generation -------------------------------------------------------------------------------

    /// <summary><c>POST /sdapi/v1/txt2img</c>, after checking names against the server.</summary>
    public async Task<GenerationResponse> Txt2ImgAsync(Txt2ImgRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await CheckNamesAsync("POST /sdapi/v1/txt2img", request, cancellationToken);
        return await GenerateAsync(
            "POST /sdapi/v1/txt2img",
            api => GenerationHttp is { } http ? PostGenerationAsync(http, "POST /sdapi/v1/txt2img", "sdapi/v1/txt2img", request, cancellationToken) : api.Txt2ImgAsync(request, cancellationToken),
            cancellationToken);
    }

    /// <summary><c>POST /sdapi/v1/img2img</c> (inpainting when a mask is set), after checking names against the server.</summary>
    public async Task<GenerationResponse> Img2ImgAsync(Img2ImgRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.InitImages.Count == 0)
        {
            throw new WebUiRequestException("POST /sdapi/v1/img2img", ["init_images: at least one image is required (the server answers 404 \"Init image not found\")."]);
        }

        await CheckNamesAsync("POST /sdapi/v1/img2img", request, cancellationToken);
        return await GenerateAsync(
            "POST /sdapi/v1/img2img",
            api => GenerationHttp is { } http ? PostGenerationAsync(http, "POST /sdapi/v1/img2img", "sdapi/v1/img2img", request, cancellationToken) : api.Img2ImgAsync(request, cancellationToken),
            cancellationToken);
    }

    /// <summary><c>POST /sdapi/v1/interrogate</c> with <c>clip</c> or <c>deepdanbooru</c>.</summary>
    public Task<InterrogateResponse> InterrogateAsync(InterrogateRequest request, CancellationToken cancellationToken = default) =>
        GenerateAsync("POST /sdapi/v1/interrogate", api => api.InterrogateAsync(request, cancellationToken), cancellationToken);

    /// <summary><c>POST /tagger/v1/interrogate</c>; reads both answer shapes. The threshold is always sent.</summary>
    public async Task<TaggerResult> TaggerInterrogateAsync(TaggerInterrogateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Threshold is < 0 or > 1 || double.IsNaN(request.Threshold))
        {
            throw new WebUiRequestException("POST /tagger/v1/interrogate", [$"threshold: {request.Threshold} is outside 0..1."]);
        }

        var response = await GenerateAsync("POST /tagger/v1/interrogate", api => api.TaggerInterrogateAsync(request, cancellationToken), cancellationToken);
        return response.Caption.Result;
    }

    /// <summary><c>POST /controlnet/detect</c>: preprocessor maps, and openpose <c>poses</c> for openpose modules.</summary>
    public Task<ControlNetDetectResponse> DetectAsync(ControlNetDetectRequest request, CancellationToken cancellationToken = default) =>
        GenerateAsync("POST /controlnet/detect", api => api.DetectAsync(request, cancellationToken), cancellationToken);

    /// <summary><c>POST /rembg</c> (stable-diffusion-webui-rembg): person cut out on a transparent background.</summary>
    public Task<RembgResponse> RembgAsync(RembgRequest request, CancellationToken cancellationToken = default) =>
        GenerateAsync("POST /rembg", api => api.RembgAsync(request, cancellationToken), cancellationToken);

    /// <summary>
    /// <c>POST /sdapi/v1/extra-single-image</c>: face restoration and upscaling of one image, under the box's queue lock
    /// (modules/api/api.py extras_single_image_api runs it "with self.queue_lock").
    /// </summary>
    public async Task<Imaging.EncodedImage> ExtraSingleImageAsync(ExtrasSingleImageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = await GenerateAsync("POST /sdapi/v1/extra-single-image", api => api.ExtraSingleImageAsync(request, cancellationToken), cancellationToken);
        return response.Image ?? throw new WebUiProtocolException("POST /sdapi/v1/extra-single-image", "the answer has no image although show_extras_results was true.", null);
    }

    // ---- control ----------------------------------------------------------------------------------

    public Task<IReadOnlyDictionary<string, JsonElement>> GetOptionsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/options", api => api.GetOptionsAsync(cancellationToken));

    /// <summary>
    /// <c>POST /sdapi/v1/options</c>. Changes the box for everyone: prefer <c>override_settings</c> per request
    /// (setting <c>sd_model_checkpoint</c> here loads a model under the server's queue lock).
    /// </summary>
    public Task SetOptionsAsync(IReadOnlyDictionary<string, JsonNode?> options, CancellationToken cancellationToken = default) =>
        ControlAsync("POST /sdapi/v1/options", async api => { await api.SetOptionsAsync(options, cancellationToken); return true; });

    public Task<IReadOnlyList<SdModel>> GetSdModelsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/sd-models", api => api.GetSdModelsAsync(cancellationToken));

    public Task<IReadOnlyList<SdVae>> GetSdVaeAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/sd-vae", api => api.GetSdVaeAsync(cancellationToken));

    public Task<IReadOnlyList<LoraInfo>> GetLorasAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/loras", api => api.GetLorasAsync(cancellationToken));

    public Task<EmbeddingsResponse> GetEmbeddingsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/embeddings", api => api.GetEmbeddingsAsync(cancellationToken));

    public Task<IReadOnlyList<SamplerInfo>> GetSamplersAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/samplers", api => api.GetSamplersAsync(cancellationToken));

    /// <summary><c>GET /sdapi/v1/schedulers</c>; null when the server predates it (A1111 &lt; 1.9.1 answers 404).</summary>
    public Task<IReadOnlyList<SchedulerInfo>?> GetSchedulersAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/schedulers", async api =>
        {
            using var response = await api.GetSchedulersAsync(cancellationToken);
            return response.StatusCode == HttpStatusCode.NotFound ? null : Unwrap("GET /sdapi/v1/schedulers", response);
        });

    public Task<IReadOnlyList<UpscalerInfo>> GetUpscalersAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/upscalers", api => api.GetUpscalersAsync(cancellationToken));

    /// <summary><c>GET /sdapi/v1/face-restorers</c>: the restorers the box offers (CodeFormer, GFPGAN).</summary>
    public Task<IReadOnlyList<FaceRestorerInfo>> GetFaceRestorersAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/face-restorers", api => api.GetFaceRestorersAsync(cancellationToken));

    /// <summary><c>GET /sdapi/v1/progress</c>: global to the server, not to one request.</summary>
    public Task<ProgressResponse> GetProgressAsync(bool skipCurrentImage = true, CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/progress", api => api.GetProgressAsync(skipCurrentImage, cancellationToken));

    public Task InterruptAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("POST /sdapi/v1/interrupt", async api => { await api.InterruptAsync(cancellationToken); return true; });

    public Task SkipAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("POST /sdapi/v1/skip", async api => { await api.SkipAsync(cancellationToken); return true; });

    public Task<PngInfoResponse> PngInfoAsync(PngInfoRequest request, CancellationToken cancellationToken = default) =>
        ControlAsync("POST /sdapi/v1/png-info", api => api.PngInfoAsync(request, cancellationToken));

    public Task RefreshCheckpointsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("POST /sdapi/v1/refresh-checkpoints", async api => { await api.RefreshCheckpointsAsync(cancellationToken); return true; });

    public Task RefreshLorasAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("POST /sdapi/v1/refresh-loras", async api => { await api.RefreshLorasAsync(cancellationToken); return true; });

    public Task<ScriptsList> GetScriptsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/scripts", api => api.GetScriptsAsync(cancellationToken));

    public Task<IReadOnlyList<ScriptInfo>> GetScriptInfoAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/script-info", api => api.GetScriptInfoAsync(cancellationToken));

    public Task<IReadOnlyList<ExtensionInfo>> GetExtensionsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/extensions", api => api.GetExtensionsAsync(cancellationToken));

    public Task<MemoryResponse> GetMemoryAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/memory", api => api.GetMemoryAsync(cancellationToken));

    public Task<IReadOnlyDictionary<string, JsonElement>> GetCmdFlagsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /sdapi/v1/cmd-flags", api => api.GetCmdFlagsAsync(cancellationToken));

    /// <summary><c>GET /controlnet/version</c>; null when ControlNet is not installed (404).</summary>
    public Task<ControlNetVersion?> GetControlNetVersionAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /controlnet/version", async api =>
        {
            using var response = await api.GetControlNetVersionAsync(cancellationToken);
            return response.StatusCode == HttpStatusCode.NotFound ? null : Unwrap("GET /controlnet/version", response);
        });

    /// <summary><c>GET /controlnet/model_list</c>; <paramref name="rescan"/> makes the server rescan its model folder.</summary>
    public Task<ControlNetModelList> GetControlNetModelsAsync(bool rescan = false, CancellationToken cancellationToken = default) =>
        ControlAsync("GET /controlnet/model_list", api => api.GetControlNetModelsAsync(rescan, cancellationToken));

    /// <summary><c>GET /controlnet/module_list</c>: internal names, or UI labels (<c>softedge_pidinet</c>) with <paramref name="aliasNames"/>.</summary>
    public Task<ControlNetModuleList> GetControlNetModulesAsync(bool aliasNames = false, CancellationToken cancellationToken = default) =>
        ControlAsync("GET /controlnet/module_list", api => api.GetControlNetModulesAsync(aliasNames, cancellationToken));

    public Task<ControlNetControlTypes> GetControlNetControlTypesAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /controlnet/control_types", api => api.GetControlNetControlTypesAsync(cancellationToken));

    public Task<ControlNetSettings> GetControlNetSettingsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /controlnet/settings", api => api.GetControlNetSettingsAsync(cancellationToken));

    public Task<TaggerInterrogators> GetTaggerInterrogatorsAsync(CancellationToken cancellationToken = default) =>
        ControlAsync("GET /tagger/v1/interrogators", api => api.GetTaggerInterrogatorsAsync(cancellationToken));

    private async Task CheckNamesAsync(string endpoint, GenerationRequest request, CancellationToken cancellationToken)
    {
        if (!_options.ValidateNames)
        {
            return;
        }

        var problems = new List<string>();
        if (request.AlwaysOnScripts?.ControlNet is { } controlNet)
        {
            for (var i = 0; i < controlNet.Args.Count; i++)
            {
                problems.AddRange(controlNet.Args[i].Validate().Select(p => $"alwayson_scripts.controlnet.args[{i}].{p}"));
            }
        }

        if (problems.Count == 0)
        {
            var capabilities = await GetCapabilitiesAsync(cancellationToken);
            problems.AddRange(capabilities.Check(request));
        }

        if (problems.Count > 0)
        {
            throw new WebUiRequestException(endpoint, problems.Distinct().ToArray());
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------------

    private async Task<T> ControlAsync<T>(string endpoint, Func<IWebUiApi, Task<T>> call)
    {
        try
        {
            return await call(_control);
        }
        catch (Exception e) when (Map(endpoint, e, generation: false) is { } mapped)
        {
            throw mapped;
        }
    }

    private async Task<T> GenerateAsync<T>(string endpoint, Func<IWebUiApi, Task<T>> call, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        try
        {
            var result = await call(_generation);
            _logger.LogDebug("{Call} on {Endpoint} took {Elapsed}", endpoint, Endpoint, _time.GetElapsedTime(started));
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The box keeps rendering a cancelled request unless told to stop.
            await InterruptQuietlyAsync(endpoint, "the caller cancelled");
            throw;
        }
        catch (Exception e) when (Map(endpoint, e, generation: true) is { } mapped)
        {
            if (mapped is WebUiTransportException { Failure: WebUiTransportFailure.Timeout })
            {
                await InterruptQuietlyAsync(endpoint, "it timed out");
            }

            throw mapped;
        }
    }

    /// <summary>
    /// A txt2img or img2img call without Refit's response buffering: the request is serialised straight into the
    /// connection (images as base64 from their bytes), and the answer (images, plus the WebUI's echo of every request
    /// image in <c>parameters</c>: megabytes) is read once into a pooled buffer and parsed there, where Refit loaded it
    /// into a new array and copied it again through a growing stream buffer. Errors are Refit's: a non-success status
    /// is an <see cref="ApiException"/>, an unreadable body the same protocol error as before.
    /// </summary>
    private async Task<GenerationResponse> PostGenerationAsync<TRequest>(HttpClient http, string endpoint, string route, TRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(route, UriKind.Relative))
        {
            Content = System.Net.Http.Json.JsonContent.Create(request, Json.WebUiJson.TypeInfo<TRequest>()),
        };
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ApiException.Create(message, HttpMethod.Post, response, RefitSettings ?? new RefitSettings());
        }

        var (buffer, length) = await ReadAllAsync(response.Content, cancellationToken);
        try
        {
            return JsonSerializer.Deserialize(buffer.AsSpan(0, length), Json.WebUiJson.TypeInfo<GenerationResponse>())
                ?? throw new JsonException("the answer is null.");
        }
        catch (JsonException e)
        {
            throw new WebUiProtocolException(endpoint, $"{endpoint} on {Endpoint} answered {(int)response.StatusCode} with a body that cannot be read: {Innermost(e).Message}", e);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The whole body in a rented buffer (the caller returns it): sized by Content-Length when given, else grown.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadAllAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        var buffer = pool.Rent(content.Headers.ContentLength is > 0 and < int.MaxValue and var known ? (int)known + 1 : 64 * 1024);
        var length = 0;
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = pool.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    pool.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            pool.Return(buffer);
            throw;
        }
    }

    private async Task InterruptQuietlyAsync(string endpoint, string why)
    {
        using var timeout = new CancellationTokenSource(_options.ControlAttemptTimeout * 2);
        try
        {
            await _control.InterruptAsync(timeout.Token);
            _logger.LogInformation("Sent interrupt to {Endpoint} because {Call} stopped: {Why}", Endpoint, endpoint, why);
        }
        catch (Exception e) when (e is ApiException or ApiRequestException or HttpRequestException or OperationCanceledException or TimeoutRejectedException or BrokenCircuitException)
        {
            _logger.LogWarning("Could not send interrupt to {Endpoint} after {Call} stopped ({Why}): {Error}", Endpoint, endpoint, why, e.Message);
        }
    }

    private T Unwrap<T>(string endpoint, IApiResponse<T> response)
    {
        if (response.Error is { } error)
        {
            throw Map(endpoint, error, generation: false) ?? (Exception)error;
        }

        return response.Content!;
    }

    /// <summary>Maps Refit/Polly/HTTP failures onto the client's exception types; null leaves the exception alone.</summary>
    private WebUiException? Map(string endpoint, Exception e, bool generation)
    {
        switch (e)
        {
            case WebUiException:
                return null;
            case ApiException api when (int)api.StatusCode is >= 200 and < 300:
                return new WebUiProtocolException(endpoint, $"{endpoint} on {Endpoint} answered {(int)api.StatusCode} with a body that cannot be read: {Innermost(api).Message}", api);
            case ApiException api:
                return WebUiErrorParser.Parse(endpoint, (int)api.StatusCode, api.Content, api);
            case JsonException json:
                return new WebUiProtocolException(endpoint, $"{endpoint} on {Endpoint} answered with a body that cannot be read: {json.Message}", json);
        }

        if (e is not (ApiRequestException or HttpRequestException or TimeoutRejectedException or BrokenCircuitException or TaskCanceledException or IOException))
        {
            return null;
        }

        var inner = Chain(e).ToList();
        if (inner.OfType<BrokenCircuitException>().Any())
        {
            return new WebUiTransportException(endpoint, WebUiTransportFailure.CircuitOpen, false,
                $"{endpoint}: {Endpoint} is failing repeatedly; its circuit is open and calls are refused for now.", e);
        }

        if (inner.OfType<TimeoutRejectedException>().Any() || inner.OfType<TimeoutException>().Any()
            || (inner.OfType<TaskCanceledException>().Any() && !inner.OfType<HttpRequestException>().Any()))
        {
            var limit = generation ? _options.GenerationTimeout : _options.ControlAttemptTimeout;
            return new WebUiTransportException(endpoint, WebUiTransportFailure.Timeout, generation,
                $"{endpoint}: no answer from {Endpoint} within {limit}{(generation ? "; an interrupt was sent and the call was not retried" : "")}.", e);
        }

        if (inner.OfType<SocketException>().Any(s => s.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.NetworkUnreachable or SocketError.HostUnreachable))
        {
            return new WebUiTransportException(endpoint, WebUiTransportFailure.ConnectionFailed, false,
                $"{endpoint}: cannot connect to {Endpoint}: {Innermost(e).Message}. Is the WebUI running with --api?", e);
        }

        return new WebUiTransportException(endpoint, WebUiTransportFailure.ConnectionLost, generation,
            $"{endpoint}: the connection to {Endpoint} was lost: {Innermost(e).Message}{(generation ? "; the box may still be rendering, so the call was not retried" : "")}.", e);
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    private static Exception Innermost(Exception e) => Chain(e).Last();
}
