namespace Miaoya.Recipes.Tests;

public class V3Tests
{
    private const string MinimalV3 = """
        name: test
        pipeline: v3
        base_model: chilloutmix_NiPrunedFp32Fix
        interrogate:
          threshold: 0.35
        prompt:
          lora_weight: 0.8
        faceswap:
          detector: scrfd
        img2img:
          sampler: DPM++ SDE Karras
          steps: 30
          cfg_scale: 7
          denoising_strength: 0.3
        """;

    private const string MinimalV1 = TestFiles.MinimalV1;

    private static string[] Problems(string yaml, params string[] overrides) => TestFiles.Problems(yaml, overrides);

    [Fact]
    public void V3_ParsesToTheApprovedValues()
    {
        TestFiles.VerifyApproved("v3", TestFiles.ParseRecipe("v3.yaml"));
    }

    [Fact]
    public void V3_HasThePipelineNumbers()
    {
        var r = TestFiles.ParseRecipe("v3.yaml");
        var v2 = TestFiles.ParseRecipe("v2.yaml");

        Assert.Equal(PipelineKind.V3, r.Pipeline);
        Assert.Equal(v2.BaseModel, r.BaseModel);
        Assert.Equal(v2.Interrogate, r.Interrogate);
        Assert.Equal(v2.Prompt, r.Prompt);
        Assert.Equal(new FaceSwapSettings(FaceSwapDetector.Scrfd, null, null, false), r.FaceSwap);
        Assert.Null(r.Mask);
        Assert.Null(r.Inpaint);

        var pass = Assert.IsType<GenerationSettings>(r.Img2Img);
        Assert.Equal(("DPM++ SDE Karras", (string?)null, 30, 7.0, 0.3), (pass.Sampler, pass.Scheduler, pass.Steps, pass.CfgScale, pass.DenoisingStrength));
        Assert.Null(pass.SkipIfDeltaEBelow);
        Assert.Equal(
            [("reference", "reference_only", "None", 0.5), ("softedge", "softedge_pidinet", "control_v11p_sd15_softedge", 0.6), ("depth", "depth_midas", "control_v11f1p_sd15_depth", 0.5)],
            pass.ControlNet.Select(u => (u.Key, u.Module, u.Model, u.Weight)));
        Assert.All(pass.ControlNet, u => Assert.True(u.Enabled));
        Assert.All(pass.ControlNet, u => Assert.Equal(UnitImageSource.Previous, u.Image));
    }

    [Fact]
    public void V3_IsBuiltIn()
    {
        Assert.Contains("v3", RecipeLoader.BuiltInNames);
        Assert.Equal(PipelineKind.V3, RecipeLoader.Load("v3").Pipeline);
    }

    [Fact]
    public void Minimal_FillsTheFaceSwapDefaults()
    {
        var r = RecipeLoader.Parse(MinimalV3.Replace("faceswap:\n  detector: scrfd", "faceswap: {}", StringComparison.Ordinal), "t");

        Assert.Equal(new FaceSwapSettings(FaceSwapDetector.Scrfd, null, null, false), r.FaceSwap);
        Assert.Equal([StepName.Interrogate, StepName.FaceSwap, StepName.Img2Img], r.StepNames);
        Assert.Equal(UnitImageSource.Previous, RecipeLoader.Parse(MinimalV3 + "\n  controlnet:\n    depth: { module: depth_midas, model: control_v11f1p_sd15_depth, weight: 0.5 }", "t").Img2Img!.ControlNet[0].Image);
    }

    [Fact]
    public void FaceSwapFields_AreRead()
    {
        var yaml = MinimalV3.Replace("  detector: scrfd", "  detector: blazeface\n  source_face_index: 0\n  target_face_index: 2\n  colour_correction: true", StringComparison.Ordinal);

        Assert.Equal(new FaceSwapSettings(FaceSwapDetector.BlazeFace, 0, 2, true), RecipeLoader.Parse(yaml, "t").FaceSwap);
    }

    [Fact]
    public void V3WithMaskAndInpaint_AreErrorsAtTheirKeys()
    {
        var yaml = MinimalV3 + "\nmask:\n  kind: face\ninpaint:\n  sampler: Euler a\n  steps: 20\n  cfg_scale: 7\n  denoising_strength: 0.45";

        Assert.Equal(
            [
                "recipes/test.yaml:15:1: mask: V3 swaps the face locally; it has no mask or inpaint step",
                "recipes/test.yaml:17:1: inpaint: V3 swaps the face locally; it has no mask or inpaint step",
            ],
            Problems(yaml));
    }

    [Fact]
    public void V3WithoutFaceSwap_IsAnError()
    {
        var yaml = MinimalV3.Replace("faceswap:\n  detector: scrfd\n", string.Empty, StringComparison.Ordinal);

        Assert.Equal(
            ["recipes/test.yaml:2:11: faceswap: required section is missing: pipeline v3 swaps the person's face into the template locally before img2img"],
            Problems(yaml));
    }

    [Fact]
    public void V3WithoutImg2Img_IsAnError()
    {
        var yaml = MinimalV3[..MinimalV3.IndexOf("img2img:", StringComparison.Ordinal)];

        Assert.Equal(
            ["recipes/test.yaml:2:11: img2img: required section is missing: pipeline v3 runs a whole-image img2img pass after faceswap"],
            Problems(yaml));
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    public void FaceSwapOutsideV3_IsAnError(string pipeline)
    {
        var yaml = MinimalV1.Replace("pipeline: v1", $"pipeline: {pipeline}", StringComparison.Ordinal)
            + "\nfaceswap:\n  detector: scrfd"
            + (pipeline == "v2" ? "\nimg2img:\n  sampler: Euler a\n  steps: 20\n  cfg_scale: 7\n  denoising_strength: 0.25" : string.Empty);

        Assert.Equal(
            [$"recipes/test.yaml:15:1: faceswap: a {pipeline} recipe must not have a faceswap section (the local face swap is V3 only); remove it or set pipeline: v3"],
            Problems(yaml));
    }

    [Theory]
    [InlineData("  detector: retinaface", "recipes/test.yaml:9:13: faceswap.detector: 'retinaface' is not one of scrfd, blazeface")]
    [InlineData("  detector: blaze_face", "recipes/test.yaml:9:13: faceswap.detector: 'blaze_face' is not one of scrfd, blazeface (did you mean 'blazeface'?)")]
    [InlineData("  source_face_index: -1", "recipes/test.yaml:9:22: faceswap.source_face_index: -1 is below 0: a face index counts from 0 (null = the largest face)")]
    [InlineData("  target_face_index: 1.5", "recipes/test.yaml:9:22: faceswap.target_face_index: expected a whole number, got '1.5'")]
    [InlineData("  colour_correction: \"yes\"", "recipes/test.yaml:9:22: faceswap.colour_correction: expected true or false, got the quoted text \"yes\"")]
    [InlineData("  color_correction: true", "recipes/test.yaml:9:3: faceswap.color_correction: unknown key 'color_correction'; did you mean 'colour_correction'?")]
    public void FaceSwapValues_AreChecked(string line, string expected)
    {
        Assert.Equal([expected], Problems(MinimalV3.Replace("  detector: scrfd", line, StringComparison.Ordinal)));
    }

    [Fact]
    public void Set_FaceSwapFields()
    {
        var original = TestFiles.ParseRecipe("v3.yaml");

        var changed = TestFiles.ParseRecipe("v3.yaml", ["faceswap.detector=blazeface", "faceswap.target_face_index=1"]);

        Assert.Equal(original with { FaceSwap = new FaceSwapSettings(FaceSwapDetector.BlazeFace, null, 1, false) }, changed);
        Assert.Null(TestFiles.ParseRecipe("v3.yaml", ["faceswap.target_face_index=1", "faceswap.target_face_index=null"]).FaceSwap!.TargetFaceIndex);
        Assert.True(TestFiles.ParseRecipe("v3.yaml", ["faceswap.colour_correction=true"]).FaceSwap!.ColourCorrection);
    }

    [Fact]
    public void Set_FaceSwapFieldTheFileLeavesOut()
    {
        var r = RecipeLoader.Parse(MinimalV3, "t", ["faceswap.target_face_index=1", "faceswap.source_face_index=0"]);

        Assert.Equal(new FaceSwapSettings(FaceSwapDetector.Scrfd, 0, 1, false), r.FaceSwap);
    }

    [Theory]
    [InlineData("faceswap.detector=retinaface", "--set: faceswap.detector: 'retinaface' is not one of scrfd, blazeface")]
    [InlineData("faceswap.target_face_index=-2", "--set: faceswap.target_face_index: -2 is below 0: a face index counts from 0 (null = the largest face)")]
    [InlineData("faceswap.detectr=scrfd", "--set: faceswap.detectr: no such field in the recipe; did you mean faceswap.detector?")]
    public void Set_WrongFaceSwapValue_IsReportedAgainstTheOverride(string set, string expected)
    {
        Assert.Equal([expected], Problems(File.ReadAllText(TestFiles.RecipePath("v3.yaml")), set));
    }

    [Fact]
    public void Set_PipelineV3_OnAV2Recipe_ReportsWhatV3Refuses()
    {
        var e = Assert.Throws<RecipeException>(() => TestFiles.ParseRecipe("v2.yaml", ["pipeline=v3"]));

        Assert.Equal(
            [
                "recipes/v2.yaml:27:1: mask: V3 swaps the face locally; it has no mask or inpaint step",
                "recipes/v2.yaml:34:1: inpaint: V3 swaps the face locally; it has no mask or inpaint step",
                "--set: faceswap: required section is missing: pipeline v3 swaps the person's face into the template locally before img2img",
            ],
            e.Problems.Select(p => p.ToString()));
    }

    [Fact]
    public void WriteThenParse_KeepsFaceSwapValues_AndWritesNoMaskOrInpaint()
    {
        var v3 = TestFiles.ParseRecipe("v3.yaml");
        var recipe = v3 with { FaceSwap = new FaceSwapSettings(FaceSwapDetector.BlazeFace, 1, 0, true) };

        var written = RecipeYaml.Write(recipe);

        Assert.Equal(recipe, RecipeLoader.Parse(written, recipe.SourcePath));
        Assert.Contains("faceswap:\n  detector: blazeface\n  source_face_index: 1\n  target_face_index: 0\n  colour_correction: true\n", written, StringComparison.Ordinal);
        Assert.DoesNotContain("\nmask:", written, StringComparison.Ordinal);
        Assert.DoesNotContain("\ninpaint:", written, StringComparison.Ordinal);
        Assert.Contains("  source_face_index: null\n  target_face_index: null\n", RecipeYaml.Write(v3), StringComparison.Ordinal);
    }

    [Fact]
    public void RecordEquality_ComparesFaceSwap()
    {
        var a = TestFiles.ParseRecipe("v3.yaml");

        Assert.Equal(a, TestFiles.ParseRecipe("v3.yaml"));
        Assert.NotEqual(a, a with { FaceSwap = a.FaceSwap! with { ColourCorrection = true } });
    }
}
