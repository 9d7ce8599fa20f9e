namespace Miaoya.Limits;

/// <summary>
/// How far a name a user typed is from the names that exist, for "did you mean" hints: the one edit distance every
/// Miaoya message uses (commands, recipe names and keys, box models, ID-photo specs).
/// </summary>
public static class NameDistance
{
    /// <summary>
    /// The Levenshtein distance between <paramref name="a"/> and <paramref name="b"/> (insertions, deletions and
    /// substitutions of one character each), ignoring case (invariant culture).
    /// </summary>
    public static int Between(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);

        // Two rows of the edit-distance table: the previous row of a's prefixes and the one being filled.
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var ai = char.ToUpperInvariant(a[i - 1]);
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (ai == char.ToUpperInvariant(b[j - 1]) ? 0 : 1);
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), substitution);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>
    /// The name of <paramref name="known"/> nearest to <paramref name="wanted"/> (the first of equally near ones), when it
    /// is at most <paramref name="maxDistance"/> edits away (default: a third of <paramref name="wanted"/>'s length, at
    /// least 2) and is not <paramref name="wanted"/> itself (one that differs only in case is suggested); else null.
    /// </summary>
    public static string? DidYouMean(string wanted, IEnumerable<string> known, int? maxDistance = null)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(known);
        var limit = maxDistance ?? Math.Max(2, wanted.Length / 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in known)
        {
            var distance = Between(wanted, name);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (name, distance);
            }
        }

        return best is not null && bestDistance <= limit && !string.Equals(best, wanted, StringComparison.Ordinal) ? best : null;
    }
}
