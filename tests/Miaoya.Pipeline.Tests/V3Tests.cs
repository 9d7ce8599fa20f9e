using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline.Tests;

/// <summary>V3 against the mock with the stand-in face models: local swap, then one img2img pass.</summary>
public sealed class V3Tests
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "StandInModels");

    private static string FacePhoto(PipelineHarness h) => h.Write("face.png", s =>
    {
        using var face = Image.Load<Rgb24>(PipelineHarness.Astronaut);
        face.Mutate(c => c.Flip(FlipMode.Horizontal));
        face.SaveAsPng(s);
    });

    private static RunRequest V3(PipelineHarness h, params string[] overrides) =>
        h.Request("v3", overrides: ["faceswap.detector=blazeface", .. overrides]) with
        {
            FacePath = FacePhoto(h),
            ModelsDirectory = Models,
            StandInModels = true,
        };

    [Fact]
    public async Task V3_SwapsLocally_ThenSendsOneWholeImagePass()
    {
        using var h = new PipelineHarness();

        var result = await h.Pipeline.RunAsync(V3(h));

        Assert.Equal(["interrogate", "faceswap", "img2img"], result.Manifest.Steps.Select(s => s.Name));
        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        var swap = result.Manifest.Step("faceswap")!;
        var swapped = swap.ResultAs<FaceSwapStepResult>()!;
        Assert.Equal("blazeface", swapped.Detector);
        Assert.Contains("stand-in", swapped.Models, StringComparison.Ordinal);
        Assert.Equal("faceswap.png", swap.Outputs[0].File);
        Assert.Null(swapped.ColourCorrection);
        Assert.InRange(swapped.DeltaE, 0, 200);
        Assert.Equal("face.png", result.Manifest.Inputs.Face!.File);

        var sent = Assert.Single(h.Received("/sdapi/v1/img2img"));
        Assert.Null(sent["mask"]);
        Assert.Equal(
            ["reference_only", "softedge_pidinet", "depth_midas"],
            sent["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray().Select(u => u!["module"]!.GetValue<string>()));
        Assert.Contains("<lora:miaoya_demo_face:0.9>", sent["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
        var request = result.Manifest.Step("img2img")!.Request!;
        Assert.Equal("faceswap.png", request["init_images"]![0]!["file"]!.GetValue<string>());
        Assert.Equal(0, h.Count("/controlnet/detect"));
    }

    [Fact]
    public async Task V3_ColourCorrection_IsRecorded()
    {
        using var h = new PipelineHarness();

        var result = await h.Pipeline.RunAsync(V3(h, "faceswap.colour_correction=true"));

        var correction = result.Manifest.Step("faceswap")!.ResultAs<FaceSwapStepResult>()!.ColourCorrection!;
        Assert.Equal(3, correction.TemplateMeanLab.Count);
    }

    [Fact]
    public async Task V3_WithoutFaceOrModels_SaysWhatToGive()
    {
        using var h = new PipelineHarness();

        var noFace = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(V3(h) with { FacePath = null }));
        var noModels = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(V3(h) with { ModelsDirectory = h.Folder, OutputDirectory = Path.Combine(h.Folder, "b") }));

        Assert.Contains("--face", noFace.Message, StringComparison.Ordinal);
        Assert.Contains("missing w600k_r50.onnx, inswapper_128.onnx", noModels.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task V3_WrongModelFile_FailsTheStepNamingTheFile()
    {
        using var h = new PipelineHarness();
        var models = Path.Combine(h.Folder, "models");
        Directory.CreateDirectory(models);
        File.Copy(Path.Combine(Models, "w600k_r50.onnx"), Path.Combine(models, "w600k_r50.onnx"));
        File.Copy(Path.Combine(Models, "w600k_r50.onnx"), Path.Combine(models, "inswapper_128.onnx"));
        var request = V3(h) with { ModelsDirectory = models };

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));

        Assert.Equal("faceswap", error.Step);
        Assert.Contains("inswapper_128.onnx", error.Message, StringComparison.Ordinal);
        var manifest = await new RunFolder(request.OutputDirectory).LoadManifestAsync(default);
        Assert.Equal(RunStatus.Failed, manifest.Status);
    }

    [Fact]
    public async Task V3_ResumesAfterAFailedPass_WithoutSwappingAgain()
    {
        using var h = new PipelineHarness();
        h.Server.AddFault(new Miaoya.MockWebUi.MockFault("/sdapi/v1/img2img") { StatusCode = 500, Times = 1 });
        var request = V3(h);

        await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));
        var swapped = await File.ReadAllBytesAsync(Path.Combine(request.OutputDirectory, "faceswap.png"));
        var resumed = await h.Pipeline.ResumeAsync(request.OutputDirectory);

        Assert.Equal(RunStatus.Succeeded, resumed.Manifest.Status);
        Assert.Equal(swapped, await File.ReadAllBytesAsync(Path.Combine(request.OutputDirectory, "faceswap.png")));
        Assert.Equal(2, h.Count("/sdapi/v1/img2img"));
    }
}
