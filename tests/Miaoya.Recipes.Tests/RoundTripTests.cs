namespace Miaoya.Recipes.Tests;

public class RoundTripTests
{
    [Theory]
    [InlineData("v1-face.yaml")]
    [InlineData("v1-face-neck.yaml")]
    [InlineData("v2.yaml")]
    [InlineData("v3.yaml")]
    public void WriteThenParse_EqualsTheRecipe(string fileName)
    {
        var recipe = TestFiles.ParseRecipe(fileName);

        var written = RecipeYaml.Write(recipe);
        var again = RecipeLoader.Parse(written, recipe.SourcePath);

        Assert.Equal(recipe, again);
        Assert.Equal(written, RecipeYaml.Write(again));
    }

    [Fact]
    public void WriteThenParse_KeepsAwkwardText()
    {
        var v1 = TestFiles.ParseRecipe("v1-face.yaml");
        var recipe = v1 with
        {
            Name = "true",
            Description = "colon: here, \"quotes\", back\\slash, 'apostrophe'\nnew line, trailing space ",
            Interrogate = new InterrogateSettings("wd14-vit-v2-git", 0.3, ["yes"], ["1girl", "123"], 12, false),
            Prompt = new PromptSettings(1.25, ["null", "[x]", "a, b", "#tag"], "", "~"),
            Mask = new MaskSettings(MaskKind.FaceNeck, MaskSource.File, 0.2, 0, 1.5, "masks/face mask #1.png"),
            Inpaint = v1.Inpaint! with { Scheduler = "Karras", Width = 512, Height = 768, ControlNet = [] },
        };

        var again = RecipeLoader.Parse(RecipeYaml.Write(recipe), recipe.SourcePath);

        Assert.Equal(recipe, again);
    }

    [Fact]
    public void RecordEquality_ComparesListsByValue()
    {
        var a = TestFiles.ParseRecipe("v2.yaml");
        var b = TestFiles.ParseRecipe("v2.yaml");

        Assert.NotSame(a.Inpaint!.ControlNet, b.Inpaint!.ControlNet);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Prompt = b.Prompt with { FaceWords = [.. b.Prompt.FaceWords, "x"] } });
        Assert.NotEqual(a, b with { Img2Img = b.Img2Img! with { ControlNet = b.Img2Img.ControlNet.Take(1).ToArray() } });
    }
}
