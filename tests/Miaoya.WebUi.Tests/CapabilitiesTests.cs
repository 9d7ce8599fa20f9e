using System.Text.Json.Nodes;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;

namespace Miaoya.WebUi.Tests;

/// <summary>
/// Name rules per server version: the server silently replaces unknown names (A1111 v1.10.1
/// modules/sd_samplers.py:100-123, modules/processing.py:828-830; sd-webui-controlnet v1.1.455
/// scripts/controlnet.py:76-89), so we refuse them.
/// </summary>
public sealed class CapabilitiesTests
{
    [Fact]
    public void ResolveSampler_CompositeName_IsSplitFor110And19()
    {
        Assert.Equal(("DPM++ SDE", "karras"), Capabilities.WebUi110.ResolveSampler("DPM++ SDE Karras"));
        Assert.Equal(("DPM++ SDE", "karras"), Capabilities.WebUi19.ResolveSampler("DPM++ SDE Karras"));
    }

    [Fact]
    public void ResolveSampler_SplitName_IsJoinedFor18()
    {
        Assert.Equal(("DPM++ SDE Karras", (string?)null), Capabilities.WebUi18.ResolveSampler("DPM++ SDE", "Karras"));
        Assert.Equal(("DPM++ SDE Karras", (string?)null), Capabilities.WebUi18.ResolveSampler("DPM++ SDE Karras"));
        Assert.Equal(("Euler a", (string?)null), Capabilities.WebUi18.ResolveSampler("Euler a", "automatic"));
    }

    [Fact]
    public void ResolveSampler_Typo_IsRefusedWithClosestNames()
    {
        var error = Assert.Throws<WebUiRequestException>(() => Capabilities.WebUi110.ResolveSampler("DPM++ SDE Karas"));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("sampler_name: \"DPM++ SDE Karas\" is not a sampler", problem, StringComparison.Ordinal);
        Assert.Contains("silently use DPM++ 2M", problem, StringComparison.Ordinal);
        Assert.Contains("\"DPM++ SDE\"", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveSampler_UnknownScheduler_IsRefused()
    {
        var error = Assert.Throws<WebUiRequestException>(() => Capabilities.WebUi110.ResolveSampler("DPM++ SDE", "karass"));

        Assert.Contains(error.Problems, p => p.StartsWith("scheduler: \"karass\" is not a scheduler", StringComparison.Ordinal) && p.Contains("\"Karras\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]")]
    [InlineData("chilloutmix_NiPrunedFp32Fix")]
    [InlineData("chilloutmix_NiPrunedFp32Fix.safetensors")]
    [InlineData("fc2511737a")]
    public void FindCheckpoint_AcceptsTheIdsA1111Accepts(string id)
    {
        Assert.Equal("chilloutmix_NiPrunedFp32Fix", Capabilities.WebUi110.FindCheckpoint(id)?.ModelName);
    }

    [Theory]
    [InlineData("control_v11p_sd15_openpose [cab727d4]", "control_v11p_sd15_openpose [cab727d4]")]
    [InlineData("control_v11p_sd15_openpose", "control_v11p_sd15_openpose [cab727d4]")]
    [InlineData("depth", "control_v11f1p_sd15_depth [cfd03158]")]
    [InlineData("control_v11p_sd15_openpose [deadbeef]", null)]
    [InlineData("control_v11p_sd15_canny", null)]
    public void FindControlNetModel_FollowsControlNetResolution(string name, string? expected)
    {
        Assert.Equal(expected, Capabilities.WebUi110.FindControlNetModel(name));
    }

    [Fact]
    public void Check_ValidV1Payload_HasNoProblems()
    {
        var request = Payloads.V1Inpaint(Capabilities.WebUi110, TestImages.Png(), TestImages.Png());

        Assert.Empty(Capabilities.WebUi110.Check(request));
        Assert.Empty(Capabilities.WebUi18.Check(Payloads.V1Inpaint(Capabilities.WebUi18, TestImages.Png(), TestImages.Png())));
    }

    [Fact]
    public void Check_ListsEveryUnknownNameAtOnce()
    {
        var image = TestImages.Png();
        var request = Payloads.V1Inpaint(Capabilities.WebUi110, image, image) with
        {
            Prompt = "portrait, <lora:someone_else:0.8>",
            OverrideSettings = new Dictionary<string, JsonNode?> { ["sd_model_checkpoint"] = "chilloutmix" },
            AlwaysOnScripts = new AlwaysOnScripts
            {
                ControlNet = new ControlNetScriptArgs(
                [
                    new ControlNetUnit { Module = "softedge_pidinett", Model = "control_v11p_sd15_softedge" },
                    new ControlNetUnit { Module = "openpose_faceonly", Model = "control_v11p_sd15_openpose [deadbeef]" },
                    new ControlNetUnit { Module = "reference_only" },
                    new ControlNetUnit { Module = "depth_midas", Model = "control_v11f1p_sd15_depth" },
                ]),
                Other = new JsonObject { ["adetailer"] = new JsonObject { ["args"] = new JsonArray() } },
            },
        };

        var problems = Capabilities.WebUi110.Check(request);

        Assert.Contains(problems, p => p.StartsWith("override_settings.sd_model_checkpoint: unknown checkpoint \"chilloutmix\"", StringComparison.Ordinal)
            && p.Contains("chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("prompt: LoRA \"someone_else\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.controlnet.args: 4 units, but the server has 3 slots", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.controlnet.args[0].module: \"softedge_pidinett\"", StringComparison.Ordinal)
            && p.Contains("\"softedge_pidinet\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.controlnet.args[1].model: \"control_v11p_sd15_openpose [deadbeef]\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.adetailer: the server has no always-on script", StringComparison.Ordinal));
        Assert.Equal(6, problems.Count);
    }

    [Fact]
    public void Check_SchedulerByLabelOn19_IsFine()
    {
        var request = new Txt2ImgRequest { Steps = 1, Width = 8, Height = 8, SamplerName = "DPM++ SDE", Scheduler = "Karras" };

        Assert.Empty(Capabilities.WebUi19.Check(request));
        Assert.Contains(Capabilities.WebUi19.Check(request with { SamplerName = "DPM++ SDE Karras", Scheduler = null }), p => p.Contains("must be sent as \"DPM++ SDE\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_SplitNamesOn18_AreRefused()
    {
        var request = new Txt2ImgRequest { Steps = 1, Width = 8, Height = 8, SamplerName = "DPM++ SDE", Scheduler = "karras" };

        var problems = Capabilities.WebUi18.Check(request);

        Assert.Contains(problems, p => p.Contains("must be sent as \"DPM++ SDE Karras\"", StringComparison.Ordinal));
    }
}
