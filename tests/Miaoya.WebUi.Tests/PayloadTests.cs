using System.Text.Json.Nodes;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Json;

namespace Miaoya.WebUi.Tests;

/// <summary>What the client puts on the wire, checked against approved JSON files.</summary>
public sealed class PayloadTests
{
    private static readonly Miaoya.Imaging.EncodedImage Template = TestImages.Png(4, 4, 10);
    private static readonly Miaoya.Imaging.EncodedImage Mask = TestImages.Png(4, 4, 255);

    [Fact]
    public void V1Inpaint_OnWebUi110_MatchesApprovedJson()
    {
        var request = Payloads.V1Inpaint(Capabilities.WebUi110, Template, Mask);
        var json = WebUiJson.Serialize(request);

        // base64 '+' and prompt '<' go out as themselves, not as six-byte escapes.
        Assert.DoesNotContain("\\u002B", json, StringComparison.Ordinal);
        Assert.Contains("<lora:miaoya_demo_face:0.9>", json, StringComparison.Ordinal);
        Approvals.Verify("img2img-v1-inpaint.webui-1.10", json);
    }

    [Fact]
    public void V1Inpaint_OnWebUi18_UsesCompositeSamplerAndNoScheduler()
    {
        var request = Payloads.V1Inpaint(Capabilities.WebUi18, Template, Mask);

        Approvals.Verify("img2img-v1-inpaint.webui-1.8", WebUiJson.Serialize(request));
    }

    [Fact]
    public void Txt2Img_WithLargeSeed_MatchesApprovedJson()
    {
        var request = new Txt2ImgRequest
        {
            Prompt = "portrait photo",
            Seed = 4_294_967_294,
            SamplerName = "Euler a",
            Steps = 20,
            Width = 512,
            Height = 768,
            OverrideSettings = new Dictionary<string, JsonNode?> { ["sd_model_checkpoint"] = "chilloutmix_NiPrunedFp32Fix", ["CLIP_stop_at_last_layers"] = 2 },
        };

        Approvals.Verify("txt2img-basic", WebUiJson.Serialize(request));
    }

    [Fact]
    public void Img2Img_AlwaysSendsEveryInpaintField()
    {
        var request = new Img2ImgRequest { InitImages = [Template], Steps = 20, Width = 64, Height = 64 };

        var json = JsonNode.Parse(WebUiJson.Serialize(request))!.AsObject();

        // The API's defaults differ from the UI's; none may be left to the server. A1111 v1.10.1: API steps 50,
        // inpainting_fill 0, inpaint_full_res true, padding 0 (modules/processing.py:155, 1567-1569); UI 20,
        // "original", "Whole picture" (modules/processing_scripts/sampler.py:27, modules/ui.py:702, 706).
        foreach (var field in new[] { "mask_blur", "inpainting_fill", "inpaint_full_res", "inpaint_full_res_padding", "inpainting_mask_invert", "resize_mode", "mask_round", "steps", "seed" })
        {
            Assert.True(json.ContainsKey(field), $"{field} missing");
        }

        Assert.Equal(1, json["inpainting_fill"]!.GetValue<int>());
        Assert.False(json["inpaint_full_res"]!.GetValue<bool>());
        Assert.False(json.ContainsKey("mask"));
    }

    [Fact]
    public void ControlNetUnit_WritesStringEnumsEnabledAndImageKey()
    {
        var unit = new ControlNetUnit
        {
            Module = "depth_midas",
            Model = "control_v11f1p_sd15_depth",
            Image = Template,
            ResizeMode = ControlNetResizeMode.ResizeAndFill,
            ControlMode = ControlNetControlMode.ControlNetIsMoreImportant,
        };
        var request = new Txt2ImgRequest { Steps = 1, Width = 8, Height = 8, AlwaysOnScripts = new AlwaysOnScripts { ControlNet = new ControlNetScriptArgs([unit]) } };

        var json = JsonNode.Parse(WebUiJson.Serialize(request))!;
        var written = json["alwayson_scripts"]!["controlnet"]!["args"]![0]!.AsObject();

        Assert.True(written["enabled"]!.GetValue<bool>());
        Assert.Equal("Resize and Fill", written["resize_mode"]!.GetValue<string>());
        Assert.Equal("ControlNet is more important", written["control_mode"]!.GetValue<string>());
        Assert.Equal(Template.ToBase64(), written["image"]!.GetValue<string>());
        Assert.False(written.ContainsKey("input_image"));
        Assert.False(written.ContainsKey("mask"));
    }

    [Fact]
    public void OtherAlwaysOnScripts_ArePassedThrough()
    {
        var scripts = new AlwaysOnScripts { Other = new JsonObject { ["ADetailer"] = new JsonObject { ["args"] = new JsonArray(true, false) } } };
        var request = new Txt2ImgRequest { Steps = 1, Width = 8, Height = 8, AlwaysOnScripts = scripts };

        var json = JsonNode.Parse(WebUiJson.Serialize(request))!;

        Assert.True(json["alwayson_scripts"]!["ADetailer"]!["args"]![0]!.GetValue<bool>());
        Assert.Equal(["ADetailer"], scripts.Keys);
    }

    [Theory]
    [InlineData(2.5, 0, 1, "weight: 2.5 is outside 0..2.")]
    [InlineData(1, 0.8, 0.2, "guidance_start: 0.8 is after guidance_end 0.2.")]
    public void ControlNetUnit_Validate_NamesTheField(double weight, double start, double end, string expected)
    {
        var unit = new ControlNetUnit { Module = "depth_midas", Model = "control_v11f1p_sd15_depth", Weight = weight, GuidanceStart = start, GuidanceEnd = end };

        Assert.Contains(expected, unit.Validate());
    }

    [Fact]
    public void ControlNetUnit_Validate_RefusesModelOnReferenceAndMaskOnNonInpaint()
    {
        var reference = new ControlNetUnit { Module = "reference_only", Model = "control_v11p_sd15_openpose" };
        var openpose = new ControlNetUnit { Module = "openpose_faceonly", Model = "control_v11p_sd15_openpose", Mask = Mask };
        var inpaint = new ControlNetUnit { Module = "inpaint_only", Model = "control_v11p_sd15_inpaint", Mask = Mask };

        Assert.Contains(reference.Validate(), p => p.StartsWith("model: module reference_only takes no model", StringComparison.Ordinal));
        Assert.Contains(openpose.Validate(), p => p.StartsWith("mask_image: module openpose_faceonly is not an inpaint module", StringComparison.Ordinal));
        Assert.Empty(inpaint.Validate());
    }
}
