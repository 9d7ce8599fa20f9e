using Miaoya.MockWebUi;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline.Tests;

/// <summary>Identity without training (v4 recipes, the identity step) and best-of-N by likeness, against the mock.</summary>
public sealed class IdentityRunTests
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "StandInModels");

    private static string Coffee => Path.Combine(AppContext.BaseDirectory, "Fixtures", "coffee.png");

    /// <summary>A photo of the person: the astronaut, mirrored, shifted and tilted a little, on a grey border.</summary>
    private static string FacePhoto(PipelineHarness h, string name, float degrees = 4, int pad = 40) => h.Write(name, s =>
    {
        using var photo = Image.Load<Rgb24>(PipelineHarness.Astronaut);
        photo.Mutate(c => c.Flip(FlipMode.Horizontal).Pad(photo.Width + pad, photo.Height + pad, Color.Gray).Rotate(degrees));
        photo.SaveAsPng(s);
    });

    private static PipelineHarness FourSlots(MockWebUiProfile profile = MockWebUiProfile.WebUi110) =>
        new(profile, mock: o =>
        {
            o.ControlNetUnitCount = 4;
            return o;
        });

    private static RunRequest V4(PipelineHarness h, string recipe, IReadOnlyList<string> faces, params string[] overrides) =>
        h.Request(recipe, overrides: overrides) with { Lora = null, FacePaths = faces, ModelsDirectory = Models, StandInModels = true };

    [Fact]
    public async Task FaceId_SendsTheIdentityUnitFirst_WithTheAlignedCropAndItsCompanionLora_WithoutAPersonLora()
    {
        using var h = FourSlots();

        var result = await h.Pipeline.RunAsync(V4(h, "v4-faceid", [FacePhoto(h, "a.png")]));

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        Assert.Equal(["interrogate", "identity", "mask", "inpaint"], result.Manifest.Steps.Select(s => s.Name));
        var identity = result.Manifest.Step("identity")!;
        Assert.Equal("identity-1.png", identity.Outputs[0].File);
        var photo = Assert.Single(identity.ResultAs<IdentityResult>()!.Photos);
        Assert.InRange(photo.RollDegrees, -8, 0);
        var sent = Assert.Single(h.Received("/sdapi/v1/img2img"));
        var units = sent["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray();
        Assert.Equal(["ip-adapter_face_id_plus", "reference_only", "softedge_pidinet", "openpose_faceonly"], units.Select(u => u!["module"]!.GetValue<string>()));
        Assert.StartsWith("ip-adapter-faceid-plusv2_sd15 [", units[0]!["model"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(units[0]!["inpaint_crop_input_image"]!.GetValue<bool>());
        Assert.Null(units[1]!["inpaint_crop_input_image"]);
        using (var crop = Image.Load<Rgb24>(Convert.FromBase64String(units[0]!["image"]!.GetValue<string>())))
        {
            Assert.Equal((512, 512), (crop.Width, crop.Height));
        }

        var prompt = sent["prompt"]!.GetValue<string>();
        Assert.Contains("<lora:ip-adapter-faceid-plusv2_sd15_lora:0.6>", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("miaoya_demo_face", prompt, StringComparison.Ordinal);
        Assert.Null(result.Manifest.Inputs.Lora);
        Assert.Equal("identity-1.png", result.Manifest.Step("inpaint")!.Request!["alwayson_scripts"]!["controlnet"]!["args"]![0]!["image"]!["file"]!.GetValue<string>());
    }

    [Fact]
    public async Task SeveralFacePhotos_GoAsOneIpAdapterUnitsImageList_AndThePersonsLoraLayersOnTop()
    {
        using var h = FourSlots();

        var request = V4(h, "v4-faceid", [FacePhoto(h, "a.png"), FacePhoto(h, "b.png", degrees: -3, pad: 90)]) with { Lora = LoraChoice.Parse("miaoya_demo_face:0.7") };
        var result = await h.Pipeline.RunAsync(request);

        var unit = Assert.Single(h.Received("/sdapi/v1/img2img"))["alwayson_scripts"]!["controlnet"]!["args"]![0]!;
        var images = unit["image"]!.AsArray();
        Assert.Equal(2, images.Count);
        Assert.All(images, i => Assert.NotNull(i!["image"]!.GetValue<string>()));
        Assert.Equal(["face.png", "face-2.png"], result.Manifest.Inputs.Faces!.Select(f => f.File));
        Assert.Equal(2, result.Manifest.Step("identity")!.ResultAs<IdentityResult>()!.PhotosSent);
        Assert.Contains("<lora:miaoya_demo_face:0.7>", h.Received("/sdapi/v1/img2img")[0]["prompt"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFacePhotoWithoutAFace_IsBadInputNamingIt_BeforeAnyCall()
    {
        using var h = FourSlots();

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(V4(h, "v4-faceid", [FacePhoto(h, "a.png"), Coffee])));

        Assert.Equal("face", e.InputField);
        Assert.Contains("coffee.png: no face found", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Count("/tagger/v1/interrogate"));
        Assert.False(File.Exists(Path.Combine(h.Folder, "v4-faceid", "manifest.json")));
    }

    [Fact]
    public async Task NoFacePhotoAndNoLora_IsBadInput()
    {
        using var h = FourSlots();

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(V4(h, "v4-faceid", [])));

        Assert.Equal("face", e.InputField);
        Assert.Contains("give --face PHOTO", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABoxWithThreeUnitSlots_IsRefusedBeforeTheInpaint_NamingTheCount()
    {
        using var h = new PipelineHarness();

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(V4(h, "v4-faceid", [FacePhoto(h, "a.png")])));

        Assert.Contains("4 ControlNet units enabled, the box has 3 unit slots", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Count("/sdapi/v1/img2img"));
    }

    [Fact]
    public async Task InstantId_SendsTheEmbeddingUnitThenTheKeypointsUnitOnTheTemplate_OnTheSdxlCheckpoint()
    {
        using var h = new PipelineHarness();

        var result = await h.Pipeline.RunAsync(V4(h, "v4-instantid-sdxl", [FacePhoto(h, "a.png")]));

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        var sent = Assert.Single(h.Received("/sdapi/v1/img2img"));
        var units = sent["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray();
        Assert.Equal(["instant_id_face_embedding", "instant_id_face_keypoints", "softedge_pidinet"], units.Select(u => u!["module"]!.GetValue<string>()));
        Assert.False(units[0]!["inpaint_crop_input_image"]!.GetValue<bool>());
        Assert.Equal("template.png", result.Manifest.Step("inpaint")!.Request!["alwayson_scripts"]!["controlnet"]!["args"]![1]!["image"]!["file"]!.GetValue<string>());
        Assert.StartsWith("sd_xl_base_1.0", sent["override_settings"]!["sd_model_checkpoint"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal((832, 1216), (sent["width"]!.GetValue<int>(), sent["height"]!.GetValue<int>()));
    }

    [Fact]
    public async Task PuLid_SendsItsMode_AndABoxWithoutEvaClipIsRefusedNamingTheExtension()
    {
        using (var h = new PipelineHarness())
        {
            await h.Pipeline.RunAsync(V4(h, "v4-pulid-sdxl", [FacePhoto(h, "a.png")], "identity.pulid_mode=extremely_style"));

            var unit = Assert.Single(h.Received("/sdapi/v1/img2img"))["alwayson_scripts"]!["controlnet"]!["args"]![0]!;
            Assert.Equal("ip-adapter_pulid", unit["module"]!.GetValue<string>());
            Assert.Equal("Extremely style", unit["pulid_mode"]!.GetValue<string>());
        }

        using var without = new PipelineHarness(mock: o =>
        {
            o.Without.Add("evaclip");
            return o;
        });
        var e = await Assert.ThrowsAsync<PipelineException>(() => without.Pipeline.RunAsync(V4(without, "v4-pulid-sdxl", [FacePhoto(without, "a.png")])));
        Assert.Contains("EVA02-CLIP-L-14-336", e.Message, StringComparison.Ordinal);
        Assert.Contains("sd-webui-controlnet-evaclip", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, without.Count("/sdapi/v1/img2img"));
    }

    [Fact]
    public async Task ABoxWithoutInsightface_RendersWithoutControlNet_AndTheRunFailsSayingSo()
    {
        // A1111 only prints the preprocessor's exception and renders without any unit (modules/scripts.py:828-834);
        // the infotext still names every unit, but no detected map comes back.
        using var h = new PipelineHarness(mock: o =>
        {
            o.ControlNetUnitCount = 4;
            o.Without.Add("insightface");
            return o;
        });

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(V4(h, "v4-faceid", [FacePhoto(h, "a.png")])));

        Assert.Equal("inpaint", e.Step);
        Assert.Contains("ControlNet failed inside the box", e.Message, StringComparison.Ordinal);
        Assert.Contains(h.Server.ConsoleErrors, line => line.Contains("No module named 'insightface'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BestOfFour_WithTheIdentityUnit_BeatsTheSameRunWithoutIt()
    {
        using var h = FourSlots();
        var faces = new[] { FacePhoto(h, "a.png"), FacePhoto(h, "b.png", degrees: -3, pad: 90) };

        var with = await h.Pipeline.RunAsync(V4(h, "v4-faceid", faces, "candidates.count=4", "candidates.min_similarity=0", "candidates.min_ratio=0"));
        // The same template, seed and V1 units with the person's LoRA instead of the identity unit.
        var without = await h.Pipeline.RunAsync(h.Request("v1-face", overrides: ["candidates.count=4", "candidates.min_similarity=0", "candidates.min_ratio=0"]) with
        {
            FacePaths = faces,
            ModelsDirectory = Models,
            StandInModels = true,
        });

        var best = with.Manifest.Step("select")!.ResultAs<SelectResult>()!;
        var baseline = without.Manifest.Step("select")!.ResultAs<SelectResult>()!;
        Assert.Equal(4, best.Candidates.Count);
        Assert.Equal(4, best.Candidates.Select(c => c.Seed).Distinct().Count());
        Assert.Equal(4, h.Received("/sdapi/v1/img2img")[0]["n_iter"]!.GetValue<int>());
        var chosen = best.Candidates[best.Chosen!.Value - 1];
        Assert.Equal(best.Candidates.Max(c => c.Similarity), chosen.Similarity);
        Assert.True(
            chosen.Similarity > baseline.Candidates.Max(c => c.Similarity) + 0.05,
            $"with the unit {chosen.Similarity}, without {baseline.Candidates.Max(c => c.Similarity)}");
        Assert.True(File.Exists(Path.Combine(with.Folder, "candidates.html")));
        using var selected = Image.Load<Rgb24>(Path.Combine(with.Folder, "select.png"));
        using var final = Image.Load<Rgb24>(with.FinalImage);
        Assert.Equal(selected.GetPixelMemoryGroupHash(), final.GetPixelMemoryGroupHash());
    }

    [Fact]
    public async Task NoCandidatePassing_FailsTheRunWithEveryScore()
    {
        using var h = FourSlots();

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(
            V4(h, "v4-faceid", [FacePhoto(h, "a.png")], "candidates.count=2", "candidates.min_similarity=0.999")));

        Assert.Equal("select", e.Step);
        Assert.Contains("no candidate passes the likeness gates", e.Message, StringComparison.Ordinal);
        Assert.Contains("#1 similarity", e.Message, StringComparison.Ordinal);
        Assert.Contains("#2 similarity", e.Message, StringComparison.Ordinal);
        Assert.Contains("candidates.html in the run folder", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Folder, e.Message, StringComparison.Ordinal);

        // The same seeds render the same candidates: a job does not retry it.
        Assert.Equal(Miaoya.WebUi.FailureKind.Request, RunFailures.Classify(e));
        Assert.True(RunFailures.IsPermanent(e));
        var manifest = await new RunFolder(Path.Combine(h.Folder, "v4-faceid")).LoadManifestAsync(CancellationToken.None);
        Assert.Equal(RunStatus.Failed, manifest.Status);
        var select = manifest.Step("select")!.ResultAs<SelectResult>()!;
        Assert.Null(select.Chosen);
        Assert.Equal(2, select.Candidates.Count);
    }

    [Fact]
    public async Task Candidates_WithoutTheScorerModel_IsBadInputSayingWhereToGetIt()
    {
        using var h = FourSlots();

        var e = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(
            V4(h, "v4-faceid", [FacePhoto(h, "a.png")], "candidates.count=2") with { ModelsDirectory = h.Folder }));

        Assert.Equal("models", e.InputField);
        Assert.Contains("face_recognition_sface_2021dec.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("OpenCV Zoo", e.Message, StringComparison.Ordinal);
    }
}
