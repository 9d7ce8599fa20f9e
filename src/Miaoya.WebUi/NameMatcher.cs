namespace Miaoya.WebUi;

/// <summary>Finds the known names closest to an unknown one, for error messages ("closest: \"a\", \"b\"").</summary>
public static class NameMatcher
{
    public static IReadOnlyList<string> Closest(string wanted, IEnumerable<string> known, int count = 3)
    {
        var lowered = wanted.ToLowerInvariant();
        return known
            .Distinct(StringComparer.Ordinal)
            .Select(k => (Name: k, Score: Score(lowered, k.ToLowerInvariant())))
            .OrderBy(x => x.Score)
            .ThenBy(x => x.Name, StringComparer.Ordinal)
            .Take(count)
            .Select(x => x.Name)
            .ToArray();
    }

    public static string Suggest(string wanted, IEnumerable<string> known)
    {
        var closest = Closest(wanted, known);
        return closest.Count == 0 ? "the server lists none" : "closest: " + string.Join(", ", closest.Select(c => $"\"{c}\""));
    }

    private static int Score(string a, string b)
    {
        // A containing match is the likeliest intent ("chilloutmix" vs "chilloutmix_NiPrunedFp32Fix").
        var distance = Limits.NameDistance.Between(a, b);
        return a.Contains(b, StringComparison.Ordinal) || b.Contains(a, StringComparison.Ordinal) ? distance / 4 : distance;
    }
}
