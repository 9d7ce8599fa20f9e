namespace Miaoya.Recipes;

/// <summary>A recipe failed to load; <see cref="Problems"/> lists every problem found, the message has one per line.</summary>
public sealed class RecipeException : Exception
{
    /// <summary>Creates the exception for the given problems (at least one).</summary>
    public RecipeException(IReadOnlyList<RecipeProblem> problems)
        : base(Format(problems))
    {
        Problems = problems;
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

    /// <summary>Every problem found, ordered by place in the file, then the overrides.</summary>
    public IReadOnlyList<RecipeProblem> Problems { get; }

    private static string Format(IReadOnlyList<RecipeProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return string.Join('\n', problems.Select(p => p.ToString()));
    }
}
