using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Miaoya.Recipes.Tests;

/// <summary>Paths into the repository and approved-file checks.</summary>
internal static class TestFiles
{
    /// <summary>The smallest valid V1 recipe; tests change one thing in it.</summary>
    public const string MinimalV1 = """
        name: test
        pipeline: v1
        base_model: chilloutmix_NiPrunedFp32Fix
        interrogate:
          threshold: 0.35
        prompt:
          lora_weight: 0.8
        mask:
          kind: face
        inpaint:
          sampler: DPM++ SDE Karras
          steps: 30
          cfg_scale: 7
          denoising_strength: 0.45
        """;

    /// <summary>The problems loading reports, as text; also checks that the message lists them one per line.</summary>
    public static string[] Problems(string yaml, params string[] overrides)
    {
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Parse(yaml, "recipes/test.yaml", overrides));
        Assert.Equal(string.Join('\n', e.Problems), e.Message);
        return e.Problems.Select(p => p.ToString()).ToArray();
    }

    public static string RepoRoot([CallerFilePath] string sourceFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(sourceFile)!, "..", ".."));

    public static string RecipesFolder => Path.Combine(RepoRoot(), "recipes");

    public static string RecipePath(string fileName) => Path.Combine(RecipesFolder, fileName);

    /// <summary>Parses a file of recipes/ under the source name <c>recipes/FILE</c>, as problems and approvals show it.</summary>
    public static Recipe ParseRecipe(string fileName, IEnumerable<string>? overrides = null) =>
        RecipeLoader.Parse(File.ReadAllText(RecipePath(fileName)), $"recipes/{fileName}", overrides);

    /// <summary>The text of a file of recipes/.</summary>
    public static string ParseRecipeText(string fileName) => File.ReadAllText(RecipePath(fileName));

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>
    /// Compares the value's JSON with <c>Approved/NAME.approved.json</c>; on a difference writes <c>NAME.received.json</c>
    /// beside it for review (rename it to approve) and fails.
    /// </summary>
    public static void VerifyApproved(string name, object value, [CallerFilePath] string sourceFile = "")
    {
        var json = JsonSerializer.Serialize(value, Json).ReplaceLineEndings("\n") + "\n";
        var folder = Path.Combine(Path.GetDirectoryName(sourceFile)!, "Approved");
        var approved = Path.Combine(folder, $"{name}.approved.json");
        var received = Path.Combine(folder, $"{name}.received.json");
        if (File.Exists(approved) && File.ReadAllText(approved).ReplaceLineEndings("\n") == json)
        {
            File.Delete(received);
            return;
        }

        Directory.CreateDirectory(folder);
        File.WriteAllText(received, json);
        Assert.Fail($"{name}: the parsed recipe differs from {approved}; review {received} and rename it to approve.");
    }
}
