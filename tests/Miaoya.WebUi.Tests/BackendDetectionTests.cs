using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Miaoya.WebUi.Tests;

/// <summary>
/// The probe tells backends apart by routes only one of them has, served here by a bare stub with exactly those routes
/// (the mock's profiles test the same end to end). Each case names the upstream route table it follows.
/// </summary>
public sealed class BackendDetectionTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task A1111_with_the_extension_answers_controlnet_version__CN_56cec5b_scripts_api_py()
    {
        CommonRoutes();
        Get("/controlnet/version", """{"version": 3}""");
        Get("/controlnet/settings", """{"control_net_unit_count": 3}""");
        Get("/controlnet/model_list", """{"model_list": ["control_v11p_sd15_softedge [a8575a2a]"]}""");
        Get("/controlnet/module_list", """{"module_list": ["pidinet"], "module_detail": {}}""", alias: false);
        Get("/controlnet/module_list", """{"module_list": ["softedge_pidinet"], "module_detail": {}}""", alias: true);

        var caps = await ProbeAsync();

        Assert.Equal(WebUiBackend.A1111, caps.Backend);
        Assert.Equal(3, caps.ControlNetApiVersion);
        Assert.Equal("softedge_pidinet", caps.ResolveControlNetModule("pidinet"));
    }

    [Fact]
    public async Task Forge_has_model_list_and_sd_modules_but_no_controlnet_version__forge_dfdcbab_modules_api_api_py_228()
    {
        CommonRoutes();
        Get("/sdapi/v1/sd-modules", "[]");
        Get("/controlnet/model_list", """{"model_list": ["None", "control_v11p_sd15_softedge [a8575a2a]"]}""");
        Get("/controlnet/module_list", """{"module_list": ["None", "softedge_pidinet", "reference_only"]}""");
        Get("/sdapi/v1/options", """{"control_net_unit_count": 4, "forge_preset": "sd"}""");

        var caps = await ProbeAsync();

        Assert.Equal(WebUiBackend.Forge, caps.Backend);
        Assert.True(caps.HasControlNet);
        Assert.True(caps.HasBuiltInControlNet);
        Assert.Null(caps.ControlNetApiVersion);
        Assert.Equal(4, caps.ControlNetUnitCount);
        Assert.Equal(["None", "softedge_pidinet", "reference_only"], caps.ControlNetModules);
        Assert.Equal("Forge", caps.WebUiVersion);
    }

    [Fact]
    public async Task ReForge_has_model_list_and_sd_vae_but_neither_controlnet_version_nor_sd_modules__reForge_3b56b26_modules_api_api_py()
    {
        CommonRoutes();
        Get("/sdapi/v1/sd-vae", "[]");
        Get("/controlnet/model_list", """{"model_list": ["None"]}""");
        Get("/controlnet/module_list", """{"module_list": ["None", "reference_only"]}""");
        Get("/sdapi/v1/options", "{}");

        var caps = await ProbeAsync();

        Assert.Equal(WebUiBackend.ReForge, caps.Backend);
        Assert.Equal(3, caps.ControlNetUnitCount); // the option's default when the box has not set it (scripts/controlnet.py:71)
    }

    [Fact]
    public async Task SdNext_answers_sdapi_v1_version_and_no_controlnet__sdnext_431bcc3_modules_api_api_py()
    {
        CommonRoutes();
        Get("/sdapi/v1/version", """{"app": "sd.next", "updated": "2025-03-02", "hash": "431bcc3", "url": "https://github.com/vladmandic/sdnext"}""");

        var caps = await ProbeAsync();

        Assert.Equal(WebUiBackend.SdNext, caps.Backend);
        Assert.Equal("2025-03-02 431bcc3", caps.BackendVersion);
        Assert.False(caps.HasControlNet);
        Assert.Contains("/sdapi/v1/control", caps.ControlNetAbsence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A1111_without_the_extension_is_A1111_without_ControlNet()
    {
        CommonRoutes();

        var caps = await ProbeAsync();

        Assert.Equal(WebUiBackend.A1111, caps.Backend);
        Assert.False(caps.HasControlNet);
        Assert.Contains("/controlnet/version answers 404", caps.ControlNetAbsence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComfyUI_is_recognised_by_system_stats_and_refused_with_a_clear_message__ComfyUI_server_py_system_stats()
    {
        Get("/system_stats", """{"system": {"os": "posix", "comfyui_version": "0.3.40"}, "devices": [{"name": "cuda:0", "type": "cuda"}]}""");

        using var client = new TestClient(new Uri(_server.Urls![0]));
        var error = await Assert.ThrowsAsync<WebUiUnsupportedBackendException>(() => client.Client.ProbeAsync());

        Assert.Equal(WebUiBackend.ComfyUi, error.Backend);
        Assert.Contains("is a ComfyUI server", error.Message, StringComparison.Ordinal);
        Assert.Equal(FailureKind.Box, Failures.Classify(error));
    }

    [Fact]
    public async Task A_server_with_neither_API_keeps_the_404()
    {
        using var client = new TestClient(new Uri(_server.Urls![0]));

        var error = await Assert.ThrowsAsync<WebUiApiException>(() => client.Client.ProbeAsync());

        Assert.Equal(404, error.StatusCode);
    }

    private async Task<WebUiCapabilities> ProbeAsync()
    {
        using var client = new TestClient(new Uri(_server.Urls![0]));
        return await client.Client.ProbeAsync();
    }

    /// <summary>The /sdapi/v1 routes every backend shares, with just enough in them for a probe.</summary>
    private void CommonRoutes()
    {
        Get("/sdapi/v1/samplers", """[{"name": "DPM++ SDE", "aliases": [], "options": {}}]""");
        Get("/sdapi/v1/schedulers", """[{"name": "karras", "label": "Karras"}, {"name": "kl_optimal", "label": "KL Optimal"}]""");
        Get("/sdapi/v1/sd-models", "[]");
        Get("/sdapi/v1/loras", "[]");
        Get("/sdapi/v1/embeddings", """{"loaded": {}, "skipped": {}}""");
        Get("/sdapi/v1/script-info", "[]");
        Get("/sdapi/v1/extensions", "[]");
    }

    private void Get(string path, string body, bool? alias = null)
    {
        var request = Request.Create().WithPath(path).UsingGet();
        if (alias is { } a)
        {
            request = request.WithParam("alias_names", true, a ? "true" : "false");
        }

        _server.Given(request).RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody(body));
    }
}
