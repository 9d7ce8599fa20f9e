using System.CommandLine;
using Miaoya.Pipeline;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya replay RUN/manifest.json</c>: re-sends a run's recorded requests.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var manifest = new Argument<FileInfo>("manifest") { Description = "A run folder, or its manifest.json" };
        var webui = CliOptions.WebUi();
        var auth = CliOptions.Auth();
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder for the replayed images (default: RUN/replay)" };
        var command = new Command("replay", "Send a run's recorded generation requests again (same payloads, same seeds).") { manifest, webui, auth, output };
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            var path = result.GetValue(manifest)!;
            if (Directory.Exists(path.FullName))
            {
                path = new FileInfo(Path.Combine(path.FullName, "manifest.json"));
                if (!path.Exists)
                {
                    await Console.Error.WriteLineAsync($"error: {path.DirectoryName}: no manifest.json there; give a run folder written by 'miaoya run', or its manifest.json.");
                    return 2;
                }
            }
            else if (!path.Exists)
            {
                await Console.Error.WriteLineAsync($"error: {path.FullName}: not found.");
                return 2;
            }

            // Like run --resume: the run's own box unless --webui says otherwise.
            var box = result.GetValue(webui);
            if (box is null)
            {
                try
                {
                    box = RunCommand.RecordedBox(await new Miaoya.Pipeline.RunFolder(path.DirectoryName!).LoadManifestAsync(cancellationToken));
                }
                catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or Miaoya.Pipeline.PipelineException)
                {
                    await Console.Error.WriteLineAsync($"error: {path.FullName}: cannot be read as a run manifest: {e.Message}");
                    return 2;
                }

                if (box is not null)
                {
                    Console.WriteLine($"Replaying on {box} (the run's box; --webui sends it elsewhere)");
                }
            }

            using var session = new WebUiSession(CliOptions.Endpoint(result, box), verbose: false);
            var target = result.GetValue(output)?.FullName ?? Path.Combine(path.DirectoryName!, "replay");
            var steps = await Replay.RunAsync(session.Client, path.FullName, target, cancellationToken);
            foreach (var step in steps)
            {
                Console.WriteLine($"  {step.Label,-16} {step.Output}  {(step.SameAsRecorded ? "identical to the recorded image" : "differs from the recorded image")}");
            }

            return 0;
        }));
        return command;
    }
}
