namespace Miaoya.Recipes.Tests;

public class FinishingPassTests
{
    [Fact]
    public void V2Finish_RunsTheFinishingPassesAfterTheGenerationSteps_AndRoundTrips()
    {
        var recipe = TestFiles.ParseRecipe("v2-finish.yaml");

        Assert.Equal([StepName.Interrogate, StepName.Mask, StepName.Inpaint, StepName.Img2Img, StepName.Detail, StepName.Restore, StepName.Upscale], recipe.StepNames);
        Assert.Equal(0.04, recipe.Detail!.SkipIfFaceAbove);
        Assert.Null(recipe.Detail.Size);
        Assert.Equal(["softedge", "openpose"], recipe.Detail.Generation.ControlNet.Select(u => u.Key));
        Assert.Equal(UnitImageSource.Previous, recipe.Detail.Generation.ControlNet[0].Image);
        Assert.Equal(FaceRestorerKind.CodeFormer, recipe.Restore!.Model);
        Assert.Equal(1.0, recipe.Restore.SkipIfSharpnessAbove);
        Assert.Equal(new UpscaleSettings("R-ESRGAN 4x+", 2048), recipe.Upscale);
        Assert.Equal(recipe, RecipeLoader.Parse(RecipeYaml.Write(recipe), recipe.SourcePath));
        TestFiles.VerifyApproved("v2-finish", recipe);
    }

    [Fact]
    public void V2Finish_NeedsTheRestorerTheUpscalerAndTheDetailModels()
    {
        var requirements = RecipeRequirements.Of(TestFiles.ParseRecipe("v2-finish.yaml"));

        Assert.Contains(requirements, r => r is { Kind: RequirementKind.FaceRestorer, Name: "CodeFormer", Where: "restore.model" } && r.Steps.SequenceEqual([StepName.Restore]));
        Assert.Contains(requirements, r => r is { Kind: RequirementKind.Upscaler, Name: "R-ESRGAN 4x+", Where: "upscale.upscaler" });
        Assert.Contains(requirements, r => r is { Kind: RequirementKind.ControlNetModel, Where: "detail.controlnet.openpose.model" } && r.Steps.SequenceEqual([StepName.Detail]));
        Assert.Contains(requirements, r => r.Kind == RequirementKind.Checkpoint && r.Steps.Contains(StepName.Detail));
        Assert.Contains(requirements, r => r is { Kind: RequirementKind.Sampler, Where: "detail.sampler" });
    }

    [Fact]
    public void Sections_CanBeAddedToAnyRecipe_AndSetOverridesTheirKeys()
    {
        var yaml = TestFiles.ParseRecipeText("v1-face.yaml") + """

            restore:
              model: gfpgan
              strength: 0.5
            upscale:
              upscaler: Lanczos
              long_side: 1024
            """;

        var recipe = RecipeLoader.Parse(yaml, "recipes/mine.yaml", ["upscale.long_side=1536", "restore.visibility=0.8"]);

        Assert.Equal([StepName.Interrogate, StepName.Mask, StepName.Inpaint, StepName.Restore, StepName.Upscale], recipe.StepNames);
        Assert.Equal(new RestoreSettings(FaceRestorerKind.Gfpgan, 0.8, 0.5, 0.5, 0.5, null), recipe.Restore);
        Assert.Equal(1536, recipe.Upscale!.LongSide);
    }

    [Fact]
    public void BadFinishingKeys_AreEachReportedWithTheirPlace()
    {
        var yaml = TestFiles.ParseRecipeText("v2-finish.yaml")
            .Replace("  skip_if_face_above: 0.04", "  skip_if_face_above: 1.5\n  width: 512", StringComparison.Ordinal)
            .Replace("  size: null ", "  size: 500 ", StringComparison.Ordinal)
            .Replace("  model: codeformer\n", "  model: gfpgan\n", StringComparison.Ordinal)
            .Replace("  upscaler: R-ESRGAN 4x+", "  upscaler: None", StringComparison.Ordinal)
            .Replace("  long_side: 2048", "  long_sde: 2048", StringComparison.Ordinal);

        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Parse(yaml, "recipes/v2-finish.yaml"));
        var text = e.Message;

        Assert.Contains("detail.skip_if_face_above", text, StringComparison.Ordinal);
        Assert.Contains("detail.width", text, StringComparison.Ordinal);
        Assert.Contains("500 is not a multiple of 8", text, StringComparison.Ordinal);
        Assert.Contains("only CodeFormer has a fidelity weight", text, StringComparison.Ordinal);
        Assert.Contains("None runs no upscaler", text, StringComparison.Ordinal);
        Assert.Contains("long_sde", text, StringComparison.Ordinal);
        Assert.Contains("upscale.long_side", text, StringComparison.Ordinal);
        Assert.All(e.Problems, p => Assert.True(p.Line > 0, p.ToString()));
    }

    [Fact]
    public void IdentityUnits_GoToTheDetailPassByDefault_AndCanBeLeftOut()
    {
        var identity = """

            identity:
              method: faceid_plus
              model: ip-adapter-faceid-plusv2_sd15
              weight: 0.8
            """;
        var withDetail = TestFiles.ParseRecipeText("v2-finish.yaml") + identity;

        Assert.Equal([StepName.Inpaint, StepName.Detail], RecipeLoader.Parse(withDetail, "recipes/a.yaml").Identity!.Steps);
        Assert.Equal([StepName.Inpaint], RecipeLoader.Parse(withDetail + "\n  steps: [inpaint]\n", "recipes/a.yaml").Identity!.Steps);
        Assert.Equal([StepName.Inpaint], RecipeLoader.Parse(TestFiles.ParseRecipeText("v2.yaml") + identity, "recipes/b.yaml").Identity!.Steps);
    }
}
