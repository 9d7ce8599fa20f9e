using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;

namespace Miaoya.WebUi.Tests;

/// <summary>Representative requests shaped like the product's V1 inpaint step.</summary>
internal static class Payloads
{
    public static Img2ImgRequest V1Inpaint(WebUiCapabilities capabilities, EncodedImage template, EncodedImage mask)
    {
        var (sampler, scheduler) = capabilities.ResolveSampler("DPM++ SDE Karras");
        return new Img2ImgRequest
        {
            Prompt = "1girl, solo, portrait, upper_body, <lora:miaoya_demo_face:0.9>, miaoya_face",
            NegativePrompt = "ng_deepnegative_v1_75t, badhandv4",
            Seed = 3_000_000_000,
            SamplerName = sampler,
            Scheduler = scheduler,
            Steps = 30,
            CfgScale = 7,
            Width = 512,
            Height = 512,
            DenoisingStrength = 0.45,
            OverrideSettings = new Dictionary<string, JsonNode?> { ["sd_model_checkpoint"] = "chilloutmix_NiPrunedFp32Fix" },
            InitImages = [template],
            Mask = mask,
            MaskBlur = 16,
            InpaintingFill = InpaintingFill.Original,
            InpaintFullRes = false,
            InpaintFullResPadding = 32,
            AlwaysOnScripts = new AlwaysOnScripts
            {
                ControlNet = new ControlNetScriptArgs(
                [
                    new ControlNetUnit { Module = "reference_only", Weight = 0.5, Image = template },
                    new ControlNetUnit { Module = "softedge_pidinet", Model = "control_v11p_sd15_softedge", Weight = 0.75, Image = template },
                    new ControlNetUnit { Module = "openpose_faceonly", Model = "control_v11p_sd15_openpose", Weight = 0.7, Image = template, SaveDetectedMap = false },
                ]),
            },
        };
    }
}
