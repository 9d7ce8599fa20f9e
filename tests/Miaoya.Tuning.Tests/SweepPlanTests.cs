using Miaoya.Recipes;

namespace Miaoya.Tuning.Tests;

public sealed class SweepPlanTests
{
    [Fact]
    public void ParseVary_KeepsPathsAndValuesInOrder()
    {
        var axes = SweepPlan.ParseVary(["inpaint.controlnet.softedge.weight=0.5,0.75,1.0", " inpaint.denoising_strength = 0.4, 0.6 "]);

        Assert.Equal(2, axes.Count);
        Assert.Equal("inpaint.controlnet.softedge.weight", axes[0].Path);
        Assert.Equal(["0.5", "0.75", "1.0"], axes[0].Values);
        Assert.Equal("inpaint.denoising_strength", axes[1].Path);
        Assert.Equal(["0.4", "0.6"], axes[1].Values);
    }

    [Fact]
    public void ParseVary_ReportsEveryMalformedOptionAtOnce()
    {
        var e = Assert.Throws<SweepException>(() => SweepPlan.ParseVary(["inpaint.steps", "inpaint.cfg_scale=5,,7", "a.b=1,2,1", "x.y=1", "x.y=2"]));

        var lines = e.Message.Split(Environment.NewLine);
        Assert.Equal(4, lines.Length);
        Assert.Equal("--vary 'inpaint.steps': expected path=value1,value2,... (e.g. inpaint.denoising_strength=0.4,0.6)", lines[0]);
        Assert.StartsWith("--vary inpaint.cfg_scale: an empty value", lines[1], StringComparison.Ordinal);
        Assert.Equal("--vary a.b: 1 given more than once", lines[2]);
        Assert.Equal("--vary x.y: given twice; list all its values in one --vary", lines[3]);
    }

    [Fact]
    public void Expand_IsTheCartesianProduct_FirstAxisFastest()
    {
        var axes = new[] { new SweepAxis("a", ["1", "2", "3"]), new SweepAxis("b", ["x", "y"]) };

        var cells = SweepPlan.Expand(axes);

        Assert.Equal(6, cells.Count);
        Assert.Equal(
            ["1x", "2x", "3x", "1y", "2y", "3y"],
            cells.Select(c => string.Concat(c.Values(axes))).ToArray());
        Assert.Equal(Enumerable.Range(0, 6), cells.Select(c => c.Index));
        Assert.Equal(["s=1", "a=1", "b=x"], SweepPlan.Overrides(["s=1"], axes, cells[0]));
    }

    [Fact]
    public void Expand_ThreeAxes_HasEveryCombinationOnce()
    {
        var axes = new[] { new SweepAxis("a", ["1", "2"]), new SweepAxis("b", ["x", "y"]), new SweepAxis("c", ["p", "q", "r"]) };

        var cells = SweepPlan.Expand(axes).Select(c => string.Join('|', c.Values(axes))).ToArray();

        Assert.Equal(12, cells.Length);
        Assert.Equal(12, cells.Distinct().Count());
        Assert.Equal("2|y|r", cells[^1]);
    }

    [Fact]
    public void Validate_UnknownPath_NamesTheClosestKey()
    {
        var axes = SweepPlan.ParseVary(["inpaint.controlnet.softedge.weigth=0.5,0.75"]);

        var e = Assert.Throws<SweepException>(() => SweepPlan.Validate("v1-face", [], axes));

        Assert.Equal("--vary inpaint.controlnet.softedge.weigth: no such field in the recipe; did you mean inpaint.controlnet.softedge.weight?", e.Message);
    }

    [Fact]
    public void Validate_BadValues_SayWhichVaryAndWhy()
    {
        var axes = SweepPlan.ParseVary(["inpaint.denoising_strength=0.4,1.5", "inpaint.steps=30,many"]);

        var e = Assert.Throws<SweepException>(() => SweepPlan.Validate("v1-face", [], axes));

        var lines = e.Message.Split(Environment.NewLine);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("--vary inpaint.denoising_strength=1.5: ", lines[0], StringComparison.Ordinal);
        Assert.Contains("outside 0..1", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("--vary inpaint.steps=many: ", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CombinationThatBreaksARule_NamesTheCell()
    {
        // Each value is valid alone (the other field keeps the recipe's 0 / 1); start 0.6 with end 0.5 is not.
        var axes = SweepPlan.ParseVary(["inpaint.controlnet.softedge.guidance_start=0.2,0.6", "inpaint.controlnet.softedge.guidance_end=0.5,1"]);

        var e = Assert.Throws<SweepException>(() => SweepPlan.Validate("v1-face", [], axes));

        Assert.Equal(
            "--vary cell inpaint.controlnet.softedge.guidance_start=0.6, inpaint.controlnet.softedge.guidance_end=0.5: inpaint.controlnet.softedge.guidance_start: guidance_start 0.6 is after guidance_end 0.5; need 0 <= guidance_start <= guidance_end <= 1",
            e.Message);
    }

    [Fact]
    public void Validate_PathAlsoInSet_IsAnError()
    {
        var axes = SweepPlan.ParseVary(["inpaint.denoising_strength=0.4,0.6"]);

        var e = Assert.Throws<SweepException>(() => SweepPlan.Validate("v1-face", ["inpaint.denoising_strength=0.5"], axes));

        Assert.Equal("--vary inpaint.denoising_strength: also given with --set; drop one", e.Message);
    }

    [Fact]
    public void Validate_ProblemsOfTheRecipeOrSet_AreRecipeProblems()
    {
        var axes = SweepPlan.ParseVary(["inpaint.denoising_strength=0.4,0.6"]);

        var e = Assert.Throws<RecipeException>(() => SweepPlan.Validate("v1-face", ["inpaint.stepz=3"], axes));

        Assert.Contains("did you mean inpaint.steps", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_GoodSweep_Passes()
    {
        SweepPlan.Validate("v1-face", ["inpaint.steps=20"], SweepPlan.ParseVary(["inpaint.controlnet.softedge.weight=0.5,0.75,1.0", "inpaint.denoising_strength=0.4,0.6"]));
    }

    [Fact]
    public void FolderNames_AreUniqueAndSafe()
    {
        var definition = SweepHarness.Definition(new SweepAxis("inpaint.controlnet.softedge.weight", ["0.5", "1/2"]), new SweepAxis("inpaint.prompt", ["a b", "c"]));

        var folders = SweepManifest.Create(definition).Cells.Select(c => c.Folder).ToArray();

        Assert.Equal(["00-weight-0.5-prompt-a_b", "01-weight-1_2-prompt-a_b", "02-weight-0.5-prompt-c", "03-weight-1_2-prompt-c"], folders);
    }
}
