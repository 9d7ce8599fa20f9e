using System.Globalization;

namespace Miaoya.Recipes;

/// <summary>One problem found in a recipe.</summary>
/// <param name="Source">The file (as given), the source name passed to <see cref="RecipeLoader.Parse"/>, or <c>--set</c> for an override.</param>
/// <param name="Line">1-based line; 0 when the problem has no place in a file (overrides, a missing file).</param>
/// <param name="Column">1-based column; 0 with <paramref name="Line"/> 0.</param>
/// <param name="Path">Field path such as <c>inpaint.controlnet.softedge.weight</c>; empty for the whole file.</param>
/// <param name="Message">What is wrong, and what would be right.</param>
public sealed record RecipeProblem(string Source, int Line, int Column, string Path, string Message)
{
    /// <summary>The <see cref="Source"/> of a problem with an override (<c>--set</c>, a job's <c>overrides</c>).</summary>
    public const string OverrideSource = "--set";

    /// <summary>True for a problem with an override rather than with the recipe's text.</summary>
    public bool IsOverride => Source == OverrideSource;

    /// <summary><c>file:line:column: path: message</c> (without line and column when there are none, without path when empty).</summary>
    public override string ToString()
    {
        var place = Line > 0 ? string.Create(CultureInfo.InvariantCulture, $"{Source}:{Line}:{Column}") : Source;
        return Path.Length == 0 ? $"{place}: {Message}" : $"{place}: {Path}: {Message}";
    }
}
