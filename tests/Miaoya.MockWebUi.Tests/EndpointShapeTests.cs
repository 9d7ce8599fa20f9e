using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

public sealed class EndpointShapeTests
{
    [Theory]
    [InlineData(MockWebUiProfile.WebUi110)]
    [InlineData(MockWebUiProfile.WebUi18)]
    public async Task ListEndpoints_HaveWebUiShapes(MockWebUiProfile profile)
    {
        using var c = new MockClient(profile);

        var models = (await c.GetAsync("sdapi/v1/sd-models")).Json!.AsArray();
        Assert.Contains(models, m => m!["title"]!.GetValue<string>() == "chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]");
        foreach (var key in new[] { "title", "model_name", "hash", "sha256", "filename", "config" })
        {
            Assert.True(models[0]!.AsObject().ContainsKey(key), key);
        }

        var loras = (await c.GetAsync("sdapi/v1/loras")).Json!.AsArray();
        Assert.Contains(loras, l => l!["name"]!.GetValue<string>() == "miaoya_demo_face" && l["metadata"] is JsonObject && l["alias"] is not null && l["path"] is not null);

        var emb = (await c.GetAsync("sdapi/v1/embeddings")).Json!;
        Assert.NotNull(emb["loaded"]!["ng_deepnegative_v1_75t"]);
        Assert.NotNull(emb["loaded"]!["badhandv4"]);
        Assert.IsType<JsonObject>(emb["skipped"]);

        var options = (await c.GetAsync("sdapi/v1/options")).Json!;
        Assert.Equal("png", options["samples_format"]!.GetValue<string>());
        Assert.Equal(models[0]!["title"]!.GetValue<string>(), options["sd_model_checkpoint"]!.GetValue<string>());

        var scripts = (await c.GetAsync("sdapi/v1/scripts")).Json!;
        Assert.Contains(scripts["img2img"]!.AsArray(), s => s!.GetValue<string>() == "controlnet");
        Assert.Contains(scripts["txt2img"]!.AsArray(), s => s!.GetValue<string>() == "x/y/z plot");

        var ext = (await c.GetAsync("sdapi/v1/extensions")).Json!.AsArray();
        var cn = ext.Single(e => e!["name"]!.GetValue<string>() == "sd-webui-controlnet")!;
        Assert.Equal(cn["commit_hash"]!.GetValue<string>()[..8], cn["version"]!.GetValue<string>());
        Assert.Contains(ext, e => e!["name"]!.GetValue<string>() == "stable-diffusion-webui-rembg");

        var flags = (await c.GetAsync("sdapi/v1/cmd-flags")).Json!;
        Assert.True(flags["api"]!.GetValue<bool>());
        Assert.True(flags.AsObject().ContainsKey("api_auth"));

        var memory = (await c.GetAsync("sdapi/v1/memory")).Json!;
        Assert.NotNull(memory["ram"]!["total"]);
        Assert.NotNull(memory["cuda"]!["system"]!["free"]);

        Assert.NotEmpty((await c.GetAsync("sdapi/v1/sd-vae")).Json!.AsArray());
        Assert.Contains((await c.GetAsync("sdapi/v1/upscalers")).Json!.AsArray(), u => u!["name"]!.GetValue<string>() == "R-ESRGAN 4x+");
        Assert.NotEmpty((await c.GetAsync("sdapi/v1/script-info")).Json!.AsArray());

        var refresh = await c.PostAsync("sdapi/v1/refresh-checkpoints", null);
        Assert.Equal((200, "null"), (refresh.Status, refresh.Text));
    }

    [Fact]
    public async Task Samplers_DifferPerProfile_AndSchedulersOnlyOn110()
    {
        using var v110 = new MockClient(MockWebUiProfile.WebUi110);
        using var v18 = new MockClient(MockWebUiProfile.WebUi18);

        var s110 = (await v110.GetAsync("sdapi/v1/samplers")).Json!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList();
        var s18 = (await v18.GetAsync("sdapi/v1/samplers")).Json!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("DPM++ SDE", s110);
        Assert.DoesNotContain("DPM++ SDE Karras", s110);
        Assert.Contains("DPM++ SDE Karras", s18);

        var sched = await v110.GetAsync("sdapi/v1/schedulers");
        Assert.Equal(200, sched.Status);
        Assert.Contains(sched.Json!.AsArray(), s => s!["name"]!.GetValue<string>() == "karras" && s["label"]!.GetValue<string>() == "Karras");

        var missing = await v18.GetAsync("sdapi/v1/schedulers");
        Assert.Equal(404, missing.Status);
        Assert.Equal("""{"detail":"Not Found"}""", missing.Text);
    }

    [Theory]
    [InlineData(MockWebUiProfile.WebUi110, 3)]
    [InlineData(MockWebUiProfile.WebUi18, 2)]
    public async Task ControlNetListings_HaveShapes(MockWebUiProfile profile, int apiVersion)
    {
        using var c = new MockClient(profile);
        Assert.Equal(apiVersion, (await c.GetAsync("controlnet/version")).Json!["version"]!.GetValue<int>());

        var models = (await c.GetAsync("controlnet/model_list")).Json!["model_list"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
        Assert.Equal("None", models[0]);
        Assert.Contains("control_v11p_sd15_openpose [cab727d4]", models);
        Assert.Contains("control_v11p_sd15_inpaint [ebff9138]", models);

        var aliases = (await c.GetAsync("controlnet/module_list?alias_names=true")).Json!;
        var names = (await c.GetAsync("controlnet/module_list?alias_names=false")).Json!;
        Assert.Contains(aliases["module_list"]!.AsArray(), m => m!.GetValue<string>() == "depth_midas");
        Assert.Contains(names["module_list"]!.AsArray(), m => m!.GetValue<string>() == "depth");
        Assert.Equal("none", names["module_list"]![0]!.GetValue<string>());
        Assert.True(aliases["module_detail"]!["reference_only"]!["model_free"]!.GetValue<bool>());

        Assert.Equal(3, (await c.GetAsync("controlnet/settings")).Json!["control_net_unit_count"]!.GetValue<int>());
        var types = (await c.GetAsync("controlnet/control_types")).Json!["control_types"]!;
        Assert.Contains(types["OpenPose"]!["module_list"]!.AsArray(), m => m!.GetValue<string>() == "openpose_full");
    }

    [Fact]
    public async Task Progress_InterruptAndSkip_AnswerLikeWebUi()
    {
        using var c = new MockClient();
        var idle = (await c.GetAsync("sdapi/v1/progress")).Json!;
        Assert.Equal(0, idle["progress"]!.GetValue<double>());
        Assert.Equal(0, idle["state"]!["job_count"]!.GetValue<int>());
        Assert.True(idle.AsObject().ContainsKey("current_image"));

        var interrupt = await c.PostAsync("sdapi/v1/interrupt", null);
        Assert.Equal((200, "{}"), (interrupt.Status, interrupt.Text));
        Assert.Equal(1, c.Server.InterruptCount);
        Assert.True((await c.GetAsync("sdapi/v1/progress")).Json!["state"]!["interrupted"]!.GetValue<bool>());

        var skip = await c.PostAsync("sdapi/v1/skip", null);
        Assert.Equal((200, "null"), (skip.Status, skip.Text));
    }

    [Fact]
    public async Task Progress_DuringSlowGeneration_ReportsJob()
    {
        using var c = new MockClient(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(3000) });
        await c.GetAsync("sdapi/v1/progress"); // warm up Kestrel/WireMock so the first poll is not delayed by JIT
        var generation = c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["prompt"] = "x", ["width"] = 64, ["height"] = 64, ["steps"] = 20 });
        JsonNode busy;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            busy = (await c.GetAsync("sdapi/v1/progress")).Json!;
        }
        while (busy["state"]!["job_count"]!.GetValue<int>() == 0 && sw.ElapsedMilliseconds < 3000);
        Assert.Equal(1, busy["state"]!["job_count"]!.GetValue<int>());
        Assert.Equal(20, busy["state"]!["sampling_steps"]!.GetValue<int>());
        var first = busy["progress"]!.GetValue<double>();
        await Task.Delay(200);
        var later = (await c.GetAsync("sdapi/v1/progress")).Json!["progress"]!.GetValue<double>();
        Assert.InRange(first, 0.0, 0.99);
        Assert.True(later > first, $"{later} > {first}");
        var done = await generation;
        Assert.True(done.Status == 200, done.Text);
        Assert.Equal(0, (await c.GetAsync("sdapi/v1/progress")).Json!["state"]!["job_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task UnknownRoute_Is404Detail_AndAdminIsReachable()
    {
        using var c = new MockClient();
        var nf = await c.GetAsync("sdapi/v1/nope");
        Assert.Equal((404, """{"detail":"Not Found"}"""), (nf.Status, nf.Text));
        await c.GetAsync("sdapi/v1/sd-models");

        var admin = await c.GetAsync("__admin/requests");
        Assert.Equal(200, admin.Status);
        Assert.Contains("/sdapi/v1/sd-models", admin.Text, StringComparison.Ordinal);
        Assert.Contains(c.Server.WireMock.LogEntries, e => e.RequestMessage!.Path == "/sdapi/v1/sd-models");
    }

    [Fact]
    public void ParseProfile_AcceptsNames_AndListsValidOnes()
    {
        Assert.Equal(MockWebUiProfile.WebUi110, MockWebUiOptions.ParseProfile("webui-1.10"));
        Assert.Equal(MockWebUiProfile.WebUi18, MockWebUiOptions.ParseProfile("WEBUI-1.8"));
        var e = Assert.Throws<ArgumentException>(() => MockWebUiOptions.ParseProfile("webui-1.9"));
        Assert.Contains("webui-1.10", e.Message, StringComparison.Ordinal);
        Assert.Contains("webui-1.8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_PostStoresValues_AndRejectsUnknownCheckpoint()
    {
        using var c = new MockClient();
        var ok = await c.PostAsync("sdapi/v1/options", new JsonObject { ["sd_model_checkpoint"] = "v1-5-pruned-emaonly", ["CLIP_stop_at_last_layers"] = 2 });
        Assert.Equal((200, "null"), (ok.Status, ok.Text));
        var options = (await c.GetAsync("sdapi/v1/options")).Json!;
        Assert.Equal("v1-5-pruned-emaonly.safetensors [6ce0161689]", options["sd_model_checkpoint"]!.GetValue<string>());
        Assert.Equal(2, options["CLIP_stop_at_last_layers"]!.GetValue<int>());

        var bad = await c.PostAsync("sdapi/v1/options", new JsonObject { ["sd_model_checkpoint"] = "nope.safetensors" });
        Assert.Equal(500, bad.Status);
        Assert.Equal("RuntimeError", bad.Json!["error"]!.GetValue<string>());
        Assert.Equal("model 'nope.safetensors' not found", bad.Json["errors"]!.GetValue<string>());
        Assert.Equal("", bad.Json["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Interrogate_ValidatesModel_AndReturnsCaption()
    {
        using var c = new MockClient();
        var image = TestImages.AstronautBase64();
        var clip = await c.PostAsync("sdapi/v1/interrogate", new JsonObject { ["image"] = image, ["model"] = "clip" });
        Assert.False(string.IsNullOrEmpty(clip.Json!["caption"]!.GetValue<string>()));
        var dd = await c.PostAsync("sdapi/v1/interrogate", new JsonObject { ["image"] = image, ["model"] = "deepdanbooru" });
        Assert.Contains("1girl", dd.Json!["caption"]!.GetValue<string>(), StringComparison.Ordinal);
        var bad = await c.PostAsync("sdapi/v1/interrogate", new JsonObject { ["image"] = image, ["model"] = "blip9" });
        Assert.Equal(404, bad.Status);
        Assert.Equal("Model not found", bad.Json!["detail"]!.GetValue<string>());
    }
}
