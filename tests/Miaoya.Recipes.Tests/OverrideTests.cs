namespace Miaoya.Recipes.Tests;

public class OverrideTests
{
    private static RecipeException Fails(string fileName, params string[] overrides) =>
        Assert.Throws<RecipeException>(() => TestFiles.ParseRecipe(fileName, overrides));

    [Fact]
    public void Set_ChangesAWeight_AndNothingElse()
    {
        var original = TestFiles.ParseRecipe("v1-face.yaml");

        var changed = TestFiles.ParseRecipe("v1-face.yaml", ["inpaint.controlnet.softedge.weight=0.6"]);

        Assert.Equal(0.6, changed.Inpaint!.ControlNet.Single(u => u.Key == "softedge").Weight);
        var units = original.Inpaint!.ControlNet.Select(u => u.Key == "softedge" ? u with { Weight = 0.6 } : u).ToArray();
        Assert.Equal(original with { Inpaint = original.Inpaint! with { ControlNet = units } }, changed);
    }

    [Theory]
    [InlineData("prompt.face_words=soft light, freckles ,smile")]
    [InlineData("prompt.face_words=[soft light, freckles, smile]")]
    [InlineData("prompt.face_words=[\"soft light\", 'freckles', smile]")]
    public void Set_ReplacesAList(string set)
    {
        Assert.Equal(["soft light", "freckles", "smile"], TestFiles.ParseRecipe("v1-face.yaml", [set]).Prompt.FaceWords);
    }

    [Fact]
    public void Set_EmptyList()
    {
        Assert.Empty(TestFiles.ParseRecipe("v1-face.yaml", ["interrogate.exclude="]).Interrogate.Exclude);
        Assert.Empty(TestFiles.ParseRecipe("v1-face.yaml", ["interrogate.exclude=[]"]).Interrogate.Exclude);
    }

    [Fact]
    public void Set_ChangesEnums_AndLaterOverridesWin()
    {
        var r = TestFiles.ParseRecipe("v1-face.yaml", ["inpaint.inpaint_area=only_masked", "mask.kind=face_neck", "inpaint.controlnet.openpose.control_mode=prompt", "mask.kind=face"]);

        Assert.Equal(InpaintArea.OnlyMasked, r.Inpaint!.InpaintArea);
        Assert.Equal(MaskKind.Face, r.Mask!.Kind);
        Assert.Equal(ControlModeKind.Prompt, r.Inpaint!.ControlNet[2].ControlMode);
    }

    [Fact]
    public void Set_ListItem_StringsWithEquals_AndNull()
    {
        var r = TestFiles.ParseRecipe(
            "v2.yaml",
            ["prompt.face_words.1=blue sky", "prompt.negative=a=b, (c:1.2)", "interrogate.model=wd14-vit-v2-git", "img2img.skip_if_delta_e_below=null", "inpaint.scheduler=Karras"]);

        Assert.Equal("blue sky", r.Prompt.FaceWords[1]);
        Assert.Equal("a=b, (c:1.2)", r.Prompt.Negative);
        Assert.Equal("wd14-vit-v2-git", r.Interrogate.Model);
        Assert.Null(r.Img2Img!.SkipIfDeltaEBelow);
        Assert.Equal("Karras", r.Inpaint!.Scheduler);
    }

    [Fact]
    public void Set_AddsAKnownFieldTheFileLeavesOut()
    {
        var yaml = File.ReadAllText(TestFiles.RecipePath("v1-face.yaml")).Replace("  width: null              # null = the template's size\n", string.Empty, StringComparison.Ordinal);

        var r = RecipeLoader.Parse(yaml, "t", ["inpaint.width=768", "mask.source=file", "mask.file=masks/face.png"]);

        Assert.Equal(768, r.Inpaint!.Width);
        Assert.Equal(new MaskSettings(MaskKind.Face, MaskSource.File, 0.15, 0.08, 1.0, "masks/face.png"), r.Mask);
    }

    [Theory]
    [InlineData("inpaint.controlnet.softedge.wieght=0.6", "--set: inpaint.controlnet.softedge.wieght: no such field in the recipe; did you mean inpaint.controlnet.softedge.weight?")]
    [InlineData("inpaint.controlnet.depth.weight=0.6", "--set: inpaint.controlnet.depth.weight: no such field in the recipe; did you mean inpaint.controlnet.openpose.weight?")]
    [InlineData("img2img.denoising_strength=0.3", "--set: img2img.denoising_strength: no such field in the recipe; did you mean inpaint.denoising_strength?")]
    [InlineData("inpaint.steps.x=1", "--set: inpaint.steps.x: no such field in the recipe; did you mean inpaint.steps?")]
    [InlineData("prompt.face_words.9=x", "--set: prompt.face_words.9: no such field in the recipe; did you mean prompt.face_words?")]
    [InlineData("inpaint.controlnet=1", "--set: inpaint.controlnet: is a section, not a value; set one of its fields, such as inpaint.controlnet.reference.enabled")]
    [InlineData("weight", "--set: weight: 'weight' is not path=value (e.g. inpaint.controlnet.softedge.weight=0.6)")]
    public void Set_UnknownPath_NamesTheClosestPath(string set, string expected)
    {
        Assert.Equal(expected, Assert.Single(Fails("v1-face.yaml", set).Problems).ToString());
    }

    [Theory]
    [InlineData("inpaint.steps=many", "--set: inpaint.steps: expected a whole number, got 'many'")]
    [InlineData("inpaint.controlnet.softedge.weight=2.5", "--set: inpaint.controlnet.softedge.weight: 2.5 is outside 0..2")]
    [InlineData("inpaint.inpaint_area=masked", "--set: inpaint.inpaint_area: 'masked' is not one of whole_picture, only_masked")]
    [InlineData("inpaint.mask_blur=8", "--set: inpaint.mask_blur: 8 is below 16: the inpaint mask blur must be at least 16 or the pasted face shows a seam")]
    [InlineData("inpaint.cfg_scale=[7]", "--set: inpaint.cfg_scale: expected a number, got a list")]
    [InlineData("interrogate.exclude.0=[a]", "--set: interrogate.exclude[0]: list items must be non-empty words, got a list")]
    [InlineData("prompt.face_words=[a", "--set: prompt.face_words: '[a' is not valid YAML: ")]
    [InlineData("name=", "--set: name: required field has no value; expected a text value")]
    [InlineData("mask.source=file", "--set: mask.source: source file needs mask.file (the path of a mask image, white = repaint)")]
    public void Set_WrongValue_IsReportedAgainstTheOverride(string set, string expected)
    {
        Assert.StartsWith(expected, Assert.Single(Fails("v1-face.yaml", set).Problems).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Set_Problems_FollowTheFileProblems()
    {
        var yaml = File.ReadAllText(TestFiles.RecipePath("v1-face.yaml")).Replace("steps: 30", "steps: 0", StringComparison.Ordinal);

        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Parse(yaml, "recipes/v1-face.yaml", ["pipeline=v2", "nope=1"]));

        Assert.Equal(
            [
                "recipes/v1-face.yaml:36:10: inpaint.steps: 0 is outside 1..150",
                "--set: nope: no such field in the recipe; did you mean name?",
                "--set: img2img: required section is missing: pipeline v2 runs a whole-image img2img pass after inpaint",
            ],
            e.Problems.Select(p => p.ToString()));
    }

    [Fact]
    public void Load_AppliesOverrides()
    {
        var r = RecipeLoader.Load(TestFiles.RecipePath("v2.yaml"), ["img2img.controlnet.depth.weight=0.4"]);

        Assert.Equal(0.4, r.Img2Img!.ControlNet[0].Weight);
    }
}
