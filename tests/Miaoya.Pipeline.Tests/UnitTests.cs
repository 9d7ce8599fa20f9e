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
    [InlineData(" anna : 1 ", "anna", 1.0)]
    [InlineData("anna_v2 (face):2", "anna_v2 (face)", 2.0)]
    public void LoraChoice_Parses(string text, string name, double? weight)
    {
        Assert.Equal(new LoraChoice(name, weight), LoraChoice.Parse(text));
    }

    [Theory]
    [InlineData("anna:NaN", "is not a weight")]
    [InlineData("anna:Infinity", "is not a weight")]
    [InlineData("anna:1e400", "is not a weight")]
    [InlineData("anna:-0.5", "outside 0..2")]
    [InlineData("anna:abc", "is not a weight")]
    [InlineData("my:lora:1", "prompt syntax")]
    [InlineData("<lora:x:1>", "prompt syntax")]
    [InlineData("a\u001b[31mred", "control character")]
    [InlineData("   ", "give the person's LoRA")]
    public void LoraChoice_BadText_IsRefusedSayingWhy(string text, string expected)
    {
        // NaN passed the old 0..2 check ("NaN < 0" is false) and reached the box as <lora:anna:NaN>.
        var error = Assert.Throws<ArgumentException>(() => LoraChoice.Parse(System.Text.RegularExpressions.Regex.Unescape(text)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anna, woman", null)]
    [InlineData("<lora:other:1>", "prompt syntax")]
    [InlineData("(masterpiece:9.9)", "prompt syntax")]
    [InlineData("[cat|dog]", "prompt syntax")]
    [InlineData("line\nbreak", "control character")]
    public void TriggerWords_WithPromptSyntax_AreRefused(string word, string? expected)
    {
        var problem = PromptWords.TriggerProblem([System.Text.RegularExpressions.Regex.Unescape(word)]);

        if (expected is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(expected, problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TriggerWords_TooManyOrTooLong_AreRefused()
    {
        Assert.Contains("at most 64", PromptWords.TriggerProblem(Enumerable.Repeat("w", 65).ToArray()), StringComparison.Ordinal);
        Assert.Contains("at most 100", PromptWords.TriggerProblem([new string('w', 3_000_000)]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1L, true)]
    [InlineData(0L, true)]
    [InlineData(long.MaxValue, true)]
    [InlineData(-2L, false)]
    [InlineData(long.MinValue, false)]
    public void Seeds_BelowMinusOne_AreRefused(long seed, bool ok)
    {
        Assert.Equal(ok, PromptWords.SeedProblem(seed) is null);
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
            RecipeRequirements.EmbeddingReferences("ng_deepnegative_v1_75t, badhandv4, lowres, bad anatomy, (easynegative_v2:1.2)"));
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
