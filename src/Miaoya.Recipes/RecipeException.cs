namespace Miaoya.Recipes;

/// <summary>A recipe failed to load; <see cref="Problems"/> lists every problem found, the message has one per line.</summary>
public sealed class RecipeException : Exception
{
    /// <summary>Creates the exception for the given problems (at least one).</summary>
    public RecipeException(IReadOnlyList<RecipeProblem> problems)
        : this(problems, problems?.Count ?? 0)
    {
    }

    /// <summary>Creates the exception for the problems listed, of <paramref name="total"/> found (the rest were left out of the list).</summary>
    public RecipeException(IReadOnlyList<RecipeProblem> problems, int total)
        : base(Format(problems))
    {
        Problems = problems;
        Total = Math.Max(total, problems.Count(p => !IsCount(p)));
    }

    /// <summary>Creates the exception for one problem without a place.</summary>
    public RecipeException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception for one problem without a place.</summary>
    public RecipeException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Problems = [new RecipeProblem(string.Empty, 0, 0, string.Empty, message)];
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public RecipeException()
        : this("The recipe is not valid.")
    {
    }

    /// <summary>Every problem found, ordered by place in the file, then the overrides (at most 50, then a line counting the rest).</summary>
    public IReadOnlyList<RecipeProblem> Problems { get; }

    /// <summary>How many problems were found in all.</summary>
    public int Total { get; }

    /// <summary>
    /// The problems as lines (<paramref name="format"/>, default <see cref="RecipeProblem.ToString"/>) that fit in
    /// <paramref name="maxChars"/>, then one counting the rest: a message of bounded size that still says how many there are.
    /// </summary>
    public string Summary(int maxChars, Func<RecipeProblem, string>? format = null)
    {
        format ??= p => p.ToString();
        var lines = new List<string>();
        var used = 0;
        foreach (var problem in Problems.Where(p => !IsCount(p)))
        {
            var line = format(problem);
            if (lines.Count > 0 && used + line.Length > maxChars)
            {
                break;
            }

            lines.Add(line);
            used += line.Length + 1;
        }

        var more = Total - lines.Count;
        return more > 0 ? string.Join('\n', lines.Append($"... and {more:N0} more problem{(more == 1 ? "" : "s")}")) : string.Join('\n', lines);
    }

    /// <summary>The line that counts the problems left out of <see cref="Problems"/>.</summary>
    private static bool IsCount(RecipeProblem p) => p.Line == 0 && p.Path.Length == 0 && p.Message.StartsWith("... and ", StringComparison.Ordinal);

    private static string Format(IReadOnlyList<RecipeProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return string.Join('\n', problems.Select(p => p.ToString()));
    }
}
