using Miaoya.Recipes;

namespace Miaoya.Tuning;

/// <summary>One varied recipe value: its path and the values tried, in the order given.</summary>
public sealed record SweepAxis(string Path, IReadOnlyList<string> Values)
{
    /// <summary>The override that sets this axis to <paramref name="value"/>, as <c>--set</c> takes it.</summary>
    public string Override(string value) => $"{Path}={value}";
}

/// <summary>One cell of the grid: the value index on each axis, and its position in the sweep.</summary>
public sealed record SweepCell(int Index, IReadOnlyList<int> Choice)
{
    /// <summary>The axis values of this cell.</summary>
    public IReadOnlyList<string> Values(IReadOnlyList<SweepAxis> axes) => Choice.Select((c, a) => axes[a].Values[c]).ToArray();
}

/// <summary>Bad <c>--vary</c> input; the message says which option and why.</summary>
public sealed class SweepException : Exception
{
    public SweepException(string message)
        : base(message)
    {
    }

    public SweepException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SweepException()
        : this("the sweep is not valid.")
    {
    }
}

/// <summary>Reads <c>--vary</c> options, checks them against the recipe before anything runs, and expands the grid.</summary>
public static class SweepPlan
{
    /// <summary>Parses <c>path=v1,v2,...</c> options; every problem at once.</summary>
    /// <exception cref="SweepException">Malformed option, empty or repeated value, the same path twice.</exception>
    public static IReadOnlyList<SweepAxis> ParseVary(IEnumerable<string> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var axes = new List<SweepAxis>();
        var problems = new List<string>();
        foreach (var option in options)
        {
            var equals = option.IndexOf('=', StringComparison.Ordinal);
            var path = equals < 0 ? option.Trim() : option[..equals].Trim();
            if (equals <= 0 || path.Length == 0)
            {
                problems.Add($"--vary '{option}': expected path=value1,value2,... (e.g. inpaint.denoising_strength=0.4,0.6)");
                continue;
            }

            var values = option[(equals + 1)..].Split(',').Select(v => v.Trim()).ToArray();
            if (values.Any(v => v.Length == 0))
            {
                problems.Add($"--vary {path}: an empty value in '{option[(equals + 1)..]}'; separate values with single commas");
                continue;
            }

            var repeated = values.GroupBy(v => v, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
            if (repeated.Length > 0)
            {
                problems.Add($"--vary {path}: {string.Join(", ", repeated)} given more than once");
                continue;
            }

            if (axes.Any(a => a.Path == path))
            {
                problems.Add($"--vary {path}: given twice; list all its values in one --vary");
                continue;
            }

            axes.Add(new SweepAxis(path, values));
        }

        if (problems.Count == 0 && axes.Count == 0)
        {
            problems.Add("--vary: give at least one, e.g. --vary inpaint.denoising_strength=0.4,0.6");
        }

        return problems.Count > 0 ? throw new SweepException(string.Join(Environment.NewLine, problems)) : axes;
    }

    /// <summary>
    /// Loads the recipe once per axis value and once per cell with the <c>--set</c> overrides and the cell's values
    /// applied, the way a run does, so an unknown path (with the closest key), a value out of range or a combination
    /// that is not valid is an error before any generation.
    /// </summary>
    /// <exception cref="RecipeException">The recipe or the <c>--set</c> overrides themselves have problems.</exception>
    /// <exception cref="SweepException">A <c>--vary</c> path or value is not valid; every problem at once.</exception>
    public static void Validate(string recipe, IReadOnlyList<string> sets, IReadOnlyList<SweepAxis> axes)
    {
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(axes);

        // The recipe and --set alone first: their problems are theirs, not a --vary's.
        RecipeLoader.Load(recipe, sets);
        var problems = new List<string>();
        foreach (var axis in axes.Where(a => sets.Any(s => s.Split('=')[0].Trim() == a.Path)))
        {
            problems.Add($"--vary {axis.Path}: also given with --set; drop one");
        }

        foreach (var axis in axes)
        {
            foreach (var value in axis.Values)
            {
                var found = Problems(recipe, [.. sets, axis.Override(value)]);
                var unknown = found.FirstOrDefault(p => p.Message.StartsWith("no such field", StringComparison.Ordinal) || p.Message.StartsWith("is a section", StringComparison.Ordinal));
                if (unknown is not null)
                {
                    problems.Add($"--vary {axis.Path}: {unknown.Message}");
                    break;
                }

                problems.AddRange(found.Select(p => $"--vary {axis.Path}={value}: {Describe(p, axis.Path)}"));
            }
        }

        if (problems.Count == 0)
        {
            // Each value is fine alone; a combination can still break a rule between fields (guidance start <= end).
            foreach (var cell in Expand(axes))
            {
                var values = cell.Values(axes);
                var overrides = axes.Select((a, i) => a.Override(values[i])).ToArray();
                problems.AddRange(Problems(recipe, [.. sets, .. overrides]).Select(p => $"--vary cell {Label(axes, values)}: {Describe(p, null)}"));
            }
        }

        if (problems.Count > 0)
        {
            throw new SweepException(string.Join(Environment.NewLine, problems.Distinct(StringComparer.Ordinal)));
        }
    }

    /// <summary>The cartesian product, the first axis varying fastest (so cells fill a row of the contact sheet first).</summary>
    public static IReadOnlyList<SweepCell> Expand(IReadOnlyList<SweepAxis> axes)
    {
        ArgumentNullException.ThrowIfNull(axes);
        if (axes.Count == 0)
        {
            return [];
        }

        var total = axes.Aggregate(1L, (n, a) => n * a.Values.Count);
        if (total > 10_000)
        {
            throw new SweepException($"--vary: {total} cells; a sweep holds at most 10000");
        }

        var cells = new List<SweepCell>((int)total);
        var choice = new int[axes.Count];
        for (var index = 0; index < total; index++)
        {
            cells.Add(new SweepCell(index, (int[])choice.Clone()));
            for (var a = 0; a < axes.Count; a++)
            {
                if (++choice[a] < axes[a].Values.Count)
                {
                    break;
                }

                choice[a] = 0;
            }
        }

        return cells;
    }

    /// <summary>The overrides a cell's run is loaded with: the <c>--set</c> values, then the cell's values.</summary>
    public static IReadOnlyList<string> Overrides(IReadOnlyList<string> sets, IReadOnlyList<SweepAxis> axes, SweepCell cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        var values = cell.Values(axes);
        return [.. sets, .. axes.Select((a, i) => a.Override(values[i]))];
    }

    /// <summary><c>path=value, path=value</c> for messages and captions.</summary>
    public static string Label(IReadOnlyList<SweepAxis> axes, IReadOnlyList<string> values) =>
        string.Join(", ", axes.Select((a, i) => $"{a.Path}={values[i]}"));

    private static IReadOnlyList<RecipeProblem> Problems(string recipe, IReadOnlyList<string> overrides)
    {
        try
        {
            RecipeLoader.Load(recipe, overrides);
            return [];
        }
        catch (RecipeException e)
        {
            return e.Problems;
        }
    }

    private static string Describe(RecipeProblem problem, string? path) =>
        problem.Path.Length == 0 || problem.Path == path ? problem.Message : $"{problem.Path}: {problem.Message}";
}
