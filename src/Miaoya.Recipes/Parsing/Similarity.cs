using Miaoya.Limits;

namespace Miaoya.Recipes.Parsing;

/// <summary>Closest-name suggestions by edit distance.</summary>
internal static class Similarity
{
    /// <summary>The edit distance of names, ignoring case (<see cref="NameDistance.Between"/>).</summary>
    public static int Distance(string a, string b) => NameDistance.Between(a, b);

    /// <summary>The candidate nearest to <paramref name="wanted"/> (first on ties), or null when there are none.</summary>
    public static string? Closest(string wanted, IEnumerable<string> candidates) =>
        candidates.Select(c => (Candidate: c, Distance: Distance(wanted, c)))
            .OrderBy(x => x.Distance)
            .Select(x => x.Candidate)
            .FirstOrDefault();

    /// <summary>The message for an unknown key: the closest known key when it is close, else the list of known keys.</summary>
    public static string UnknownKey(string key, IReadOnlyCollection<string> known)
    {
        var closest = Closest(key, known);
        if (closest is not null && Distance(key, closest) <= Math.Max(2, key.Length / 2))
        {
            return $"unknown key '{key}'; did you mean '{closest}'?";
        }

        return $"unknown key '{key}'; known keys here: {string.Join(", ", known)}";
    }
}
