using System.Globalization;
using System.Text.RegularExpressions;

namespace Miaoya.Training;

/// <summary>One progress reading of a trainer: step of total, average loss, time left, epoch.</summary>
public sealed record TrainerProgress(long Step, long Total, double? Loss, TimeSpan? Elapsed, TimeSpan? Eta, double? Rate, int? Epoch, int? Epochs)
{
    public double Fraction => Total > 0 ? Math.Clamp((double)Step / Total, 0, 1) : 0;
}

/// <summary>
/// Reads kohya train_network.py's console output. Its step bar is <c>tqdm(range(max_train_steps), desc="steps")</c> with
/// <c>set_postfix(avr_loss=…)</c> (train_network.py, sd-scripts 48d368f), which tqdm prints, rewriting the line with
/// <c>\r</c>, as <c>steps:  45%|████▌     | 450/1000 [01:23&lt;01:42,  5.36it/s, avr_loss=0.0812]</c>; before each
/// epoch it prints <c>epoch 3/10</c> (accelerator.print). Validation bars (desc "validation steps") are ignored.
/// </summary>
public sealed partial class TrainerProgressParser
{
    private int? _epoch;
    private int? _epochs;

    /// <summary>The latest reading, or null before the first step line.</summary>
    public TrainerProgress? Latest { get; private set; }

    /// <summary>Feeds one line (split at \r or \n); true when it changed <see cref="Latest"/>.</summary>
    public bool Feed(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var epoch = EpochLine().Match(line);
        if (epoch.Success)
        {
            _epoch = int.Parse(epoch.Groups[1].Value, CultureInfo.InvariantCulture);
            _epochs = int.Parse(epoch.Groups[2].Value, CultureInfo.InvariantCulture);
            if (Latest is not null)
            {
                Latest = Latest with { Epoch = _epoch, Epochs = _epochs };
                return true;
            }

            return false;
        }

        var m = StepsBar().Match(line);
        if (!m.Success)
        {
            return false;
        }

        var step = long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        var total = long.Parse(m.Groups["total"].Value, CultureInfo.InvariantCulture);
        double? rate = null;
        if (double.TryParse(m.Groups["rate"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var r))
        {
            rate = m.Groups["unit"].Value.StartsWith("s/", StringComparison.Ordinal) && r > 0 ? 1 / r : r;
        }

        double? loss = Latest?.Loss;
        var postfix = m.Groups["postfix"].Value;
        var lossMatch = LossField().Match(postfix);
        if (lossMatch.Success && double.TryParse(lossMatch.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var l))
        {
            loss = l;
        }

        Latest = new TrainerProgress(step, total, loss, Time(m.Groups["elapsed"].Value), Time(m.Groups["left"].Value), rate, _epoch, _epochs);
        return true;
    }

    /// <summary>tqdm's [H:]MM:SS; "?" (unknown yet) is null.</summary>
    internal static TimeSpan? Time(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is < 2 or > 3 || !parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit)))
        {
            return null;
        }

        var values = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return values.Length == 3 ? new TimeSpan(values[0], values[1], values[2]) : new TimeSpan(0, values[0], values[1]);
    }

    // "steps:  45%|####5     | 450/1000 [01:23<01:42,  5.36it/s, avr_loss=0.0812]"; rate may be "?it/s" at the start.
    [GeneratedRegex(@"^\s*steps:\s*\d+%\|[^|]*\|\s*(?<n>\d+)/(?<total>\d+)\s*\[(?<elapsed>[\d:]+)<(?<left>[\d:?]+),\s*(?<rate>[\d.?]+)(?<unit>it/s|s/it)(?:,\s*(?<postfix>[^\]]*))?\]", RegexOptions.CultureInvariant)]
    private static partial Regex StepsBar();

    [GeneratedRegex(@"(?:^|[\s,])avr_loss=([-+\d.eE]+|nan|inf)", RegexOptions.CultureInvariant)]
    private static partial Regex LossField();

    [GeneratedRegex(@"^\s*epoch (\d+)/(\d+)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex EpochLine();
}
