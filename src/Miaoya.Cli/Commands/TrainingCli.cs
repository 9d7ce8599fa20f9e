using System.Globalization;
using Miaoya.FaceSwap;
using Miaoya.Training;

namespace Miaoya.Cli.Commands;

/// <summary>Shared pieces of <c>dataset</c> and <c>lora</c>: error mapping, the ArcFace model, the training progress line.</summary>
internal static class TrainingCli
{
    /// <summary>Runs a command body: training errors become one message and exit code 2 (bad input) or 1; Ctrl+C is 130.</summary>
    public static Task<int> RunAsync(Func<Task<int>> body) => WebUiSession.RunAsync(async () =>
    {
        try
        {
            return await body();
        }
        catch (TrainingException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return e.IsBadInput ? 2 : 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled; finished parts are kept (run the same command again to continue).");
            return 130;
        }
    });

    /// <summary>
    /// w600k_r50.onnx in <paramref name="models"/>, or null with the reason when there is none or insightface's models are
    /// disabled on this deployment.
    /// </summary>
    public static (string? Path, string? Why) ArcFace(DirectoryInfo? models)
    {
        if (Environment.GetEnvironmentVariable(Pipeline.PortraitPipeline.DisableInsightfaceVariable) is "1" or "true")
        {
            return (null, $"insightface's models are disabled on this deployment ({Pipeline.PortraitPipeline.DisableInsightfaceVariable})");
        }

        if (models is null)
        {
            return (null, "no --models DIR with w600k_r50.onnx");
        }

        var path = Path.Combine(models.FullName, ModelRegistry.ArcFace.FileName);
        if (!File.Exists(path))
        {
            return (null, $"--models {models.FullName}: no {ModelRegistry.ArcFace.FileName} (insightface's buffalo_l pack)");
        }

        Console.Error.WriteLine(ModelRegistry.LicenceNotice);
        return (path, null);
    }
}

/// <summary>A progress bar per parameter set: rewritten in place on a terminal, a line per 10% when redirected.</summary>
internal sealed class TrainingProgressBar : IProgress<(string Set, TrainerProgress Progress)>
{
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private readonly Dictionary<string, int> _lastDecile = [];

    public void Report((string Set, TrainerProgress Progress) value)
    {
        var (set, p) = value;
        const int width = 24;
        var filled = (int)Math.Round(p.Fraction * width);
        var eta = p.Eta is { } t ? $" ETA {(int)t.TotalMinutes}m{t.Seconds:00}s" : "";
        var loss = p.Loss is { } l ? string.Create(CultureInfo.InvariantCulture, $" loss {l:0.0000}") : "";
        var epoch = p.Epoch is { } e ? $" epoch {e}/{p.Epochs}" : "";
        var text = string.Create(CultureInfo.InvariantCulture, $"[{set}] [{new string('#', filled)}{new string('.', width - filled)}] {p.Step}/{p.Total} {p.Fraction * 100,3:0}%{loss}{eta}{epoch}");
        lock (this)
        {
            if (_interactive)
            {
                Console.Write("\r" + text.PadRight(100));
                if (p.Step >= p.Total)
                {
                    Console.WriteLine();
                }

                return;
            }

            var decile = (int)(p.Fraction * 10);
            if (!_lastDecile.TryGetValue(set, out var last) || decile > last)
            {
                _lastDecile[set] = decile;
                Console.WriteLine(text);
            }
        }
    }
}
