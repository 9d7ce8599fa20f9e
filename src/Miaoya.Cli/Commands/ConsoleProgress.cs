using System.Globalization;
using Miaoya.Pipeline;

namespace Miaoya.Cli.Commands;

/// <summary>One line per step on a terminal (rewritten in place with percent and ETA); plain lines when redirected.</summary>
internal sealed class ConsoleProgress(string label) : IProgress<PipelineProgress>
{
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private string? _lastStep;

    public void Report(PipelineProgress value)
    {
        var eta = value.Eta is { } t ? string.Create(CultureInfo.InvariantCulture, $" ETA {t.TotalSeconds:0}s") : "";
        var text = string.Create(CultureInfo.InvariantCulture, $"[{label}] {value.Step,-12} {value.Fraction * 100,3:0}%{eta}{(value.Message is null ? "" : "  " + value.Message)}");
        lock (this)
        {
            if (_interactive)
            {
                Console.Write("\r" + text.PadRight(78));
                if (value.Fraction >= 1)
                {
                    Console.WriteLine();
                }
            }
            else if (value.Fraction >= 1 || value.Step != _lastStep)
            {
                Console.WriteLine(text);
            }

            _lastStep = value.Step;
        }
    }
}
