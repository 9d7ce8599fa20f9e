using System.Text.Json.Nodes;
using Miaoya.Recipes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline.Tests;

/// <summary>The finishing passes (detail, restore, upscale) against the mock: what each sends, that its output is used, and its skip rule.</summary>
public class FinishingPassTests
{
    [Fact]
    public async Task V2Finish_RendersTheSmallFaceAtNativeSize_RestoresIt_AndUpscales_EachPassUsingTheOneBefore()
    {
        using var h = new PipelineHarness();
        var result = await h.Pipeline.RunAsync(h.Request("v2-finish"));

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        Assert.Equal(
            [StepName.Interrogate, StepName.Mask, StepName.Inpaint, StepName.Img2Img, StepName.Detail, StepName.Restore, StepName.Upscale],
            result.Manifest.Steps.Select(s => s.Name));

        // detail: the astronaut's face box is about 3% of the 512×512 image, under the recipe's 4%, so it runs.
        var detailStep = result.Manifest.Step(StepName.Detail)!;
        Assert.Equal(StepStatus.Succeeded, detailStep.Status);
        var detail = detailStep.ResultAs<DetailResult>()!;
        Assert.InRange(detail.FaceAreaFraction!.Value, 0.01, 0.04);
        Assert.Equal(512, detail.RenderedSize);
        var region = detail.Region!;
        var img2img = h.Received("/sdapi/v1/img2img");
        Assert.Equal(3, img2img.Count); // inpaint, img2img, detail
        var sent = img2img[2];
        Assert.Equal((512, 512), (sent["width"]!.GetValue<int>(), sent["height"]!.GetValue<int>()));
        Assert.NotNull(sent["mask"]);
        Assert.Equal(0.35, sent["denoising_strength"]!.GetValue<double>());
        Assert.Equal(SizeOf(sent["init_images"]![0]!), (512, 512));
        var units = sent["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray();
        Assert.Equal(["softedge_pidinet", "openpose_faceonly"], units.Select(u => u!["module"]!.GetValue<string>()));
        Assert.Contains("<lora:miaoya_demo_face:0.9>", sent["prompt"]!.GetValue<string>(), StringComparison.Ordinal);

        // The rendered crop is pasted back inside the face region only: every pixel outside it is img2img's own.
        using (var before = Image.Load<Rgb24>(Path.Combine(result.Folder, "img2img.png")))
        using (var after = Image.Load<Rgb24>(Path.Combine(result.Folder, "detail.png")))
        {
            var area = new Rectangle(region[0], region[1], region[2], region[3]);
            var (outside, inside) = Differences(before, after, area);
            Assert.Equal(0, outside);
            Assert.True(inside > 100, $"only {inside} pixels of the face region changed");
        }

        // restore: the face region alone goes to the extras API with CodeFormer on and no upscaler; the mock's restorer sharpens.
        var extras = h.Received("/sdapi/v1/extra-single-image");
        Assert.Equal(2, extras.Count);
        var restoreSent = extras[0];
        Assert.Equal((1.0, 0.5, 0.0), (restoreSent["codeformer_visibility"]!.GetValue<double>(), restoreSent["codeformer_weight"]!.GetValue<double>(), restoreSent["gfpgan_visibility"]!.GetValue<double>()));
        Assert.Equal("None", restoreSent["upscaler_1"]!.GetValue<string>());
        var restore = result.Manifest.Step(StepName.Restore)!.ResultAs<RestoreResult>()!;
        Assert.Equal(StepStatus.Succeeded, result.Manifest.Step(StepName.Restore)!.Status);
        Assert.Equal(SizeOf(restoreSent["image"]!), (restore.Region![2], restore.Region[3]));
        Assert.True(restore.SharpnessAfter > restore.SharpnessBefore, $"sharpness {restore.SharpnessBefore} -> {restore.SharpnessAfter}");

        // upscale: the restored image, by one factor to a 2048 px long side; final.png is its result.
        var upscaleSent = extras[1];
        Assert.Equal("R-ESRGAN 4x+", upscaleSent["upscaler_1"]!.GetValue<string>());
        Assert.Equal(4.0, upscaleSent["upscaling_resize"]!.GetValue<double>());
        Assert.Equal(Pixels(Path.Combine(result.Folder, "restore.png")), Pixels(upscaleSent["image"]!));
        using var final = Image.Load<Rgb24>(Path.Combine(result.Folder, StepRunner.FinalFileName));
        Assert.Equal((2048, 2048), (final.Width, final.Height));
        var upscale = result.Manifest.Step(StepName.Upscale)!.ResultAs<UpscaleResult>()!;
        Assert.Equal([2048, 2048], upscale.SizeAfter);

        // The manifest records what each pass sent, with images as run files.
        Assert.Equal("restore-input.png", result.Manifest.Step(StepName.Restore)!.Request!["image"]!["file"]!.GetValue<string>());
        Assert.Equal("detail-input.png", detailStep.Request!["init_images"]![0]!["file"]!.GetValue<string>());
    }

    [Fact]
    public async Task EachPass_IsSkippedByItsMeasure_AndSaysWhy()
    {
        using var h = new PipelineHarness();
        var request = h.Request("v2-finish", overrides: ["detail.skip_if_face_above=0.01", "restore.skip_if_sharpness_above=0", "upscale.long_side=512"]);
        var result = await h.Pipeline.RunAsync(request);

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        var detail = result.Manifest.Step(StepName.Detail)!;
        Assert.Equal(StepStatus.Skipped, detail.Status);
        Assert.Contains("more than skip_if_face_above 1%", detail.ResultAs<DetailResult>()!.SkippedBecause, StringComparison.Ordinal);
        var restore = result.Manifest.Step(StepName.Restore)!;
        Assert.Equal(StepStatus.Skipped, restore.Status);
        Assert.NotNull(restore.ResultAs<RestoreResult>()!.SharpnessRatio);
        Assert.Contains("at least skip_if_sharpness_above 0", restore.ResultAs<RestoreResult>()!.SkippedBecause, StringComparison.Ordinal);
        var upscale = result.Manifest.Step(StepName.Upscale)!;
        Assert.Equal(StepStatus.Skipped, upscale.Status);
        Assert.Equal("the image's longer side is 512 px, at least long_side 512", upscale.ResultAs<UpscaleResult>()!.SkippedBecause);
        Assert.Equal(2, h.Count("/sdapi/v1/img2img"));
        Assert.Equal(0, h.Count("/sdapi/v1/extra-single-image"));
        Assert.Equal(Pixels(Path.Combine(result.Folder, "img2img.png")), Pixels(Path.Combine(result.Folder, StepRunner.FinalFileName)));
    }

    [Fact]
    public async Task ABoxWithoutTheUpscalerOrTheRestorer_IsRefusedBeforeAnyGeneration_NamingTheFieldAndTheClosestNames()
    {
        using var h = new PipelineHarness(mock: o =>
        {
            o.Without.Add("R-ESRGAN 4x+");
            o.Without.Add("CodeFormer");
            return o;
        });

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v2-finish")));

        Assert.Contains("upscale.upscaler: upscaler \"R-ESRGAN 4x+\" is not offered by the box", e.Message, StringComparison.Ordinal);
        Assert.Contains("restore.model: face restorer CodeFormer is not offered by the box (it has GFPGAN)", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Count("/sdapi/v1/img2img"));
    }

    [Fact]
    public async Task AResumedRun_DoesNotRedoTheFinishingPasses()
    {
        using var h = new PipelineHarness();
        var first = await h.Pipeline.RunAsync(h.Request("v2-finish"));
        var calls = h.Count("/sdapi/v1/extra-single-image");

        var again = await h.Pipeline.ResumeAsync(first.Folder);

        Assert.Equal(RunStatus.Succeeded, again.Manifest.Status);
        Assert.Equal(calls, h.Count("/sdapi/v1/extra-single-image"));
        Assert.Equal(Pixels(Path.Combine(first.Folder, "upscale.png")), Pixels(Path.Combine(again.Folder, StepRunner.FinalFileName)));
    }

    [Fact]
    public async Task Explain_ShowsEachPassAndItsRequest()
    {
        var template = await Miaoya.Imaging.EncodedImage.ReadFileAsync(PipelineHarness.Astronaut);
        var recipe = RecipeLoader.Load(PipelineHarness.RecipePath("v2-finish"));

        var text = RecipeExplainer.Explain(recipe, template, LoraChoice.Parse("miaoya_demo_face"), [], Miaoya.WebUi.SamplerDialect.Split);
        var json = RecipeExplainer.ExplainJson(recipe, template, LoraChoice.Parse("miaoya_demo_face"), [], Miaoya.WebUi.SamplerDialect.Split);

        Assert.Contains("steps      interrogate → mask → inpaint → img2img → detail → restore → upscale", text, StringComparison.Ordinal);
        Assert.Contains("5. detail       when the face box covers at most 4% of the image", text, StringComparison.Ordinal);
        Assert.Contains("6. restore      CodeFormer on the face region", text, StringComparison.Ordinal);
        Assert.Contains("7. upscale      R-ESRGAN 4x+ to a longer side of 2048 px", text, StringComparison.Ordinal);
        var requests = json["requests"]!.AsArray();
        Assert.Equal(["inpaint", "img2img", "detail", "restore", "upscale"], requests.Select(r => r!["step"]!.GetValue<string>()));
        Assert.Equal("/sdapi/v1/extra-single-image", requests[3]!["path"]!.GetValue<string>());
        Assert.Equal("<restore-input.png>", requests[3]!["body"]!["image"]!.GetValue<string>());
        Assert.Equal("<detail-input.png>", requests[2]!["body"]!["init_images"]![0]!.GetValue<string>());
        Assert.Contains(json["needs"]!.AsArray(), n => n!["kind"]!.GetValue<string>() == "face_restorer" && n["name"]!.GetValue<string>() == "CodeFormer");
    }

    private static string Pixels(string path)
    {
        using var image = Image.Load<Rgb24>(path);
        return image.GetPixelMemoryGroupHash();
    }

    private static string Pixels(JsonNode base64)
    {
        using var image = Image.Load<Rgb24>(Miaoya.Imaging.EncodedImage.FromBase64(base64.GetValue<string>()).Bytes.Span);
        return image.GetPixelMemoryGroupHash();
    }

    private static (int Width, int Height) SizeOf(JsonNode base64)
    {
        using var image = Miaoya.Imaging.EncodedImage.FromBase64(base64.GetValue<string>()).Decode();
        return (image.Width, image.Height);
    }

    private static (int Outside, int Inside) Differences(Image<Rgb24> a, Image<Rgb24> b, Rectangle area)
    {
        int outside = 0, inside = 0;
        for (var y = 0; y < a.Height; y++)
        {
            for (var x = 0; x < a.Width; x++)
            {
                if (!a[x, y].Equals(b[x, y]))
                {
                    if (area.Contains(x, y))
                    {
                        inside++;
                    }
                    else
                    {
                        outside++;
                    }
                }
            }
        }

        return (outside, inside);
    }
}
