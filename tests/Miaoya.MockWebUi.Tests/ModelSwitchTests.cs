using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

/// <summary>The loaded checkpoint as A1111 v1.10.1's process_images handles it (see MockWebUiServer.Models.cs), and a box going down.</summary>
public sealed class ModelSwitchTests
{
    private const string Chilloutmix = "chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]";
    private const string Sd15 = "v1-5-pruned-emaonly.safetensors [6ce0161689]";

    private static JsonObject Txt2Img(string? checkpoint, bool? restore)
    {
        var body = new JsonObject { ["prompt"] = "x", ["steps"] = 1, ["width"] = 64, ["height"] = 64, ["sampler_name"] = "Euler" };
        if (checkpoint is not null)
        {
            body["override_settings"] = new JsonObject { ["sd_model_checkpoint"] = checkpoint };
        }

        if (restore is { } r)
        {
            body["override_settings_restore_afterwards"] = r;
        }

        return body;
    }

    private static async Task<string> OptionCheckpointAsync(MockClient c) =>
        (await c.GetAsync("sdapi/v1/options")).Json!["sd_model_checkpoint"]!.GetValue<string>();

    private static async Task<string> RenderedWithAsync(MockClient c, JsonObject body)
    {
        var (status, json, text) = await c.PostAsync("sdapi/v1/txt2img", body);
        Assert.True(status == 200, text);
        return JsonNode.Parse(json!["info"]!.GetValue<string>())!["sd_model_name"]!.GetValue<string>();
    }

    [Fact]
    public async Task Restore_afterwards_true_sets_the_option_back_but_keeps_the_model_until_a_request_without_checkpoint()
    {
        using var c = new MockClient();
        Assert.Equal((Chilloutmix, 0), (c.Server.LoadedCheckpoint, c.Server.ModelSwitches));

        Assert.Equal("v1-5-pruned-emaonly", await RenderedWithAsync(c, Txt2Img(Sd15, restore: null)));
        Assert.Equal((Sd15, 1), (c.Server.LoadedCheckpoint, c.Server.ModelSwitches));
        Assert.Equal(Chilloutmix, await OptionCheckpointAsync(c)); // the option lies about what is loaded

        // The same override again: already loaded, no switch.
        await RenderedWithAsync(c, Txt2Img(Sd15, restore: true));
        Assert.Equal(1, c.Server.ModelSwitches);

        // A request that names no checkpoint (or an unknown one) loads the option's: the switch back.
        Assert.Equal("chilloutmix_NiPrunedFp32Fix", await RenderedWithAsync(c, Txt2Img("no-such-model", restore: true)));
        Assert.Equal((Chilloutmix, 2), (c.Server.LoadedCheckpoint, c.Server.ModelSwitches));
    }

    [Fact]
    public async Task Restore_afterwards_false_is_sticky_the_option_names_the_loaded_model()
    {
        using var c = new MockClient();

        await RenderedWithAsync(c, Txt2Img(Sd15, restore: false));
        Assert.Equal((Sd15, 1), (c.Server.LoadedCheckpoint, c.Server.ModelSwitches));
        Assert.Equal(Sd15, await OptionCheckpointAsync(c));

        Assert.Equal("v1-5-pruned-emaonly", await RenderedWithAsync(c, Txt2Img(null, restore: null)));
        Assert.Equal(1, c.Server.ModelSwitches);
    }

    [Fact]
    public async Task Post_options_with_a_checkpoint_loads_it_at_once()
    {
        using var c = new MockClient();

        var (status, _, text) = await c.PostAsync("sdapi/v1/options", new JsonObject { ["sd_model_checkpoint"] = "v1-5-pruned-emaonly" });

        Assert.True(status == 200, text);
        Assert.Equal((Sd15, 1), (c.Server.LoadedCheckpoint, c.Server.ModelSwitches));
    }

    [Fact]
    public async Task With_model_switch_latency_each_change_of_checkpoint_counts_once()
    {
        using var c = new MockClient(new MockWebUiOptions { ModelSwitchLatency = TimeSpan.FromMilliseconds(1) });

        await RenderedWithAsync(c, Txt2Img(Sd15, restore: false));
        await RenderedWithAsync(c, Txt2Img(Sd15, restore: false));
        await RenderedWithAsync(c, Txt2Img(Chilloutmix, restore: false));

        Assert.Equal(2, c.Server.ModelSwitches);
        Assert.Equal(3, c.Server.CompletedJobs("txt2img"));
    }

    [Fact]
    public async Task A_box_that_goes_down_drops_every_connection_until_it_comes_back()
    {
        using var c = new MockClient(new MockWebUiOptions { Latency = TimeSpan.FromSeconds(30) });
        var rendering = c.PostAsync("sdapi/v1/txt2img", Txt2Img(null, null));
        for (var i = 0; i < 3000 && !c.Server.JobRunning; i++)
        {
            await Task.Delay(10); // hang guard: 30 s
        }

        Assert.True(c.Server.JobRunning);

        c.Server.GoDown();

        await Assert.ThrowsAsync<HttpRequestException>(() => rendering);
        await Assert.ThrowsAsync<HttpRequestException>(() => c.GetAsync("sdapi/v1/progress"));
        Assert.True(c.Server.IsDown);
        Assert.Equal((0, 0), (c.Server.CompletedJobs("txt2img"), c.Server.InterruptCount));

        c.Server.ComeBack();
        Assert.Equal(200, (await c.GetAsync("sdapi/v1/progress")).Status);
    }
}
