namespace Miaoya.Recipes.Tests;

public class RecipeFileTests
{
    private static string[] FileNames() =>
        Directory.GetFiles(TestFiles.RecipesFolder, "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

    public static TheoryData<string> RecipeFiles() => new(FileNames());

    [Fact]
    public void RecipesFolder_HoldsTheSevenRecipes()
    {
        Assert.Equal(["v1-face-neck.yaml", "v1-face.yaml", "v2-finish.yaml", "v2.yaml", "v3.yaml", "v4-faceid.yaml", "v4-instantid-sdxl.yaml", "v4-pulid-sdxl.yaml"], FileNames());
    }

    [Theory]
    [MemberData(nameof(RecipeFiles))]
    public void EveryRecipeFile_LoadsAndValidates(string fileName)
    {
        var path = TestFiles.RecipePath(fileName);

        var recipe = RecipeLoader.Load(path);

        Assert.Equal(Path.GetFileNameWithoutExtension(fileName), recipe.Name);
        Assert.Equal(path, recipe.SourcePath);
        Assert.Empty(RecipeLoader.Validate(File.ReadAllText(path), fileName));
    }

    [Theory]
    [MemberData(nameof(RecipeFiles))]
    public void EveryRecipeFile_WritesEveryFieldExplicitly(string fileName)
    {
        // Every key Write emits (the complete set the pipeline uses) is also written in the file itself.
        var recipe = TestFiles.ParseRecipe(fileName);
        var fileKeys = Keys(File.ReadAllText(TestFiles.RecipePath(fileName)));
        var writtenKeys = Keys(RecipeYaml.Write(recipe));

        Assert.Empty(writtenKeys.Except(fileKeys));
    }

    [Theory]
    [MemberData(nameof(RecipeFiles))]
    public void EveryRecipeFile_IsBuiltIn(string fileName)
    {
        var name = Path.GetFileNameWithoutExtension(fileName);

        Assert.Contains(name, RecipeLoader.BuiltInNames);
        Assert.Equal(File.ReadAllText(TestFiles.RecipePath(fileName)), RecipeLoader.ReadBuiltIn(name));
        Assert.Equal(TestFiles.ParseRecipe(fileName), RecipeLoader.Load(name));
    }

    [Fact]
    public void Load_MissingFile_NamesTheBuiltIns()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load("recipes/nope.yaml"));

        Assert.Equal("recipes/nope.yaml: no such recipe file; the built-in recipes are v1-face, v1-face-neck, v2, v2-finish, v3, v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl", Assert.Single(e.Problems).ToString());
    }

    [Theory]
    [InlineData("v2x", "v2x: no such recipe file (did you mean 'v2'?); the built-in recipes are v1-face, v1-face-neck, v2, v2-finish, v3, v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl")]
    [InlineData("v4-faceidd.yaml", "v4-faceidd.yaml: no such recipe file (did you mean 'v4-faceid'?); the built-in recipes are v1-face, v1-face-neck, v2, v2-finish, v3, v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl")]
    public void Load_NearMissOfABuiltInName_SaysWhichWasMeant(string name, string expected)
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Load(name));

        Assert.Equal(expected, Assert.Single(e.Problems).ToString());
    }

    [Fact]
    public void ReadBuiltIn_NearMiss_SaysWhichWasMeant()
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.ReadBuiltIn("v1-fase"));

        Assert.Contains("no built-in recipe of that name (did you mean 'v1-face'?)", Assert.Single(e.Problems).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void StepNames_FollowThePipeline()
    {
        Assert.Equal(["interrogate", "mask", "inpaint"], TestFiles.ParseRecipe("v1-face.yaml").StepNames);
        Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], TestFiles.ParseRecipe("v2.yaml").StepNames);
        Assert.Equal(["interrogate", "faceswap", "img2img"], TestFiles.ParseRecipe("v3.yaml").StepNames);
        Assert.Equal([StepName.Interrogate, StepName.FaceSwap, StepName.Img2Img], TestFiles.ParseRecipe("v3.yaml").StepNames);
    }

    /// <summary>Indentation-qualified keys ("  steps") of a block-style YAML text.</summary>
    private static HashSet<string> Keys(string yaml) =>
        yaml.Split('\n')
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, "^( *[a-z0-9_]+):"))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
}
