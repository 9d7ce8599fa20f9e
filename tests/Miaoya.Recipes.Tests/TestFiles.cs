using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Miaoya.Recipes.Tests;

/// <summary>Paths into the repository and approved-file checks.</summary>
internal static class TestFiles
{
    public static string RepoRoot([CallerFilePath] string sourceFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(sourceFile)!, "..", ".."));

    public static string RecipesFolder => Path.Combine(RepoRoot(), "recipes");

    public static string RecipePath(string fileName) => Path.Combine(RecipesFolder, fileName);

    /// <summary>Parses a file of recipes/ under the source name <c>recipes/FILE</c>, as problems and approvals show it.</summary>
    public static Recipe ParseRecipe(string fileName, IEnumerable<string>? overrides = null) =>
        RecipeLoader.Parse(File.ReadAllText(RecipePath(fileName)), $"recipes/{fileName}", overrides);

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
