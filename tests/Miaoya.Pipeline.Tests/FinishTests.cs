using System.Text.Json.Nodes;
using Miaoya.IdPhoto;
using Miaoya.Recipes;

namespace Miaoya.Pipeline.Tests;

/// <summary>A recipe's <c>finish:</c> runs after the last step and writes the ID photo and its verdict into the run.</summary>
public class FinishTests
{
    [Fact]
    public async Task Finish_writes_the_id_photo_sheet_and_verdict_into_the_run_folder_and_manifest()
    {
        using var h = new PipelineHarness();
        var request = h.Request("v1-face") with { Recipe = WithFinish("spec: cn-1inch", "background: blue", "sheet: 6inch") };
        var result = await h.Pipeline.RunAsync(request);

        var finish = result.Manifest.Step(StepName.Finish)!;
        Assert.Equal(StepStatus.Succeeded, finish.Status);
        Assert.Equal(["cn-1inch-300dpi.jpg", "idphoto-mask.png", "sheet-6inch.jpg", "verdict.json"], finish.Outputs.Select(o => o.File));
        Assert.All(finish.Outputs, o => Assert.True(File.Exists(Path.Combine(result.Folder, o.File))));
        var finished = finish.ResultAs<FinishStepResult>()!;
        Assert.Equal("cn-1inch", finished.Spec);
        Assert.True(finished.Generated);
        Assert.Contains("AI generation", finished.Note, StringComparison.Ordinal);
        var verdict = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(result.Folder, "verdict.json")))!;
        Assert.Equal("ai-generated", verdict["mode"]!.GetValue<string>());
        Assert.Equal(finished.Passed, verdict["passed"]!.GetValue<bool>());
        Assert.Equal(300, PhotoEncoder.ReadDpi(await File.ReadAllBytesAsync(Path.Combine(result.Folder, "cn-1inch-300dpi.jpg"))));
        Assert.Equal(1, h.Count("/rembg"));
        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
    }

    [Fact]
    public async Task A_box_without_rembg_is_refused_before_any_generation_when_the_background_is_replaced()
    {
        using var h = new PipelineHarness();
        var box = await h.Client.ProbeAsync();
        var recipe = WithFinish("spec: cn-1inch", "background: white");
        Assert.Empty(Preflight.Check(recipe, box, LoraChoice.Parse("miaoya_demo_face")));
        var problems = Preflight.Check(recipe, box with { HasRembg = false }, LoraChoice.Parse("miaoya_demo_face"));
        var rembg = Assert.Single(problems);
        Assert.Equal((RequirementKind.Rembg, "finish.background"), (rembg.Requirement.Kind, rembg.Field));
        Assert.Contains("needs the rembg extension", rembg.Message, StringComparison.Ordinal);
        Assert.Empty(Preflight.Check(WithFinish("spec: cn-1inch", "background: keep"), box with { HasRembg = false }, LoraChoice.Parse("miaoya_demo_face")));
    }

    [Fact]
    public async Task Explain_lists_the_finish_step()
    {
        var template = await Miaoya.Imaging.EncodedImage.ReadFileAsync(PipelineHarness.Astronaut);
        var text = RecipeExplainer.Explain(WithFinish("spec: us-2x2", "background: white", "kb: 240", "sheet: a4"), template, LoraChoice.Parse("miaoya_demo_face"), [], Miaoya.WebUi.SamplerDialect.Split);
        Assert.Contains("steps      interrogate → mask → inpaint → finish", text, StringComparison.Ordinal);
        Assert.Contains("4. finish       ID photo us-2x2 at 300 dpi, at most 240 KB, print sheet a4: eyes levelled and head placed by the local detector, POST /rembg (u2net_human_seg, return_mask) then background white", text, StringComparison.Ordinal);
    }

    /// <summary>The built-in v1-face recipe with a finish section of the given lines.</summary>
    private static Recipe WithFinish(params string[] lines) =>
        RecipeLoader.Parse(RecipeLoader.ReadBuiltIn("v1-face") + "\nfinish:\n" + string.Concat(lines.Select(l => $"  {l}\n")), "recipes/v1-face.yaml");
}
