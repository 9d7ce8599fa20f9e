using System.Text.RegularExpressions;
using Miaoya.Recipes;

namespace Miaoya.Doctor.Tests;

/// <summary>webui-extensions/manifest.yaml covers everything the built-in recipes need, and holds only checkable facts.</summary>
public sealed partial class ManifestTests
{
    private static readonly WebUiManifest Manifest = WebUiManifest.BuiltIn;

    public static TheoryData<string> Recipes() => [.. RecipeLoader.BuiltInNames];

    [Theory]
    [MemberData(nameof(Recipes))]
    public void EveryRequirementOfEveryBuiltInRecipe_HasAnEntry(string name)
    {
        var recipe = RecipeLoader.LoadBuiltIn(name);
        var uncovered = new List<string>();
        foreach (var need in RecipeRequirements.Of(recipe))
        {
            var covered = need.Kind switch
            {
                RequirementKind.Tagger => Manifest.Extension("tagger") is { Required: true },
                RequirementKind.TaggerModel => Manifest.Model("tagger_model", need.Name) is not null,
                RequirementKind.ControlNet or RequirementKind.ControlNetUnits => Manifest.Extension("controlnet") is { Required: true },
                RequirementKind.ControlNetModule => Manifest.Extensions.Any(e => e.Modules.Contains(need.Name)),
                RequirementKind.ControlNetModel => Manifest.Models.Any(m => m.Kind == "controlnet_model" && m.Name == need.Name && m.Recipes.Contains(name)),
                RequirementKind.Checkpoint => Manifest.Models.Any(m => m.Kind == "checkpoint" && m.Name == need.Name && m.Recipes.Contains(name)),
                RequirementKind.Embedding => Manifest.Models.Any(m => m.Kind == "embedding" && m.Name == need.Name && m.Recipes.Contains(name)),
                RequirementKind.Lora => Manifest.Models.Any(m => m.Kind == "lora" && m.Name == need.Name && m.Recipes.Contains(name)), // identity.lora
                RequirementKind.Sampler => true, // part of the WebUI itself
                RequirementKind.Upscaler => Manifest.Models.Any(m => m.Kind == "upscaler" && m.Name == need.Name && m.Recipes.Contains(name)),
                RequirementKind.FaceRestorer => Manifest.Models.Any(m => m.Kind == "face_restorer" && m.Name == need.Name && m.Recipes.Contains(name)),
                _ => false,
            };
            if (!covered)
            {
                uncovered.Add($"{need.Kind} {need.Name} ({need.Where})");
            }
        }

        Assert.Empty(uncovered);
        Assert.Contains(Manifest.Models, m => m.Kind == "lora" && m.Recipes.Contains(name));
    }

    [Fact]
    public void EveryModelEntry_ListsExactlyTheRecipesThatUseIt()
    {
        var uses = RecipeLoader.BuiltInNames
            .SelectMany(n => RecipeRequirements.Of(RecipeLoader.LoadBuiltIn(n)).Select(q => (Recipe: n, Need: q)))
            .ToList();
        foreach (var model in Manifest.Models.Where(m => m.Name.Length > 0))
        {
            var kind = model.Kind switch
            {
                "checkpoint" => RequirementKind.Checkpoint,
                "controlnet_model" => RequirementKind.ControlNetModel,
                "embedding" => RequirementKind.Embedding,
                "lora" => RequirementKind.Lora,
                "upscaler" => RequirementKind.Upscaler,
                "face_restorer" => RequirementKind.FaceRestorer,
                _ => RequirementKind.TaggerModel,
            };
            var expected = uses.Where(u => u.Need.Kind == kind && u.Need.Name == model.Name).Select(u => u.Recipe).Distinct().Order(StringComparer.Ordinal);
            Assert.Equal(expected, model.Recipes.Order(StringComparer.Ordinal));
        }

        var modules = uses.Where(u => u.Need.Kind == RequirementKind.ControlNetModule).Select(u => u.Need.Name).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(modules, Manifest.Extensions.SelectMany(e => e.Modules).Order(StringComparer.Ordinal));
        Assert.Equal([RecipeRequirements.EvaClipModule], Manifest.Extension("evaclip")!.Modules);
    }

    [Fact]
    public void Pins_AreFullCommits_HashesAreSha256OrEmpty_EveryEntryHasSourceAndLicence()
    {
        Assert.Matches(Sha1(), Manifest.WebUi.Commit);
        Assert.Equal(["controlnet", "tagger", "rembg", "evaclip"], Manifest.Extensions.Select(e => e.Id));
        foreach (var extension in Manifest.Extensions)
        {
            Assert.Matches(Sha1(), extension.Commit);
            Assert.StartsWith("https://github.com/", extension.Repo, StringComparison.Ordinal);
            Assert.NotEmpty(extension.Licence);
            Assert.All(extension.KnownCommits.Keys, k => Assert.Matches(Sha1(), k));
        }

        Assert.Equal("1.1.455", Manifest.Extension("controlnet")!.KnownCommits[Manifest.Extension("controlnet")!.Commit]);
        foreach (var model in Manifest.Models)
        {
            Assert.True(model.Sha256.Length == 0 || Sha256().IsMatch(model.Sha256), $"{model.Name}: sha256 '{model.Sha256}'");
            Assert.NotEmpty(model.Source);
            Assert.NotEmpty(model.Licence);
            Assert.DoesNotContain(' ', model.Folder);
        }
    }

    [Fact]
    public async Task MockWebUi110_RunsThePinnedCommits()
    {
        // The mock imitates a box built from this manifest; a pin changed in one place must change in the other.
        using var server = Miaoya.MockWebUi.MockWebUiServer.Start();
        using var http = new HttpClient();
        var extensions = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(new Uri(server.Url, "sdapi/v1/extensions")))!.AsArray();
        foreach (var pin in Manifest.Extensions)
        {
            Assert.Contains(extensions, e => e!["commit_hash"]!.GetValue<string>() == pin.Commit && e["remote"]!.GetValue<string>() == pin.Repo);
        }
    }

    [Fact]
    public void Parse_BrokenManifest_NamesTheSourceAndWhatIsWrong()
    {
        var e = Assert.Throws<InvalidDataException>(() => WebUiManifest.Parse("extensions:\n  - id: x\n    dir: y\n    repo: z\n    commit: abc\n", "m.yaml"));
        Assert.Contains("m.yaml", e.Message, StringComparison.Ordinal);
        Assert.Contains("40-hex commit", e.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<InvalidDataException>(() => WebUiManifest.Parse("extensionz: []\n", "m.yaml"));
        Assert.StartsWith("m.yaml:1:1:", unknown.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex Sha1();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256();
}
