using Miaoya.Recipes;

namespace Miaoya.Templates.Tests;

public sealed class TemplateRunTests : IDisposable
{
    private readonly TemplateFolder _folder = new();

    [Fact]
    public void Overrides_TemplateThenPromptAdditionsThenUser_AndTheRecipeLoadsWithThem()
    {
        // Arrange
        _folder.Add("astro", TemplateFolder.Valid);
        var template = _folder.Library.Get("astro");
        var basePositive = RecipeLoader.LoadBuiltIn("v1-face").Prompt.Positive;

        // Act
        var overrides = TemplateRun.Overrides(template, o => RecipeLoader.LoadBuiltIn("v1-face", o), ["inpaint.steps=12"]);
        var recipe = RecipeLoader.LoadBuiltIn("v1-face", overrides);

        // Assert
        Assert.Equal("inpaint.denoising_strength=0.5", overrides[0]);
        Assert.Equal("inpaint.steps=12", overrides[^1]);
        Assert.Equal($"{basePositive}, soft light, <lora:film:0.6>", recipe.Prompt.Positive);
        Assert.EndsWith(", cartoon", recipe.Prompt.Negative, StringComparison.Ordinal);
        Assert.Equal(0.5, recipe.Inpaint!.DenoisingStrength);
        Assert.Equal(12, recipe.Inpaint.Steps);

        // The style LoRA is a requirement of the box, so preflight refuses a box without it.
        Assert.Contains(RecipeRequirements.Of(recipe, "person"), r => r.Kind == RequirementKind.Lora && r.Name == "film" && r.Where == "prompt.positive");
    }

    [Fact]
    public void Overrides_UserPromptWins_AndQuotesSurvive()
    {
        _folder.Add("q", TemplateFolder.Valid.Replace("positive_add: soft light", "positive_add: 'say \"cheese\", \\ please'", StringComparison.Ordinal));
        var template = _folder.Library.Get("q");

        var overrides = TemplateRun.Overrides(template, o => RecipeLoader.LoadBuiltIn("v1-face", o), []);
        Assert.EndsWith("say \"cheese\", \\ please, <lora:film:0.6>", RecipeLoader.LoadBuiltIn("v1-face", overrides).Prompt.Positive, StringComparison.Ordinal);

        var mine = TemplateRun.Overrides(template, o => RecipeLoader.LoadBuiltIn("v1-face", o), ["prompt.positive=mine"]);
        Assert.Equal("mine", RecipeLoader.LoadBuiltIn("v1-face", mine).Prompt.Positive);
    }

    public void Dispose() => _folder.Dispose();
}
