using Miaoya.Imaging;
using Miaoya.MockWebUi;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline.Tests;

/// <summary>Each recipe end to end against the mock: what the box received, what the run folder holds.</summary>
public sealed class RunTests
{
    [Fact]
    public async Task V1Face_SendsTheRecipeAndChangesOnlyTheFace()
    {
        using var h = new PipelineHarness();

        var result = await h.Pipeline.RunAsync(h.Request("v1-face"));

        // What the box received.
        var tagger = Assert.Single(h.Received("/tagger/v1/interrogate"));
        Assert.NotNull(tagger["threshold"]);
        var sent = Assert.Single(h.Received("/sdapi/v1/img2img"));
        Assert.Equal("DPM++ SDE", sent["sampler_name"]!.GetValue<string>());
        Assert.Equal("karras", sent["scheduler"]!.GetValue<string>());
        Assert.Equal(30, sent["steps"]!.GetValue<int>());
        Assert.True(sent["mask_blur"]!.GetValue<int>() >= 16);
        Assert.Equal(1, sent["inpainting_fill"]!.GetValue<int>());
        Assert.Equal(1234, sent["seed"]!.GetValue<long>());
        Assert.Equal("chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]", sent["override_settings"]!["sd_model_checkpoint"]!.GetValue<string>());
        Assert.Contains("ng_deepnegative_v1_75t", sent["negative_prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("badhandv4", sent["negative_prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("<lora:miaoya_demo_face:0.9>", sent["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        var units = sent["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray();
        // Models go by the exact name the box lists (the recipe says the stem): the one form A1111 and Forge both accept.
        Assert.Equal(
            [("reference_only", "None", 0.5), ("softedge_pidinet", "control_v11p_sd15_softedge [a8575a2a]", 0.75), ("openpose_faceonly", "control_v11p_sd15_openpose [cab727d4]", 0.7)],
            units.Select(u => (u!["module"]!.GetValue<string>(), u["model"]!.GetValue<string>(), u["weight"]!.GetValue<double>())));
        Assert.All(units, u => Assert.True(u!["enabled"]!.GetValue<bool>()));
        Assert.Equal(0, h.Count("/sdapi/v1/options"));

        // What the run folder holds.
        var manifest = result.Manifest;
        Assert.Equal(RunStatus.Succeeded, manifest.Status);
        Assert.Equal(["interrogate", "mask", "inpaint"], manifest.Steps.Select(s => s.Name));
        Assert.Equal("A1111", manifest.Server!.Backend);
        Assert.All(manifest.Steps, s => Assert.Equal(StepStatus.Succeeded, s.Status));
        var request = manifest.Step("inpaint")!.Request!;
        Assert.Equal("template.png", request["init_images"]![0]!["file"]!.GetValue<string>());
        Assert.Equal("mask.png", request["mask"]!["file"]!.GetValue<string>());
        Assert.Equal(1234, manifest.Step("inpaint")!.Response!["seed"]!.GetValue<long>());
        Assert.True(File.Exists(Path.Combine(result.Folder, "prompt.txt")));
        var final = await EncodedImage.ReadFileAsync(result.FinalImage);
        Assert.Contains("Steps: 30", PngText.Read(final, PngText.ParametersKeyword), StringComparison.Ordinal);

        // Masked face changed, far corner untouched.
        using var template = PipelineHarness.LoadRgb(Path.Combine(result.Folder, "template.png"));
        using var output = PipelineHarness.LoadRgb(result.FinalImage);
        using var mask = SixLabors.ImageSharp.Image.Load<L8>(Path.Combine(result.Folder, "mask.png"));
        Assert.True(mask[227, 130].PackedValue > 200, "the mask covers the face");
        Assert.Equal(0, mask[10, 500].PackedValue);
        Assert.True(Distance(output[227, 130], template[227, 130]) > 30);
        Assert.Equal(template[10, 500], output[10, 500]);
    }

    [Fact]
    public async Task V1FaceNeck_On18_UsesCompositeSamplerAndAMaskBelowTheChin()
    {
        using var h = new PipelineHarness(MockWebUiProfile.WebUi18);

        var result = await h.Pipeline.RunAsync(h.Request("v1-face-neck"));

        var sent = Assert.Single(h.Received("/sdapi/v1/img2img"));
        Assert.Equal("DPM++ SDE Karras", sent["sampler_name"]!.GetValue<string>());
        Assert.Null(sent["scheduler"]);
        using var mask = SixLabors.ImageSharp.Image.Load<L8>(Path.Combine(result.Folder, "mask.png"));
        var face = result.Manifest.Step("mask")!.ResultAs<MaskResult>()!.Face!.Box;
        var belowChin = (int)(face[1] + face[3] + (0.4f * face[3]));
        Assert.True(mask[(int)(face[0] + (face[2] / 2)), belowChin].PackedValue > 200, "face+neck covers the neck");
    }

    [Fact]
    public async Task V2_SecondPassIsWholeImageWithDepthAndSoftedge_AndRecordsDeltaE()
    {
        using var h = new PipelineHarness();

        var result = await h.Pipeline.RunAsync(h.Request("v2", overrides: ["img2img.skip_if_delta_e_below=0"]));

        var calls = h.Received("/sdapi/v1/img2img");
        Assert.Equal(2, calls.Count);
        var second = calls[1];
        Assert.Null(second["mask"]);
        Assert.Equal(
            ["depth_midas", "softedge_pidinet"],
            second["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray().Select(u => u!["module"]!.GetValue<string>()));
        Assert.True(second["denoising_strength"]!.GetValue<double>() < 0.45);
        var img2img = result.Manifest.Step("img2img")!;
        Assert.Equal(StepStatus.Succeeded, img2img.Status);
        Assert.Equal("inpaint.png", img2img.Request!["init_images"]![0]!["file"]!.GetValue<string>());
        Assert.NotNull(img2img.ResultAs<GenerationResult>()!.DeltaEBefore);
        Assert.NotNull(img2img.ResultAs<GenerationResult>()!.DeltaEAfter);
    }

    [Fact]
    public async Task OpenposeMaskSource_UsesTheBoxsFaceKeypoints()
    {
        using var h = new PipelineHarness();

        var result = await h.Pipeline.RunAsync(h.Request("v1-face", overrides: ["mask.source=openpose"]));

        var detect = Assert.Single(h.Received("/controlnet/detect"));
        Assert.Equal("openpose_faceonly", detect["controlnet_module"]!.GetValue<string>());
        var mask = result.Manifest.Step("mask")!;
        Assert.Equal("openpose", mask.ResultAs<MaskResult>()!.Source);
        var box = mask.ResultAs<MaskResult>()!.Face!.Box;
        Assert.InRange(box[0] + (box[2] / 2), 190, 265);
        Assert.InRange(box[1] + (box[3] / 2), 90, 170);
    }

    [Fact]
    public async Task V2_SkipsTheSecondPass_WhenDeltaEIsAlreadyLow()
    {
        using var h = new PipelineHarness();

        var result = await h.Pipeline.RunAsync(h.Request("v2", overrides: ["img2img.skip_if_delta_e_below=100"]));

        Assert.Single(h.Received("/sdapi/v1/img2img"));
        var step = result.Manifest.Step("img2img")!;
        Assert.Equal(StepStatus.Skipped, step.Status);
        Assert.Contains("under skip_if_delta_e_below 100", step.ResultAs<GenerationResult>()!.SkippedBecause, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
    }

    [Fact]
    public async Task FailedRun_Resumes_WithoutRedoingFinishedSteps()
    {
        using var h = new PipelineHarness();
        var request = h.Request("v2", overrides: ["img2img.skip_if_delta_e_below=0"]);
        h.Server.AddFault(new MockFault("/sdapi/v1/img2img") { StatusCode = 500, Times = 1 });

        // First img2img call (inpaint) fails.
        var failure = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));
        Assert.Equal("inpaint", failure.Step);
        Assert.Equal(request.OutputDirectory, failure.RunFolder);
        var manifest = await new RunFolder(request.OutputDirectory).LoadManifestAsync(default);
        Assert.Equal(RunStatus.Failed, manifest.Status);
        Assert.Equal(StepStatus.Succeeded, manifest.Step("mask")!.Status);

        var resumed = await h.Pipeline.ResumeAsync(request.OutputDirectory);

        Assert.Equal(RunStatus.Succeeded, resumed.Manifest.Status);
        Assert.Single(h.Received("/tagger/v1/interrogate"));
        Assert.Equal(3, h.Count("/sdapi/v1/img2img"));

        // A finished run resumes to itself.
        var again = await h.Pipeline.ResumeAsync(request.OutputDirectory);
        Assert.Equal(resumed.FinalImage, again.FinalImage);
        Assert.Equal(3, h.Count("/sdapi/v1/img2img"));
    }

    [Fact]
    public async Task Replay_ResendsTheRecordedRequests_AndGetsTheSameImages()
    {
        using var h = new PipelineHarness();
        var result = await h.Pipeline.RunAsync(h.Request("v2", overrides: ["img2img.skip_if_delta_e_below=0"]) with { Seed = -1 });
        var replayed = await Replay.RunAsync(h.Client, Path.Combine(result.Folder, "manifest.json"), Path.Combine(h.Folder, "replay"));

        Assert.Equal(["inpaint", "img2img"], replayed.Select(r => r.Step));
        Assert.All(replayed, r => Assert.True(r.SameAsRecorded, $"{r.Step} differs"));
        var sent = h.Received("/sdapi/v1/img2img");
        Assert.Equal(4, sent.Count);
        Assert.Equal(sent[0]["prompt"]!.GetValue<string>(), sent[2]["prompt"]!.GetValue<string>());
    }

    [Fact]
    public async Task ExistingRunFolder_IsNotOverwritten()
    {
        using var h = new PipelineHarness();
        var request = h.Request("v1-face");
        await h.Pipeline.RunAsync(request);

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));

        Assert.Contains("--resume", error.Message, StringComparison.Ordinal);
    }

    private static int Distance(Rgb24 a, Rgb24 b) => Math.Abs(a.R - b.R) + Math.Abs(a.G - b.G) + Math.Abs(a.B - b.B);
}
