using System.Net;
using System.Text.Json;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;
using Microsoft.Extensions.Logging;
using Refit;

namespace Miaoya.WebUi;

/// <summary>The probe: which backend answers and what it offers, read once and reused (<see cref="WebUiCapabilities"/>).</summary>
public sealed partial class WebUiClient
{
    /// <summary>The server's capabilities, probed once and reused for <see cref="WebUiOptions.CapabilitiesLifetime"/>.</summary>
    public async Task<WebUiCapabilities> GetCapabilitiesAsync(CancellationToken cancellationToken = default)
    {
        // Two callers racing past a stale entry both probe; that costs a few GETs, not correctness.
        return Fresh() ?? await ProbeAsync(cancellationToken);
    }

    /// <summary>
    /// Asks the server what it has: which backend answers (A1111, Forge, reForge, SD.Next), sampler dialect, ControlNet API
    /// and models, tagger, scripts, checkpoints, LoRAs. A ComfyUI server is recognised and refused.
    /// </summary>
    /// <exception cref="WebUiUnsupportedBackendException">ComfyUI answers at the URL.</exception>
    public async Task<WebUiCapabilities> ProbeAsync(CancellationToken cancellationToken = default)
    {
        // One call first, so an unreachable box or wrong credentials give one clear error rather than a burst of them.
        var samplerList = await GetSamplersOrRecogniseAsync(cancellationToken);
        var schedulers = GetSchedulersAsync(cancellationToken);
        var models = GetSdModelsAsync(cancellationToken);
        var loras = GetLorasAsync(cancellationToken);
        var embeddings = GetEmbeddingsAsync(cancellationToken);
        var scriptInfo = GetScriptInfoAsync(cancellationToken);
        var extensions = GetExtensionsAsync(cancellationToken);
        var controlNet = GetControlNetVersionAsync(cancellationToken);
        var sdNextVersion = RouteAsync("GET /sdapi/v1/version", api => api.GetSdNextVersionAsync(cancellationToken));
        var forgeModules = RouteAsync("GET /sdapi/v1/sd-modules", api => api.GetForgeSdModulesAsync(cancellationToken));
        var tagger = OptionalAsync(() => GetTaggerInterrogatorsAsync(cancellationToken));
        var upscalers = OptionalAsync(() => GetUpscalersAsync(cancellationToken));
        var restorers = OptionalAsync(() => GetFaceRestorersAsync(cancellationToken));
        await Task.WhenAll(schedulers, models, loras, embeddings, scriptInfo, extensions, controlNet, sdNextVersion, forgeModules, tagger, upscalers, restorers);

        var schedulerList = await schedulers;
        var extensionList = await extensions;
        var cnVersion = await controlNet;

        // Forge and reForge answer /controlnet/model_list but not /controlnet/version (forge@dfdcbab and
        // reForge@3b56b26 extensions-builtin/sd_forge_controlnet/lib_controlnet/api.py); only Forge replaced
        // /sdapi/v1/sd-vae by /sdapi/v1/sd-modules (forge modules/api/api.py:228; reForge keeps sd-vae).
        var builtInControlNet = cnVersion is null && await sdNextVersion is null
            ? await OptionalAsync(() => GetControlNetModelsAsync(false, cancellationToken))
            : null;
        var backend = await sdNextVersion is not null ? WebUiBackend.SdNext
            : cnVersion is not null ? WebUiBackend.A1111
            : await forgeModules is not null ? WebUiBackend.Forge
            : builtInControlNet is not null ? WebUiBackend.ReForge
            : WebUiBackend.A1111;

        var capabilities = new WebUiCapabilities
        {
            BaseUrl = Endpoint.BaseUrl,
            Backend = backend,
            BackendVersion = await sdNextVersion is { } v ? SdNextVersionOf(v) : null,
            SamplerDialect = DialectOf(samplerList, schedulerList),
            Samplers = samplerList,
            Schedulers = schedulerList ?? [],
            Checkpoints = await models,
            Loras = await loras,
            Embeddings = (await embeddings).Loaded.Keys.ToArray(),
            AlwaysOnScripts = (await scriptInfo).Where(s => s.IsAlwayson).Select(s => s.Name.ToLowerInvariant()).Distinct().ToArray(),
            Extensions = extensionList,
            TaggerModels = (await tagger)?.Models ?? [],
            TaggerFlavor = TaggerFlavorOf(extensionList),
            HasRembg = extensionList.Any(e => e.Enabled && e.Name.Contains("rembg", StringComparison.OrdinalIgnoreCase)),
            Upscalers = (await upscalers)?.Select(u => u.Name).ToArray() ?? [],
            FaceRestorers = (await restorers)?.Select(r => r.Name).ToArray() ?? [],
        };

        if (cnVersion is { } version)
        {
            var modelList = GetControlNetModelsAsync(false, cancellationToken);
            var names = GetControlNetModulesAsync(false, cancellationToken);
            var labels = GetControlNetModulesAsync(true, cancellationToken);
            var settings = GetControlNetSettingsAsync(cancellationToken);
            await Task.WhenAll(modelList, names, labels, settings);
            capabilities = capabilities with
            {
                ControlNetApiVersion = version.Version,
                ControlNetModels = (await modelList).ModelList,
                ControlNetModules = (await names).ModuleList.Concat((await labels).ModuleList).Distinct().ToArray(),
                ControlNetModuleLabels = LabelsOf((await names).ModuleList, (await labels).ModuleList),
                ControlNetUnitCount = (await settings).ControlNetUnitCount,
            };
        }
        else if (builtInControlNet is { } forgeModels)
        {
            // Forge's module_list takes no alias_names and answers UI labels only (lib_controlnet/api.py:47-56); its unit
            // count is the control_net_unit_count option (scripts/controlnet.py:71, default 3); there is no /controlnet/settings.
            var modules = GetControlNetModulesAsync(true, cancellationToken);
            var options = GetOptionsAsync(cancellationToken);
            await Task.WhenAll(modules, options);
            capabilities = capabilities with
            {
                HasBuiltInControlNet = true,
                ControlNetModels = forgeModels.ModelList,
                ControlNetModules = (await modules).ModuleList,
                ControlNetUnitCount = (await options).TryGetValue("control_net_unit_count", out var count) && count.ValueKind == JsonValueKind.Number
                    ? count.GetInt32()
                    : 3,
            };
        }

        _logger.LogInformation(
            "Probed {Endpoint}: {Backend} {Version}, {Samplers} samplers, ControlNet {ControlNet}, tagger {Tagger}",
            Endpoint, backend.DisplayName(), capabilities.WebUiVersion, capabilities.Samplers.Count,
            capabilities.ControlNetApiVersion is { } api ? $"API {api}" : capabilities.HasControlNet ? "built in" : "absent", capabilities.TaggerFlavor);
        _capabilities = (capabilities, _time.GetTimestamp());
        return capabilities;
    }

    /// <summary>The sampler list; when the WebUI routes are missing, says what answers instead if it is ComfyUI.</summary>
    private async Task<IReadOnlyList<SamplerInfo>> GetSamplersOrRecogniseAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await GetSamplersAsync(cancellationToken);
        }
        catch (WebUiApiException e) when (e.StatusCode is 404 or 405)
        {
            if (await RouteAsync("GET /system_stats", api => api.GetComfyUiSystemStatsAsync(cancellationToken)) is { ValueKind: JsonValueKind.Object } stats
                && stats.TryGetProperty("system", out _) && stats.TryGetProperty("devices", out _))
            {
                throw new WebUiUnsupportedBackendException(
                    "GET /sdapi/v1/samplers",
                    WebUiBackend.ComfyUi,
                    $"{Endpoint.BaseUrl} is a ComfyUI server (GET /system_stats answers, /sdapi/v1 does not). Miaoya drives the "
                    + "sd-webui API (A1111, Forge, reForge, SD.Next); ComfyUI's node-graph API is not supported yet. Point --webui at a WebUI box.");
            }

            throw;
        }
    }

    /// <summary>A route that only some backends have: its JSON, or null when the server answers 404 (or 405).</summary>
    private Task<JsonElement?> RouteAsync(string endpoint, Func<IWebUiApi, Task<IApiResponse<JsonElement>>> call) =>
        ControlAsync(endpoint, async api =>
        {
            using var response = await call(api);
            return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed ? (JsonElement?)null : Unwrap(endpoint, response);
        });

    /// <summary>"app version (date, hash)" from SD.Next's /sdapi/v1/version, whichever of its fields are there.</summary>
    private static string SdNextVersionOf(JsonElement version)
    {
        string? Field(string name) => version.ValueKind == JsonValueKind.Object && version.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
        var parts = new[] { Field("version"), Field("updated"), Field("hash") }.Where(p => !string.IsNullOrWhiteSpace(p)).ToArray();
        return parts.Length == 0 ? "version unknown" : string.Join(' ', parts);
    }

    /// <summary>
    /// Internal name → UI label, when the two module lists pair up (CN 1.1.455 internal_controlnet/external_code.py:350-361:
    /// module_list answers the same sorted preprocessors by name or by label, alias_names choosing which).
    /// </summary>
    private static Dictionary<string, string> LabelsOf(IReadOnlyList<string> names, IReadOnlyList<string> labels) =>
        names.Count != labels.Count
            ? new Dictionary<string, string>()
            : names.Zip(labels).Where(p => p.First != p.Second).GroupBy(p => p.First, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Second, StringComparer.Ordinal);

    private WebUiCapabilities? Fresh() =>
        _capabilities is { } entry && _time.GetElapsedTime(entry.At) < _options.CapabilitiesLifetime ? entry.Capabilities : null;

    /// <summary>
    /// Sampler naming per version: no schedulers route means ≤ 1.9.0 (A1111 added GET /sdapi/v1/schedulers in 1.9.1,
    /// CHANGELOG.md, #15577), and composite names in the sampler list mean ≤ 1.8 (v1.8.0
    /// modules/sd_samplers_kdiffusion.py:11); the schedulers added in 1.10.0 (KL Optimal, Align Your Steps, ...;
    /// v1.10.1 modules/sd_schedulers.py:130-143) mark 1.10+.
    /// </summary>
    private static SamplerDialect DialectOf(IReadOnlyList<SamplerInfo> samplers, IReadOnlyList<SchedulerInfo>? schedulers)
    {
        if (schedulers is null)
        {
            return samplers.Any(s => s.Name.EndsWith(" Karras", StringComparison.Ordinal)) ? SamplerDialect.Combined : SamplerDialect.Split;
        }

        string[] added110 = ["kl_optimal", "align_your_steps", "simple", "normal", "ddim", "beta"];
        return schedulers.Any(s => added110.Contains(s.Name)) ? SamplerDialect.SplitOrCombined : SamplerDialect.Split;
    }

    private static TaggerFlavor TaggerFlavorOf(IReadOnlyList<ExtensionInfo> extensions)
    {
        var tagger = extensions.FirstOrDefault(e => e.Name.Contains("tagger", StringComparison.OrdinalIgnoreCase));
        if (tagger?.Remote is not { } remote)
        {
            return TaggerFlavor.Unknown;
        }

        return remote.Contains("toriato", StringComparison.OrdinalIgnoreCase) ? TaggerFlavor.Toriato : TaggerFlavor.Picobyte;
    }

    private static async Task<T?> OptionalAsync<T>(Func<Task<T>> call)
        where T : class
    {
        try
        {
            return await call();
        }
        catch (WebUiApiException e) when (e.StatusCode == 404)
        {
            return null;
        }
    }
}
