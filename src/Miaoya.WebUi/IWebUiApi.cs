using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;
using Refit;

namespace Miaoya.WebUi;

/// <summary>
/// The WebUI routes, as Refit generates them (A1111 modules/api/api.py:211-251, CN scripts/api.py,
/// tagger tagger/api.py, rembg scripts/api.py). Used through <see cref="WebUiClient"/>, which adds
/// validation, error mapping and interrupt-on-cancel.
/// </summary>
internal interface IWebUiApi
{
    [Post("/sdapi/v1/txt2img")]
    Task<GenerationResponse> Txt2ImgAsync([Body] Txt2ImgRequest request, CancellationToken cancellationToken);

    [Post("/sdapi/v1/img2img")]
    Task<GenerationResponse> Img2ImgAsync([Body] Img2ImgRequest request, CancellationToken cancellationToken);

    [Get("/sdapi/v1/options")]
    Task<IReadOnlyDictionary<string, JsonElement>> GetOptionsAsync(CancellationToken cancellationToken);

    [Post("/sdapi/v1/options")]
    Task SetOptionsAsync([Body] IReadOnlyDictionary<string, JsonNode?> options, CancellationToken cancellationToken);

    [Get("/sdapi/v1/sd-models")]
    Task<IReadOnlyList<SdModel>> GetSdModelsAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/sd-vae")]
    Task<IReadOnlyList<SdVae>> GetSdVaeAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/loras")]
    Task<IReadOnlyList<LoraInfo>> GetLorasAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/embeddings")]
    Task<EmbeddingsResponse> GetEmbeddingsAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/samplers")]
    Task<IReadOnlyList<SamplerInfo>> GetSamplersAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/schedulers")]
    Task<IApiResponse<IReadOnlyList<SchedulerInfo>>> GetSchedulersAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/upscalers")]
    Task<IReadOnlyList<UpscalerInfo>> GetUpscalersAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/face-restorers")]
    Task<IReadOnlyList<FaceRestorerInfo>> GetFaceRestorersAsync(CancellationToken cancellationToken);

    [Post("/sdapi/v1/extra-single-image")]
    Task<ExtrasSingleImageResponse> ExtraSingleImageAsync([Body] ExtrasSingleImageRequest request, CancellationToken cancellationToken);

    [Get("/sdapi/v1/progress")]
    Task<ProgressResponse> GetProgressAsync([AliasAs("skip_current_image")] bool skipCurrentImage, CancellationToken cancellationToken);

    [Post("/sdapi/v1/interrupt")]
    Task InterruptAsync(CancellationToken cancellationToken);

    [Post("/sdapi/v1/skip")]
    Task SkipAsync(CancellationToken cancellationToken);

    [Post("/sdapi/v1/interrogate")]
    Task<InterrogateResponse> InterrogateAsync([Body] InterrogateRequest request, CancellationToken cancellationToken);

    [Post("/sdapi/v1/png-info")]
    Task<PngInfoResponse> PngInfoAsync([Body] PngInfoRequest request, CancellationToken cancellationToken);

    [Post("/sdapi/v1/refresh-checkpoints")]
    Task RefreshCheckpointsAsync(CancellationToken cancellationToken);

    [Post("/sdapi/v1/refresh-loras")]
    Task RefreshLorasAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/scripts")]
    Task<ScriptsList> GetScriptsAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/script-info")]
    Task<IReadOnlyList<ScriptInfo>> GetScriptInfoAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/extensions")]
    Task<IReadOnlyList<ExtensionInfo>> GetExtensionsAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/memory")]
    Task<MemoryResponse> GetMemoryAsync(CancellationToken cancellationToken);

    [Get("/sdapi/v1/cmd-flags")]
    Task<IReadOnlyDictionary<string, JsonElement>> GetCmdFlagsAsync(CancellationToken cancellationToken);

    [Get("/controlnet/version")]
    Task<IApiResponse<ControlNetVersion>> GetControlNetVersionAsync(CancellationToken cancellationToken);

    /// <summary>SD.Next only (modules/api/api.py); A1111, Forge and reForge answer 404.</summary>
    [Get("/sdapi/v1/version")]
    Task<IApiResponse<JsonElement>> GetSdNextVersionAsync(CancellationToken cancellationToken);

    /// <summary>Forge only (forge@dfdcbab modules/api/api.py:228, in place of <c>/sdapi/v1/sd-vae</c>).</summary>
    [Get("/sdapi/v1/sd-modules")]
    Task<IApiResponse<JsonElement>> GetForgeSdModulesAsync(CancellationToken cancellationToken);

    /// <summary>ComfyUI only (comfyanonymous/ComfyUI server.py <c>/system_stats</c>), asked when the WebUI routes are missing.</summary>
    [Get("/system_stats")]
    Task<IApiResponse<JsonElement>> GetComfyUiSystemStatsAsync(CancellationToken cancellationToken);

    [Get("/controlnet/model_list")]
    Task<ControlNetModelList> GetControlNetModelsAsync(bool update, CancellationToken cancellationToken);

    [Get("/controlnet/module_list")]
    Task<ControlNetModuleList> GetControlNetModulesAsync([AliasAs("alias_names")] bool aliasNames, CancellationToken cancellationToken);

    [Get("/controlnet/control_types")]
    Task<ControlNetControlTypes> GetControlNetControlTypesAsync(CancellationToken cancellationToken);

    [Get("/controlnet/settings")]
    Task<ControlNetSettings> GetControlNetSettingsAsync(CancellationToken cancellationToken);

    [Post("/controlnet/detect")]
    Task<ControlNetDetectResponse> DetectAsync([Body] ControlNetDetectRequest request, CancellationToken cancellationToken);

    [Get("/tagger/v1/interrogators")]
    Task<TaggerInterrogators> GetTaggerInterrogatorsAsync(CancellationToken cancellationToken);

    [Post("/tagger/v1/interrogate")]
    Task<TaggerInterrogateResponse> TaggerInterrogateAsync([Body] TaggerInterrogateRequest request, CancellationToken cancellationToken);

    [Post("/rembg")]
    Task<RembgResponse> RembgAsync([Body] RembgRequest request, CancellationToken cancellationToken);
}
