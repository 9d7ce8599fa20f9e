using System.Text.Json;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;

namespace Miaoya.Pipeline.Tests;

public sealed class PromptComposerTests
{
    [Fact]
    public void Compose_DropsRatingsAndIdentityTags_KeepsOrder_AddsLoraTriggerAndFaceWords()
    {
        var recipe = RecipeLoader.Load(PipelineHarness.RecipePath("v1-face"));
        var tags = new TaggerResult(
            new Dictionary<string, double> { ["1girl"] = 0.99, ["brown_hair"] = 0.9, ["smile"] = 0.8, ["portrait"] = 0.7, ["faint"] = 0.01 },
            new Dictionary<string, double> { ["general"] = 0.95 },
            TaggerFlavor.Picobyte);

        var composed = PromptComposer.Compose(tags, recipe, new LoraChoice("anna_v2", 0.8), ["annaface"]);

        Assert.DoesNotContain("brown hair", composed.KeptTags);
        Assert.Contains("brown hair", composed.DroppedTags);
        Assert.DoesNotContain("faint", composed.Prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("general", composed.Prompt, StringComparison.Ordinal);
        Assert.StartsWith("1girl, smile", composed.Prompt, StringComparison.Ordinal);
        Assert.Contains("<lora:anna_v2:0.8>, annaface", composed.Prompt, StringComparison.Ordinal);
        Assert.Contains("ng_deepnegative_v1_75t", composed.NegativePrompt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anna", "anna", null)]
    [InlineData("anna:0.7", "anna", 0.7)]
    [InlineData("my:lora:1", "my:lora", 1.0)]
    public void LoraChoice_Parses(string text, string name, double? weight)
    {
        Assert.Equal(new LoraChoice(name, weight), LoraChoice.Parse(text));
    }

    [Fact]
    public void LoraChoice_WeightOutOfRange_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => LoraChoice.Parse("anna:3"));

        Assert.Contains("outside 0..2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmbeddingReferences_AreTokensWithDigitsOrUnderscores()
    {
        Assert.Equal(
            ["ng_deepnegative_v1_75t", "badhandv4", "easynegative_v2"],
            Preflight.EmbeddingReferences("ng_deepnegative_v1_75t, badhandv4, lowres, bad anatomy, (easynegative_v2:1.2)"));
    }
}

public sealed class ResponseChecksTests
{
    private static readonly EncodedImage Image = new(Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="));

    private static Img2ImgRequest Request(int units) => new()
    {
        InitImages = [Image],
        Steps = 1,
        Width = 1,
        Height = 1,
        AlwaysOnScripts = new AlwaysOnScripts { ControlNet = new ControlNetScriptArgs(Enumerable.Range(0, units).Select(_ => new ControlNetUnit { Module = "reference_only" }).ToArray()) },
    };

    private static GenerationResponse Response(string model, params string[] extraKeys) => new()
    {
        Images = [Image],
        Info = new GenerationInfo
        {
            SdModelName = model,
            AllSeeds = [1],
            ExtraGenerationParams = extraKeys.ToDictionary(k => k, _ => JsonDocument.Parse("\"x\"").RootElement),
        },
    };

    [Fact]
    public void AllUnitsRanOnTheRightModel_IsFine()
    {
        Assert.Empty(ResponseChecks.Check(Request(2), Response("chilloutmix", "ControlNet 0", "ControlNet 1"), "chilloutmix"));
    }

    [Fact]
    public void MissingUnitsAndWrongModel_AreBothReported()
    {
        var problems = ResponseChecks.Check(Request(3), Response("v1-5-pruned", "ControlNet 0"), "chilloutmix");

        Assert.Contains(problems, p => p.StartsWith("only 1 of 3 ControlNet units ran", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("used checkpoint \"v1-5-pruned\" instead of \"chilloutmix\"", StringComparison.Ordinal));
    }
}
