using Miaoya.Recipes;

namespace Miaoya.Pipeline.Tests;

/// <summary>The step engine's rules: one map from names to steps, guarded state changes, typed results in the manifest.</summary>
public sealed class StepEngineTests
{
    [Fact]
    public void Steps_EveryStepOfEveryBuiltInRecipe_HasItsCode()
    {
        foreach (var name in RecipeLoader.BuiltInNames)
        {
            var recipe = RecipeLoader.LoadBuiltIn(name);
            foreach (var step in PortraitPipeline.JobSteps(recipe).Append(StepName.Finish))
            {
                Assert.Equal(step, PortraitSteps.Get(step, recipe).Name);
            }
        }

        Assert.Equal(11, PortraitSteps.Names.Count);
        Assert.Throws<PipelineException>(() => PortraitSteps.Get("sharpen", RecipeLoader.LoadBuiltIn("v2")));
    }

    [Fact]
    public void StepRecord_StateChanges_AreGuarded()
    {
        var record = new StepRecord { Name = "inpaint" };
        record.Start(DateTimeOffset.UnixEpoch);
        record.Fail("box said no", 12.5);

        Assert.Equal((StepStatus.Failed, "box said no", 12.5), (record.Status, record.Error, record.DurationMs));
        Assert.Throws<InvalidOperationException>(() => record.Succeed(1));
        Assert.Throws<InvalidOperationException>(() => record.Skip());

        record.Start(DateTimeOffset.UnixEpoch.AddSeconds(1));
        Assert.Equal((StepStatus.Running, null), (record.Status, record.Error));
        record.Skip();
        record.Succeed(3);
        Assert.Equal(StepStatus.Skipped, record.Status);
    }

    [Fact]
    public void StepRecord_Start_DropsWhatAnEarlierAttemptLeft()
    {
        var record = new StepRecord { Name = "mask", Box = "gpu-1" };
        record.Outputs.Add(new FileRecord("mask.png", "ab"));
        record.SetResult(new MaskResult("detector", 1, null, 3.5));

        record.Start(DateTimeOffset.UnixEpoch);

        Assert.Empty(record.Outputs);
        Assert.Empty(record.Result);
        Assert.Null(record.Box);
        Assert.Null(record.ResultAs<MaskResult>());
    }

    [Fact]
    public void TypedResults_RoundTripThroughTheManifestsJson_UnderTheirVersion1Keys()
    {
        var record = new StepRecord { Name = "img2img" };
        record.SetResult(new GenerationResult(DeltaEBefore: 12.5, SkippedBecause: "because"));

        Assert.Equal(["delta_e_before", "skipped_because"], record.Result.Select(p => p.Key));
        Assert.Equal(new GenerationResult(DeltaEBefore: 12.5, SkippedBecause: "because"), record.ResultAs<GenerationResult>());

        var face = new FaceRecord([1.5f, 2, 30, 40], [[3, 4], [5, 6]], 0.9f);
        record.SetResult(new MaskResult("openpose", 2, face, null));
        Assert.Equal(["source", "faces_found", "face"], record.Result.Select(p => p.Key));
        Assert.Equal(face.Box, record.ResultAs<MaskResult>()!.Face!.Box);
    }
}

/// <summary>Preflight's problems are typed requirements, routed to the steps that need them (no message prefixes).</summary>
public sealed class TypedPreflightTests
{
    [Fact]
    public async Task Check_PerStep_HasOnlyWhatThatStepsCallNeeds()
    {
        using var h = new PipelineHarness();
        var box = await h.Client.ProbeAsync();
        var lacking = box with { TaggerModels = [], Loras = [], Embeddings = [] };
        var recipe = RecipeLoader.LoadBuiltIn("v2");
        var lora = LoraChoice.Parse("miaoya_demo_face");

        var interrogate = Preflight.Check(recipe, lacking, lora, StepName.Interrogate);
        var mask = Preflight.Check(recipe, lacking, lora, StepName.Mask);
        var inpaint = Preflight.Check(recipe, lacking, lora, StepName.Inpaint);

        Assert.Equal([RequirementKind.Tagger], interrogate.Select(p => p.Requirement.Kind));
        Assert.Empty(mask);
        Assert.Equal([RequirementKind.Lora, RequirementKind.Embedding, RequirementKind.Embedding], inpaint.Select(p => p.Requirement.Kind));
        var loraProblem = inpaint[0].ToBoxProblem();
        Assert.True(loraProblem.IsInput);
        Assert.Equal("--lora", loraProblem.Field);
        Assert.DoesNotContain(Preflight.Check(recipe, lacking, lora, StepName.Inpaint), p => p.Requirement.Kind == RequirementKind.Tagger);
        Assert.Empty(Preflight.Check(recipe, box, lora));
    }

    [Fact]
    public void Explain_ListsTheRecipesRequirements()
    {
        var recipe = RecipeLoader.LoadBuiltIn("v2");
        var template = new Imaging.EncodedImage(File.ReadAllBytes(PipelineHarness.Astronaut));

        var text = RecipeExplainer.Explain(recipe, template, LoraChoice.Parse("anna"), [], WebUi.SamplerDialect.SplitOrCombined);

        Assert.Contains("needs of a box", text, StringComparison.Ordinal);
        foreach (var need in RecipeRequirements.Of(recipe, "anna"))
        {
            Assert.Contains($"{need.Where} ({string.Join(", ", need.Steps)})", text, StringComparison.Ordinal);
        }
    }
}
