using System.CommandLine;
using System.Text.Json.Nodes;
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
        var json = new Option<bool>("--json") { Description = "Print the comparison as one JSON object instead of tables (shape in docs/commands.md)" };
        var command = new Command("compare", "Show what differs between two runs (recipe values, models, seeds, server versions, timings) and write their images side by side as HTML.")
        {
            runA, runB, output, json,
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

            var folder = result.GetValue(output)?.FullName
                ?? Path.Combine("out", "compare", $"{Path.GetFileName(comparison.FolderA)}-vs-{Path.GetFileName(comparison.FolderB)}");
            var page = await comparison.WriteHtmlAsync(folder, cancellationToken);
            if (result.GetValue(json))
            {
                Console.WriteLine(CliJson.Write(ToJson(comparison, Path.GetFullPath(page))));
                return 0;
            }

            Console.Write(comparison.FormatTable());
            Console.WriteLine();
            Console.WriteLine($"Side by side: {page}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// <c>compare --json</c>: the two folders, how many values were compared, each difference (values as the runs
    /// recorded them, as text; null where a run lacks the key), step timings in milliseconds, the image pairs and the page.
    /// </summary>
    internal static JsonObject ToJson(RunComparison comparison, string page) => new()
    {
        ["a"] = comparison.FolderA,
        ["b"] = comparison.FolderB,
        ["compared"] = comparison.Compared,
        ["differences"] = new JsonArray([.. comparison.Differences.Select(d => (JsonNode?)new JsonObject { ["key"] = d.Key, ["a"] = d.A, ["b"] = d.B })]),
        ["timings"] = new JsonArray([.. comparison.Timings.Select(t => (JsonNode?)new JsonObject { ["step"] = t.Step, ["a_ms"] = t.A, ["b_ms"] = t.B })]),
        ["images"] = new JsonArray([.. comparison.Images.Select(i => (JsonNode?)new JsonObject { ["step"] = i.Step, ["file"] = i.File, ["a"] = i.A, ["b"] = i.B })]),
        ["page"] = page,
    };
}
