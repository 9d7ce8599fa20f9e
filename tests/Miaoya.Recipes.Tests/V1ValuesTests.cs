namespace Miaoya.Recipes.Tests;

public class V1ValuesTests
{
    [Fact]
    public void V1Face_ParsesToTheApprovedValues()
    {
        TestFiles.VerifyApproved("v1-face", TestFiles.ParseRecipe("v1-face.yaml"));
    }

    [Fact]
    public void V2_ParsesToTheApprovedValues()
    {
        TestFiles.VerifyApproved("v2", TestFiles.ParseRecipe("v2.yaml"));
    }

    [Fact]
    public void V1Face_HasThePipelineNumbers()
    {
        var r = TestFiles.ParseRecipe("v1-face.yaml");

        Assert.Equal(PipelineKind.V1, r.Pipeline);
        Assert.Equal("chilloutmix_NiPrunedFp32Fix", r.BaseModel);
        Assert.Null(r.Img2Img);
        Assert.Null(r.Interrogate.Model);
        Assert.True(r.Interrogate.DropRatings);
        Assert.Contains("brown eyes", r.Interrogate.Exclude);
        Assert.Contains("black hair", r.Interrogate.Exclude);
        Assert.Contains("ng_deepnegative_v1_75t", r.Prompt.Negative, StringComparison.Ordinal);
        Assert.Contains("badhandv4", r.Prompt.Negative, StringComparison.Ordinal);
        Assert.Equal(new MaskSettings(MaskKind.Face, MaskSource.Detector, 0.15, 0.08, 1.0, null), r.Mask);

        var inpaint = r.Inpaint!;
        Assert.Equal("DPM++ SDE Karras", inpaint.Sampler);
        Assert.Equal(30, inpaint.Steps);
        Assert.Equal(7, inpaint.CfgScale);
        Assert.Equal(0.45, inpaint.DenoisingStrength);
        Assert.Equal(16, inpaint.MaskBlur);
        Assert.Equal(InpaintingFillKind.Original, inpaint.InpaintingFill);
        Assert.Equal(InpaintArea.WholePicture, inpaint.InpaintArea);
        Assert.Equal(32, inpaint.InpaintPadding);
        Assert.Null(inpaint.SkipIfDeltaEBelow);
        Assert.Equal(
            [("reference", "reference_only", "None", 0.5), ("softedge", "softedge_pidinet", "control_v11p_sd15_softedge", 0.75), ("openpose", "openpose_faceonly", "control_v11p_sd15_openpose", 0.7)],
            inpaint.ControlNet.Select(u => (u.Key, u.Module, u.Model, u.Weight)));
        Assert.All(inpaint.ControlNet, u => Assert.Equal(UnitImageSource.Template, u.Image));
    }

    [Fact]
    public void V1FaceNeck_DiffersOnlyInNameDescriptionAndMaskKind()
    {
        var face = TestFiles.ParseRecipe("v1-face.yaml");
        var neck = TestFiles.ParseRecipe("v1-face-neck.yaml");

        Assert.Equal(MaskKind.FaceNeck, neck.Mask!.Kind);
        Assert.Equal(face with { Name = neck.Name, Description = neck.Description, SourcePath = neck.SourcePath, Mask = face.Mask! with { Kind = MaskKind.FaceNeck } }, neck);
    }

    [Fact]
    public void V2_AddsTheImg2ImgPass()
    {
        var r = TestFiles.ParseRecipe("v2.yaml");
        var v1 = TestFiles.ParseRecipe("v1-face.yaml");

        Assert.Equal(PipelineKind.V2, r.Pipeline);
        Assert.Equal(v1.Inpaint, r.Inpaint);
        var pass = Assert.IsType<GenerationSettings>(r.Img2Img);
        Assert.Equal(0.25, pass.DenoisingStrength);
        Assert.Equal(3.0, pass.SkipIfDeltaEBelow);
        Assert.Equal(
            [("depth", "depth_midas", "control_v11f1p_sd15_depth", 0.5), ("softedge", "softedge_pidinet", "control_v11p_sd15_softedge", 0.6)],
            pass.ControlNet.Select(u => (u.Key, u.Module, u.Model, u.Weight)));
        Assert.All(pass.ControlNet, u => Assert.Equal(UnitImageSource.Previous, u.Image));
    }

    [Fact]
    public void Defaults_FillOptionalFields()
    {
        var r = RecipeLoader.Parse(
            """
            name: minimal
            pipeline: v2
            base_model: chilloutmix_NiPrunedFp32Fix
            interrogate: { threshold: 0.35 }
            prompt: { lora_weight: 0.8 }
            mask: { kind: face }
            inpaint:
              sampler: Euler a
              steps: 20
              cfg_scale: 7
              denoising_strength: 0.45
              controlnet:
                softedge: { module: softedge_pidinet, model: control_v11p_sd15_softedge, weight: 0.75 }
                reference: { module: reference_only, weight: 0.5 }
            img2img:
              sampler: Euler a
              steps: 20
              cfg_scale: 7
              denoising_strength: 0.25
              controlnet:
                depth: { module: depth_midas, model: control_v11f1p_sd15_depth, weight: 0.5 }
            """,
            "minimal.yaml");

        Assert.Equal(new InterrogateSettings(null, 0.35, [], [], 40, true), r.Interrogate);
        Assert.Equal(new PromptSettings(0.8, [], "", ""), r.Prompt);
        Assert.Equal(new MaskSettings(MaskKind.Face, MaskSource.Detector, 0.15, 0.08, 1.0, null), r.Mask);
        Assert.Equal((16, InpaintingFillKind.Original, InpaintArea.WholePicture, 32, (int?)null), (r.Inpaint!.MaskBlur, r.Inpaint!.InpaintingFill, r.Inpaint!.InpaintArea, r.Inpaint!.InpaintPadding, r.Inpaint!.Width));
        Assert.Equal(
            new ControlNetUnitSettings("softedge", true, "softedge_pidinet", "control_v11p_sd15_softedge", 0.75, 0, 1, ControlModeKind.Balanced, ResizeModeKind.CropAndResize, -1, -1, -1, false, UnitImageSource.Template),
            r.Inpaint!.ControlNet[0]);
        Assert.Equal("None", r.Inpaint!.ControlNet[1].Model);
        Assert.Equal(UnitImageSource.Previous, r.Img2Img!.ControlNet[0].Image);
        Assert.Null(r.Img2Img.SkipIfDeltaEBelow);
        Assert.Null(r.Description);
    }
}
