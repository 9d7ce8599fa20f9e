namespace Miaoya.Recipes.Tests;

public class ValidationTests
{
    private const string Minimal = TestFiles.MinimalV1;

    private static string[] Problems(string yaml, params string[] overrides) => TestFiles.Problems(yaml, overrides);

    [Fact]
    public void Minimal_IsValid()
    {
        Assert.Equal("test", RecipeLoader.Parse(Minimal, "recipes/test.yaml").Name);
    }

    [Fact]
    public void BrokenRecipe_ReportsEveryProblemAtOnce()
    {
        const string yaml = """
            name: broken
            pipeline: v1
            base_model: chilloutmix_NiPrunedFp32Fix
            interrogate:
              threshold: 1.5
              max_tags: many
            prompt:
              lora_weight: 0.8
            mask:
              kind: face_and_neck
              source: file
            inpaint:
              sampler: DPM++ SDE Karras
              steps: 30
              cfg_scale: 7
              denoising_strength: 0.45
              mask_blur: 8
              inpaint_area: whole_picture
              controlnet:
                reference:
                  module: reference_only
                  model: control_v11p_sd15_softedge
                  weight: 0.5
                softedge:
                  module: softedge_pidinet
                  model: control_v11p_sd15_softedge
                  wieght: 0.75
                  weight: 2.5
            """;

        Assert.Equal(
            [
                "recipes/test.yaml:5:14: interrogate.threshold: 1.5 is outside 0..1",
                "recipes/test.yaml:6:13: interrogate.max_tags: expected a whole number, got 'many'",
                "recipes/test.yaml:10:9: mask.kind: 'face_and_neck' is not one of face, face_neck",
                "recipes/test.yaml:11:11: mask.source: source file needs mask.file (the path of a mask image, white = repaint)",
                "recipes/test.yaml:17:14: inpaint.mask_blur: 8 is below 16: the inpaint mask blur must be at least 16 or the pasted face shows a seam",
                "recipes/test.yaml:22:14: inpaint.controlnet.reference.model: module reference_only takes no model; the model must be None",
                "recipes/test.yaml:27:7: inpaint.controlnet.softedge.wieght: unknown key 'wieght'; did you mean 'weight'?",
                "recipes/test.yaml:28:15: inpaint.controlnet.softedge.weight: 2.5 is outside 0..2",
            ],
            Problems(yaml));
    }

    [Fact]
    public void RecipeProblem_CarriesItsParts()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Parse(Minimal.Replace("steps: 30", "steps: 300", StringComparison.Ordinal), "recipes/test.yaml"));

        Assert.Equal(new RecipeProblem("recipes/test.yaml", 12, 10, "inpaint.steps", "300 is outside 1..150"), Assert.Single(e.Problems));
    }

    [Theory]
    [InlineData("  stpes: 30", "recipes/test.yaml:15:3: inpaint.stpes: unknown key 'stpes'; did you mean 'steps'?")]
    [InlineData("  denoise_strength: 0.4", "recipes/test.yaml:15:3: inpaint.denoise_strength: unknown key 'denoise_strength'; did you mean 'denoising_strength'?")]
    [InlineData("  xyz: 1", "recipes/test.yaml:15:3: inpaint.xyz: unknown key 'xyz'; known keys here: sampler, scheduler, steps, cfg_scale, denoising_strength, width, height, mask_blur, inpainting_fill, inpaint_area, inpaint_padding, controlnet")]
    [InlineData("  skip_if_delta_e_below: 3", "recipes/test.yaml:15:3: inpaint.skip_if_delta_e_below: only valid in img2img (the V2 colour pass); the inpaint step is never skipped")]
    [InlineData("bas_model: x", "recipes/test.yaml:15:1: bas_model: unknown key 'bas_model'; did you mean 'base_model'?")]
    public void UnknownKey_SuggestsTheClosestKnownKey(string line, string expected)
    {
        Assert.Equal([expected], Problems(Minimal + "\n" + line));
    }

    [Fact]
    public void MaskBlurBelow16_IsAnError()
    {
        Assert.Equal(
            ["recipes/test.yaml:15:14: inpaint.mask_blur: 8 is below 16: the inpaint mask blur must be at least 16 or the pasted face shows a seam"],
            Problems(Minimal + "\n  mask_blur: 8"));
    }

    [Fact]
    public void V1WithImg2ImgSection_IsAnError()
    {
        var yaml = Minimal + "\nimg2img:\n  sampler: Euler a\n  steps: 20\n  cfg_scale: 7\n  denoising_strength: 0.25";

        Assert.Equal(
            ["recipes/test.yaml:15:1: img2img: a v1 recipe must not have an img2img section (the second pass is V2 and V3 only); remove it or set pipeline: v2"],
            Problems(yaml));
        Assert.Equal(PipelineKind.V2, RecipeLoader.Parse(yaml.Replace("pipeline: v1", "pipeline: v2", StringComparison.Ordinal), "t").Pipeline);
    }

    [Fact]
    public void V2WithoutImg2Img_IsAnError()
    {
        Assert.Equal(
            ["recipes/test.yaml:2:11: img2img: required section is missing: pipeline v2 runs a whole-image img2img pass after inpaint"],
            Problems(Minimal.Replace("pipeline: v1", "pipeline: v2", StringComparison.Ordinal)));
    }

    [Fact]
    public void Img2ImgOnlyKeys_AreRefusedWithTheirReason()
    {
        var yaml = Minimal.Replace("pipeline: v1", "pipeline: v2", StringComparison.Ordinal)
            + "\nimg2img:\n  sampler: Euler a\n  steps: 20\n  cfg_scale: 7\n  denoising_strength: 0.25\n  mask_blur: 16\n  skip_if_delta_e_below: -1";

        Assert.Equal(
            [
                "recipes/test.yaml:20:3: img2img.mask_blur: only valid in inpaint; the whole-image img2img pass has no mask",
                "recipes/test.yaml:21:26: img2img.skip_if_delta_e_below: -1 is outside 0..100",
            ],
            Problems(yaml));
    }

    [Fact]
    public void DuplicateKeys_AreEachReported_AndTheRestIsStillChecked()
    {
        var yaml = Minimal.Replace("  steps: 30", "  steps: 30\n  steps: 40\n  cfg_scale: 99", StringComparison.Ordinal);

        Assert.Equal(
            [
                "recipes/test.yaml:13:3: inpaint.steps: duplicate key 'steps' (first at line 12); remove one",
                "recipes/test.yaml:14:14: inpaint.cfg_scale: 99 is outside 1..30",
                "recipes/test.yaml:15:3: inpaint.cfg_scale: duplicate key 'cfg_scale' (first at line 14); remove one",
            ],
            Problems(yaml));
    }

    [Fact]
    public void MissingAndMistypedFields_AreReported()
    {
        const string yaml = """
            name: ""
            pipeline: v4
            interrogate: 0.35
            prompt:
              lora_weight: "0.8"
              face_words: detailed face
            mask:
              kind: face
              source: detector
              file: mask.png
            inpaint:
              sampler: [Euler]
              steps: 30.5
              cfg_scale:
              denoising_strength: 0.45
              width: 500
            """;

        Assert.Equal(
            [
                "recipes/test.yaml:1:1: base_model: required field is missing",
                "recipes/test.yaml:1:7: name: must not be empty",
                "recipes/test.yaml:2:11: pipeline: 'v4' is not one of v1, v2, v3 (did you mean 'v1'?)",
                "recipes/test.yaml:3:14: interrogate: expected a section of fields, got '0.35'",
                "recipes/test.yaml:5:16: prompt.lora_weight: expected a number, got the quoted text \"0.8\"",
                "recipes/test.yaml:6:15: prompt.face_words: expected a list such as [a, b], got 'detailed face'",
                "recipes/test.yaml:10:9: mask.file: only used with source: file (source is detector); remove it or set source: file",
                "recipes/test.yaml:12:12: inpaint.sampler: expected a text value, got a list",
                "recipes/test.yaml:13:10: inpaint.steps: expected a whole number, got '30.5'",
                "recipes/test.yaml:14:3: inpaint.cfg_scale: required field has no value; expected a number",
                "recipes/test.yaml:16:10: inpaint.width: 500 is not a multiple of 8 (Stable Diffusion works in 8-pixel latent blocks)",
            ],
            Problems(yaml));
    }

    [Fact]
    public void ControlNetRules_AreChecked()
    {
        var yaml = Minimal + """

              controlnet:
                a:
                  module: softedge_pidinet
                  weight: 0.5
                  guidance_start: 0.8
                  guidance_end: 0.5
                b:
                  module: depth_midas
                  model: None
                  weight: 0.5
                  control_mode: my_prompt
                c:
                  module: reference_only
                  weight: 0.5
                  image: last
                d:
                  enabled: false
                  module: reference_adain
                  weight: 0.5
                Bad.Name:
                  module: reference_only
                  weight: 0.5
            """;

        Assert.Equal(
            [
                "recipes/test.yaml:16:5: inpaint.controlnet.a.model: module softedge_pidinet needs a model (such as control_v11p_sd15_softedge); only reference_* modules run with None",
                "recipes/test.yaml:19:23: inpaint.controlnet.a.guidance_start: guidance_start 0.8 is after guidance_end 0.5; need 0 <= guidance_start <= guidance_end <= 1",
                "recipes/test.yaml:23:14: inpaint.controlnet.b.model: module depth_midas needs a model (such as control_v11p_sd15_softedge); only reference_* modules run with None",
                "recipes/test.yaml:25:21: inpaint.controlnet.b.control_mode: 'my_prompt' is not one of balanced, prompt, controlnet (did you mean 'prompt'?)",
                "recipes/test.yaml:29:14: inpaint.controlnet.c.image: 'last' is not one of template, previous",
                "recipes/test.yaml:34:5: inpaint.controlnet.Bad.Name: unit names are lower-case words (a-z, 0-9, _), such as softedge or reference",
            ],
            Problems(yaml));
    }

    [Fact]
    public void MoreThanThreeEnabledUnits_IsAnError_DisabledOnesDoNotCount()
    {
        var units = string.Concat(Enumerable.Range(1, 4).Select(i => $"\n    u{i}:\n      module: reference_only\n      weight: 0.5"));
        var yaml = Minimal + "\n  controlnet:" + units;

        Assert.Equal(
            ["recipes/test.yaml:15:3: inpaint.controlnet: 4 enabled ControlNet units; at most 3 per step, the WebUI's default control_net_unit_count (set enabled: false on the others)"],
            Problems(yaml));
        var recipe = RecipeLoader.Parse(yaml + "\n      enabled: false", "t");
        Assert.Equal([true, true, true, false], recipe.Inpaint!.ControlNet.Select(u => u.Enabled));
    }

    [Theory]
    [InlineData("", "recipes/test.yaml:1:1: the recipe is empty")]
    [InlineData("- a\n- b", "recipes/test.yaml:1:1: a recipe is a mapping of keys (name:, pipeline:, interrogate:, ...)")]
    [InlineData("name: a\n---\nname: b", "recipes/test.yaml:2:1: a recipe file holds one YAML document; remove the second '---'")]
    public void NotARecipe_IsReported(string yaml, string expected)
    {
        Assert.Equal([expected], Problems(yaml));
    }

    [Fact]
    public void YamlSyntaxError_IsReportedWithItsPlace()
    {
        var problem = Assert.Single(Problems("name: a\ninterrogate:\n  threshold: [0.3\n"));

        Assert.StartsWith("recipes/test.yaml:4:1: not valid YAML: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadmeExample_IsWhatLoadingReports()
    {
        var yaml = File.ReadAllText(TestFiles.RecipePath("v1-face.yaml"))
            .Replace("mask_blur: 16", "mask_blur: 8", StringComparison.Ordinal)
            .Replace("      weight: 0.75\n", "      wieght: 0.75\n      weight: 2.5\n", StringComparison.Ordinal);

        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Parse(yaml, "recipes/v1-face.yaml", ["inpaint.steps=many"]));

        var readme = File.ReadAllText(TestFiles.RecipePath("README.md"));
        Assert.Contains("```text\n" + e.Message + "\n```", readme, StringComparison.Ordinal);
        Assert.Equal(4, e.Problems.Count);
    }
}
