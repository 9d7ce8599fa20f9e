namespace Miaoya.Recipes.Parsing;

/// <summary>Closest-name suggestions by edit distance.</summary>
internal static class Similarity
{
    public static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

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
