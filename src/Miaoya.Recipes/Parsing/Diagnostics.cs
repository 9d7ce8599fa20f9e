using Miaoya.Limits;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Recipes.Parsing;

/// <summary>Collects problems; knows which nodes came from <c>--set</c> so their problems name the override, not the file.</summary>
internal sealed class Diagnostics(string source)
{
    public const string OverrideSource = RecipeProblem.OverrideSource;

    private readonly HashSet<YamlNode> overrideNodes = new(ReferenceEqualityComparer.Instance);
    private readonly List<RecipeProblem> problems = [];

    public string Source { get; } = source;

    public bool HasProblems => problems.Count > 0;

    /// <summary>How many problems were reported (<see cref="Sorted"/> lists at most 50 of them).</summary>
    public int Count => problems.Count;

    public void MarkOverride(YamlNode node)
    {
        foreach (var n in node.AllNodes)
        {
            overrideNodes.Add(n);
        }
    }

    /// <summary>The value node when an override put it there (so the problem names <c>--set</c>), else the key node.</summary>
    public YamlNode KeyOrOverride(YamlNode key, YamlNode value) => overrideNodes.Contains(value) ? value : key;

    public void Report(YamlNode node, string path, string message)
    {
        if (overrideNodes.Contains(node))
        {
            ReportOverride(path, message);
        }
        else
        {
            Report(node.Start, path, message);
        }
    }

    public void Report(Mark mark, string path, string message) => ReportAt((int)mark.Line, (int)mark.Column, path, message);

    public void ReportAt(int line, int column, string path, string message) =>
        problems.Add(new RecipeProblem(Source, line, column, path, message));

    public void ReportOverride(string path, string message) =>
        problems.Add(new RecipeProblem(OverrideSource, 0, 0, path, message));

    /// <summary>
    /// File problems by place, then override problems in the order found; at most <see cref="ReportLimits.MaxProblems"/>,
    /// then one more saying how many were left out (a file of thousands of unknown keys gets a short report).
    /// </summary>
    public IReadOnlyList<RecipeProblem> Sorted()
    {
        var sorted = problems.Select((p, i) => (Problem: p, Index: i))
            .OrderBy(x => x.Problem.Line == 0 ? 1 : 0)
            .ThenBy(x => x.Problem.Line)
            .ThenBy(x => x.Problem.Column)
            .ThenBy(x => x.Index)
            .Select(x => x.Problem)
            .ToList();
        var max = InputLimits.Reports.MaxProblems;
        if (sorted.Count <= max)
        {
            return sorted;
        }

        var more = sorted.Count - max;
        return [.. sorted.Take(max), new RecipeProblem(Source, 0, 0, string.Empty, $"... and {more:N0} more problem{(more == 1 ? "" : "s")} (the first {max} are listed)")];
    }
}
