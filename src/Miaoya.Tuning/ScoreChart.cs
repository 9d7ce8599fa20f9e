using System.Globalization;
using System.Net;
using System.Text;

namespace Miaoya.Tuning;

/// <summary>
/// The contact sheet's likeness charts: for one varied key, an inline SVG of each scored cell's similarity (y) against
/// the key's value (x), with a line through the mean per value when the key has several cells per value (other keys
/// varied too). Numeric values sit on a linear scale, others evenly spaced in the order given. Every chart of a sweep
/// shares one y range (the scores and the person's baseline, to the nearest 0.1), so charts compare at a glance.
/// </summary>
internal static class ScoreChart
{
    public const int Width = 440;
    public const int Height = 280;
    public const int Left = 64;
    public const int Right = 20;
    public const int Top = 16;
    public const int Bottom = 56;

    /// <summary>Space between the plot's edge and the first and last value.</summary>
    public const int Inset = 24;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The y range every chart of the sweep uses; null when no cell has a similarity.</summary>
    public static (double Low, double High)? Range(SweepManifest manifest)
    {
        var values = manifest.Cells.Select(c => c.Likeness?.Similarity).OfType<double>()
            .Concat(manifest.Cells.Select(c => c.Likeness?.Baseline).OfType<double>()).ToArray();
        if (values.Length == 0 || !manifest.Cells.Any(c => c.Likeness?.Similarity is not null))
        {
            return null;
        }

        var low = Math.Floor(values.Min() * 10) / 10;
        var high = Math.Ceiling(values.Max() * 10) / 10;
        if (high - low < 0.1)
        {
            (low, high) = high >= 1 ? (high - 0.1, high) : (low, low + 0.1);
        }

        return (Math.Round(low, 1), Math.Round(high, 1));
    }

    /// <summary>The x of each of <paramref name="axis"/>'s values, in its order.</summary>
    public static double[] Xs(SweepAxis axis)
    {
        var span = Width - Left - Right - (2 * Inset);
        var count = axis.Values.Count;
        var numbers = axis.Values.Select(v => double.TryParse(v, NumberStyles.Float, Inv, out var n) && double.IsFinite(n) ? n : (double?)null).ToArray();
        if (numbers.All(n => n is not null) && numbers.Distinct().Count() == count && count > 1)
        {
            double min = numbers.Min()!.Value, max = numbers.Max()!.Value;
            return numbers.Select(n => Left + Inset + (span * (n!.Value - min) / (max - min))).ToArray();
        }

        return count == 1
            ? [Left + Inset + (span / 2.0)]
            : Enumerable.Range(0, count).Select(i => Left + Inset + (span * i / (double)(count - 1))).ToArray();
    }

    /// <summary>The y of similarity <paramref name="value"/> in <paramref name="range"/>.</summary>
    public static double Y(double value, (double Low, double High) range) =>
        Top + ((Height - Top - Bottom) * (range.High - value) / (range.High - range.Low));

    /// <summary>The chart of axis <paramref name="axis"/>; null when no cell has a similarity.</summary>
    public static string? Svg(SweepManifest manifest, int axis)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (Range(manifest) is not { } range)
        {
            return null;
        }

        var key = manifest.Definition.Axes[axis];
        var xs = Xs(key);
        var plotBottom = Height - Bottom;
        var svg = new StringBuilder();
        svg.Append(Inv, $"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" data-key=\"{E(key.Path)}\" data-y-low=\"{N(range.Low)}\" data-y-high=\"{N(range.High)}\">\n");
        svg.Append(Inv, $"<title>similarity against {E(key.Path)}</title>\n");

        // Axes, y ticks every 0.1 (0.2 over wide ranges), x ticks at the values.
        svg.Append(Inv, $"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{plotBottom}\" stroke=\"#333\"/>");
        svg.Append(Inv, $"<line class=\"axis\" x1=\"{Left}\" y1=\"{plotBottom}\" x2=\"{Width - Right}\" y2=\"{plotBottom}\" stroke=\"#333\"/>\n");
        var step = range.High - range.Low > 0.5 ? 0.2 : 0.1;
        for (var tick = range.Low; tick <= range.High + 1e-9; tick += step)
        {
            var y = N(Y(tick, range));
            svg.Append(Inv, $"<line x1=\"{Left - 4}\" y1=\"{y}\" x2=\"{Width - Right}\" y2=\"{y}\" stroke=\"#e4e4e4\"/>");
            svg.Append(Inv, $"<text class=\"y-tick\" x=\"{Left - 8}\" y=\"{y}\" dy=\"0.35em\" text-anchor=\"end\" font-size=\"11\">{tick.ToString("0.0", Inv)}</text>\n");
        }

        for (var i = 0; i < xs.Length; i++)
        {
            svg.Append(Inv, $"<line x1=\"{N(xs[i])}\" y1=\"{plotBottom}\" x2=\"{N(xs[i])}\" y2=\"{plotBottom + 4}\" stroke=\"#333\"/>");
            svg.Append(Inv, $"<text class=\"x-tick\" x=\"{N(xs[i])}\" y=\"{plotBottom + 16}\" text-anchor=\"middle\" font-size=\"11\">{E(key.Values[i])}</text>\n");
        }

        svg.Append(Inv, $"<text class=\"x-label\" x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\" font-size=\"12\">{E(key.Path)}</text>\n");
        svg.Append(Inv, $"<text class=\"y-label\" transform=\"translate(16 {(Top + plotBottom) / 2}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">similarity</text>\n");

        var baseline = manifest.Cells.Select(c => c.Likeness?.Baseline).OfType<double>().FirstOrDefault(double.NaN);
        if (!double.IsNaN(baseline))
        {
            var y = N(Y(baseline, range));
            svg.Append(Inv, $"<line class=\"baseline\" x1=\"{Left}\" y1=\"{y}\" x2=\"{Width - Right}\" y2=\"{y}\" stroke=\"#2a7\" stroke-dasharray=\"4 3\"/>");
            svg.Append(Inv, $"<text x=\"{Width - Right}\" y=\"{y}\" dy=\"-4\" text-anchor=\"end\" font-size=\"10\" fill=\"#2a7\">the person's baseline {baseline.ToString("0.000", Inv)}</text>\n");
        }

        // A line through the mean per value, when values have several cells.
        var scored = manifest.Cells.Where(c => c.Likeness?.Similarity is not null).ToList();
        var byValue = key.Values.Select((v, i) => (X: xs[i], Sims: scored.Where(c => c.Values[axis] == v).Select(c => c.Likeness!.Similarity!.Value).ToArray()))
            .Where(g => g.Sims.Length > 0).ToArray();
        if (byValue.Any(g => g.Sims.Length > 1))
        {
            var points = string.Join(' ', byValue.Select(g => $"{N(g.X)},{N(Y(g.Sims.Average(), range))}"));
            svg.Append(Inv, $"<polyline class=\"mean\" points=\"{points}\" fill=\"none\" stroke=\"#c60\" stroke-width=\"2\"><title>mean per value</title></polyline>\n");
        }

        foreach (var cell in scored)
        {
            var value = cell.Values[axis];
            var x = xs[key.Values.ToList().IndexOf(value)];
            var similarity = cell.Likeness!.Similarity!.Value;
            var label = SweepPlan.Label(manifest.Definition.Axes, cell.Values);
            svg.Append(Inv, $"<circle class=\"cell\" data-cell=\"{cell.Index}\" data-value=\"{E(value)}\" data-similarity=\"{similarity.ToString("0.####", Inv)}\" cx=\"{N(x)}\" cy=\"{N(Y(similarity, range))}\" r=\"4\" fill=\"#136\" fill-opacity=\"0.75\"><title>{E(label)}: similarity {similarity.ToString("0.000", Inv)}</title></circle>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string N(double value) => value.ToString("0.##", Inv);

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
