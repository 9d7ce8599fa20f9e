namespace Miaoya.Recipes.Tests;

public class IdentityTests
{
    private const string Identity = """

        identity:
          method: faceid_plus
          model: ip-adapter-faceid-plusv2_sd15
          weight: 0.8
          lora: ip-adapter-faceid-plusv2_sd15_lora
        """;

    [Theory]
    [InlineData("v4-faceid.yaml")]
    [InlineData("v4-instantid-sdxl.yaml")]
    [InlineData("v4-pulid-sdxl.yaml")]
    public void V4Recipes_RoundTrip(string fileName)
    {
        var recipe = TestFiles.ParseRecipe(fileName);

        var again = RecipeLoader.Parse(RecipeYaml.Write(recipe), recipe.SourcePath);

        Assert.Equal(recipe, again);
        Assert.NotNull(recipe.Identity);
        Assert.Equal([StepName.Interrogate, StepName.Identity, StepName.Mask, StepName.Inpaint], recipe.StepNames);
    }

    [Fact]
    public void FaceIdRecipe_HasV1UnitsAndTheIdentityUnitWithItsCompanionLora()
    {
        var v1 = TestFiles.ParseRecipe("v1-face.yaml");
        var v4 = TestFiles.ParseRecipe("v4-faceid.yaml");

        Assert.Equal(ModelFamily.Sd15, v4.ModelFamily);
        Assert.Equal(v1.Inpaint, v4.Inpaint);
        Assert.Equal(IdentityMethod.FaceIdPlus, v4.Identity!.Method);
        Assert.Equal("ip-adapter_face_id_plus", v4.Identity.Module);
        Assert.Equal("ip-adapter-faceid-plusv2_sd15_lora", v4.Identity.Lora);
        Assert.Equal(1, v4.Identity.UnitCount);
        var slots = RecipeRequirements.Of(v4).Single(r => r.Kind == RequirementKind.ControlNetUnits);
        Assert.Equal("4", slots.Name);
        Assert.Contains(RecipeRequirements.Of(v4), r => r is { Kind: RequirementKind.Lora, Where: "identity.lora", Name: "ip-adapter-faceid-plusv2_sd15_lora" });
    }

    [Fact]
    public void InstantId_TakesTwoUnitsAndIsSdxl()
    {
        var recipe = TestFiles.ParseRecipe("v4-instantid-sdxl.yaml");

        Assert.Equal(ModelFamily.Sdxl, recipe.ModelFamily);
        Assert.Equal(2, recipe.Identity!.UnitCount);
        Assert.Equal("instant_id_face_keypoints", recipe.Identity.Keypoints!.Module);
        Assert.Equal("3", RecipeRequirements.Of(recipe).Single(r => r.Kind == RequirementKind.ControlNetUnits).Name);
        Assert.Equal((832, 1216), (recipe.Inpaint!.Width, recipe.Inpaint.Height));
    }

    [Fact]
    public void PuLid_NeedsTheEvaClipPreprocessor()
    {
        var recipe = TestFiles.ParseRecipe("v4-pulid-sdxl.yaml");

        Assert.Equal(PulidMode.Fidelity, recipe.Identity!.PulidMode);
        Assert.Contains(RecipeRequirements.Of(recipe), r => r is { Kind: RequirementKind.ControlNetModule, Name: RecipeRequirements.EvaClipModule });
    }

    [Fact]
    public void IdentitySection_OnV1_DefaultsToTheInpaintStep()
    {
        var recipe = RecipeLoader.Parse(TestFiles.MinimalV1 + Identity, "recipes/test.yaml");

        Assert.Equal([StepName.Inpaint], recipe.Identity!.Steps);
        Assert.Equal("ip-adapter_face_id_plus", recipe.Identity.Module);
    }

    [Fact]
    public void FaceIdModelWithoutFaceidInItsName_IsRefused()
    {
        var problems = TestFiles.Problems(TestFiles.MinimalV1 + Identity, "identity.model=ip-adapter-plus_sd15");

        Assert.Contains(problems, p => p.Contains("identity.model", StringComparison.Ordinal) && p.Contains("lacks \"faceid\"", StringComparison.Ordinal));
    }

    [Fact]
    public void InstantIdOnSd15_IsRefusedNamingTheFamily()
    {
        var yaml = TestFiles.MinimalV1 + """

            identity:
              method: instantid
              model: ip-adapter_instant_id_sdxl
              weight: 0.8
              keypoints:
                model: control_instant_id_sdxl
                weight: 0.8
            """;

        var problems = TestFiles.Problems(yaml);

        Assert.Contains(problems, p => p.Contains("identity.method", StringComparison.Ordinal) && p.Contains("SDXL models only", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("identity.model", StringComparison.Ordinal) && p.Contains("is an SDXL model but the recipe's model_family is sd15", StringComparison.Ordinal));
    }

    [Fact]
    public void InstantIdWithoutKeypoints_IsRefused()
    {
        var yaml = TestFiles.MinimalV1.Replace("base_model: chilloutmix_NiPrunedFp32Fix", "base_model: sd_xl_base_1.0\nmodel_family: sdxl", StringComparison.Ordinal) + """

            identity:
              method: instantid
              model: ip-adapter_instant_id_sdxl
              weight: 0.8
            """;

        Assert.Contains(TestFiles.Problems(yaml), p => p.Contains("identity.keypoints", StringComparison.Ordinal) && p.Contains("keypoints unit", StringComparison.Ordinal));
    }

    [Fact]
    public void SdxlControlNetModelWithSd15Recipe_IsRefusedNamingBoth()
    {
        var problems = TestFiles.Problems(TestFiles.MinimalV1 + """

              controlnet:
                softedge:
                  module: softedge_pidinet
                  model: sargezt_xl_softedge
                  weight: 0.75
            """);

        var problem = Assert.Single(problems);
        Assert.Contains("inpaint.controlnet.softedge.model", problem, StringComparison.Ordinal);
        Assert.Contains("sargezt_xl_softedge is an SDXL model", problem, StringComparison.Ordinal);
        Assert.Contains("base_model chilloutmix_NiPrunedFp32Fix", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Sd15ModelWithSdxlRecipe_IsRefused()
    {
        var problems = TestFiles.Problems(
            TestFiles.ParseRecipeText("v4-pulid-sdxl.yaml"), "inpaint.controlnet.softedge.model=control_v11p_sd15_softedge");

        Assert.Contains(problems, p => p.Contains("control_v11p_sd15_softedge is an SD1.5 model but the recipe's model_family is sdxl", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("juggernautXL_v9Rdphoto2Lightning", ModelFamily.Sdxl)]
    [InlineData("sd_xl_base_1.0 [31e35c80fc]", ModelFamily.Sdxl)]
    [InlineData("diffusers_xl_depth_full", ModelFamily.Sdxl)]
    [InlineData("thibaud_xl_openpose", ModelFamily.Sdxl)]
    [InlineData("ip-adapter-faceid-plusv2_sdxl", ModelFamily.Sdxl)]
    [InlineData("control_v11p_sd15_softedge [a8575a2a]", ModelFamily.Sd15)]
    [InlineData("v1-5-pruned-emaonly", ModelFamily.Sd15)]
    [InlineData("ip-adapter-faceid-plusv2_sd15", ModelFamily.Sd15)]
    [InlineData("chilloutmix_NiPrunedFp32Fix", null)]
    [InlineData("pixlr_style", null)]
    public void ModelFamilies_ReadTheFileName(string name, ModelFamily? expected)
    {
        Assert.Equal(expected, ModelFamilies.Guess(name));
    }

    [Fact]
    public void Candidates_AddTheSelectStepAfterTheFirstGeneration()
    {
        var v2 = TestFiles.ParseRecipe("v2.yaml", ["candidates.count=4"]);
        var v3 = TestFiles.ParseRecipe("v3.yaml", ["candidates.count=2", "candidates.min_similarity=0.5"]);

        Assert.Equal(new CandidatesSettings(4, ScorerChoice.SFace, 0.40, 0.8), v2.Candidates);
        Assert.Equal([StepName.Interrogate, StepName.Mask, StepName.Inpaint, StepName.Select, StepName.Img2Img], v2.StepNames);
        Assert.Equal([StepName.Interrogate, StepName.FaceSwap, StepName.Img2Img, StepName.Select], v3.StepNames);
        Assert.Equal(0.5, v3.Candidates!.MinSimilarity);
        Assert.Equal(v2, RecipeLoader.Parse(RecipeYaml.Write(v2), v2.SourcePath));
    }

    [Fact]
    public void CandidatesOutOfRange_AreRefused()
    {
        var problems = TestFiles.Problems(TestFiles.MinimalV1, "candidates.count=40", "candidates.scorer=facenet");

        Assert.Contains(problems, p => p.Contains("candidates.count", StringComparison.Ordinal) && p.Contains("outside 1..16", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("candidates.scorer", StringComparison.Ordinal) && p.Contains("sface, arcface", StringComparison.Ordinal));
    }

    [Fact]
    public void NonCommercialParts_NameV3_EveryIdentityMethod_AndTheArcFaceScorer()
    {
        Assert.Empty(RecipeLicences.NonCommercial(TestFiles.ParseRecipe("v2.yaml", ["candidates.count=2"])));
        Assert.Equal(["pipeline"], RecipeLicences.NonCommercial(TestFiles.ParseRecipe("v3.yaml")).Select(p => p.Where));
        Assert.Contains("buffalo_l", Assert.Single(RecipeLicences.NonCommercial(TestFiles.ParseRecipe("v4-faceid.yaml"))).What, StringComparison.Ordinal);
        Assert.Contains("antelopev2", Assert.Single(RecipeLicences.NonCommercial(TestFiles.ParseRecipe("v4-pulid-sdxl.yaml"))).What, StringComparison.Ordinal);
        Assert.Equal(
            ["identity.method", "candidates.scorer"],
            RecipeLicences.NonCommercial(TestFiles.ParseRecipe("v4-instantid-sdxl.yaml", ["candidates.scorer=arcface"])).Select(p => p.Where));
    }
}
