using Miaoya.Limits;
using Miaoya.Recipes.Parsing;

namespace Miaoya.Recipes;

/// <summary>Reads, overrides and validates recipes; every problem is reported at once in a <see cref="RecipeException"/>.</summary>
public static class RecipeLoader
{
    private const string ResourcePrefix = "Miaoya.Recipes.BuiltIn.";

    /// <summary>The recipes shipped in the repository's <c>recipes/</c> folder (embedded), by name (v1-face, v1-face-neck, v2, v2-finish, v3, v4-*).</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = typeof(RecipeLoader).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..^".yaml".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>
    /// Loads the recipe file at <paramref name="path"/>; when no such file exists and the path is a built-in name
    /// (<c>v2</c> or <c>v2.yaml</c>), the built-in recipe. Problems name the file as given.
    /// </summary>
    /// <param name="path">A recipe file, or a built-in name.</param>
    /// <param name="overrides"><c>path=value</c> overrides, as given to <c>--set</c>.</param>
    /// <exception cref="RecipeException">The file is missing or the recipe is not valid.</exception>
    public static Recipe Load(string path, IEnumerable<string>? overrides = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(path))
        {
            string text;
            try
            {
                text = BoundedFile.ReadAllText(path, InputLimits.Yaml.MaxDocumentChars, "recipe");
            }
            catch (InputLimitException e)
            {
                throw new RecipeException([new RecipeProblem(path, 0, 0, string.Empty, e.Message.Replace(path + ": ", "", StringComparison.Ordinal))]);
            }

            return Parse(text, path, overrides);
        }

        var name = Path.GetFileNameWithoutExtension(path);
        if (!path.Contains('/', StringComparison.Ordinal) && !path.Contains('\\', StringComparison.Ordinal) && BuiltInNames.Contains(name, StringComparer.Ordinal))
        {
            return LoadBuiltIn(name, overrides);
        }

        throw new RecipeException([new RecipeProblem(path, 0, 0, string.Empty, $"no such recipe file{DidYouMean(name)}; the built-in recipes are {string.Join(", ", BuiltInNames)}")]);
    }

    /// <summary>Loads a built-in recipe by name (see <see cref="BuiltInNames"/>); its source is <c>recipes/NAME.yaml</c>.</summary>
    /// <exception cref="RecipeException">Unknown name, or the overrides make it invalid.</exception>
    public static Recipe LoadBuiltIn(string name, IEnumerable<string>? overrides = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return Parse(ReadBuiltIn(name), $"recipes/{name}.yaml", overrides);
    }

    /// <summary>The text of a built-in recipe.</summary>
    /// <exception cref="RecipeException">Unknown name.</exception>
    public static string ReadBuiltIn(string name)
    {
        using var stream = typeof(RecipeLoader).Assembly.GetManifestResourceStream($"{ResourcePrefix}{name}.yaml")
            ?? throw new RecipeException([new RecipeProblem(name, 0, 0, string.Empty, $"no built-in recipe of that name{DidYouMean(name)}; the built-in recipes are {string.Join(", ", BuiltInNames)}")]);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>" (did you mean 'v2'?)" when <paramref name="name"/> is a near miss of a built-in recipe's name, else nothing.</summary>
    private static string DidYouMean(string name) =>
        NameDistance.DidYouMean(name, BuiltInNames) is { } near ? $" (did you mean '{near}'?)" : string.Empty;

    /// <summary>Parses recipe text.</summary>
    /// <param name="yaml">The recipe.</param>
    /// <param name="sourceName">Names the text in problems and becomes <see cref="Recipe.SourcePath"/>.</param>
    /// <param name="overrides"><c>path=value</c> overrides, applied before validation.</param>
    /// <exception cref="RecipeException">Every problem found, file problems by place and then override problems.</exception>
    public static Recipe Parse(string yaml, string sourceName, IEnumerable<string>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        var diagnostics = new Diagnostics(sourceName);
        var root = YamlDocumentReader.Read(yaml, diagnostics);
        Recipe? recipe = null;
        if (root is not null)
        {
            Overrides.Apply(root, overrides ?? [], diagnostics);
            recipe = RecipeMapper.Map(root, diagnostics);
        }

        if (recipe is null || diagnostics.HasProblems)
        {
            throw new RecipeException(diagnostics.Sorted(), diagnostics.Count);
        }

        return recipe;
    }

    /// <summary>Validates without throwing: the problems, empty when the recipe is valid.</summary>
    public static IReadOnlyList<RecipeProblem> Validate(string yaml, string sourceName, IEnumerable<string>? overrides = null)
    {
        try
        {
            Parse(yaml, sourceName, overrides);
            return [];
        }
        catch (RecipeException e)
        {
            return e.Problems;
        }
    }
}
