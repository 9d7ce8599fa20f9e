using System.Collections.Concurrent;
using Miaoya.Recipes;

namespace Miaoya.Pipeline;

/// <summary>
/// Resolved recipes of run folders, parsed once per content: a job's every step loads its folder, and its recipe file is
/// the same bytes (checked against the manifest's sha256 first) each time, as it is for every job of a batch. Parsing is
/// pure and a <see cref="Recipe"/> never changes, so the parsed value is shared.
/// </summary>
internal static class ParsedRecipes
{
    private const int MaxEntries = 64;
    private static readonly ConcurrentDictionary<(string Sha256, string Path), Recipe> Cache = new();

    /// <summary>The recipe in <paramref name="bytes"/> (whose sha256 is <paramref name="sha256"/>), read as <see cref="File.ReadAllText(string)"/> reads a file.</summary>
    public static Recipe Parse(byte[] bytes, string sha256, string path)
    {
        if (Cache.TryGetValue((sha256, path), out var known))
        {
            return known;
        }

        using var reader = new StreamReader(new MemoryStream(bytes, writable: false), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var recipe = RecipeLoader.Parse(reader.ReadToEnd(), path);
        if (Cache.Count >= MaxEntries)
        {
            Cache.Clear();
        }

        Cache[(sha256, path)] = recipe;
        return recipe;
    }
}
