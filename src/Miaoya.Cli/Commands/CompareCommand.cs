using System.CommandLine;
using Miaoya.Tuning;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya compare RUN_A RUN_B [--out DIR]</c>: what differs between two runs, and their images side by side.</summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var runA = new Argument<DirectoryInfo>("run-a") { Description = "A run folder (written by miaoya run, demo or sweep)" };
        var runB = new Argument<DirectoryInfo>("run-b") { Description = "Another run folder" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder for compare.html (default: out/compare/A-vs-B)" };
        var command = new Command("compare", "Show what differs between two runs (recipe values, models, seeds, server versions, timings) and write their images side by side as HTML.")
        {
            runA, runB, output,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            RunComparison comparison;
            try
            {
                comparison = await RunComparison.LoadAsync(result.GetValue(runA)!.FullName, result.GetValue(runB)!.FullName, cancellationToken);
            }
            catch (CompareException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }

            Console.Write(comparison.FormatTable());
            var folder = result.GetValue(output)?.FullName
                ?? Path.Combine("out", "compare", $"{Path.GetFileName(comparison.FolderA)}-vs-{Path.GetFileName(comparison.FolderB)}");
            var page = await comparison.WriteHtmlAsync(folder, cancellationToken);
            Console.WriteLine();
            Console.WriteLine($"Side by side: {page}");
            return 0;
        });
        return command;
    }
}
