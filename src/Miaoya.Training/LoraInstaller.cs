using Miaoya.WebUi;

namespace Miaoya.Training;

/// <summary>Where trained LoRAs go: a folder this machine can write (the box's models/Lora, local or mounted), or a copy command.</summary>
public sealed record InstallOptions
{
    public required string RunDir { get; init; }

    public required WebUiClient Client { get; init; }

    /// <summary>The WebUI's LoRA folder (models/Lora), reachable as a path from here.</summary>
    public string? LoraDir { get; init; }

    /// <summary>A shell command per file, with {file} (the local .safetensors) and {name} (its file name), e.g. <c>scp {file} gpu-box:/srv/webui/models/Lora/{name}</c>.</summary>
    public string? CopyCommand { get; init; }
}

/// <summary>
/// Copies every trained LoRA of a run to the WebUI box, asks the box to rescan (<c>POST /sdapi/v1/refresh-loras</c>) and
/// checks that <c>GET /sdapi/v1/loras</c> lists each of them; writes <c>RUN/installed.json</c>.
/// </summary>
public static class LoraInstaller
{
    public static async Task<IReadOnlyList<string>> InstallAsync(InstallOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((options.LoraDir is null) == (options.CopyCommand is null))
        {
            throw new TrainingException("say where the LoRAs go: --lora-dir PATH (the box's models/Lora) or --copy-command \"scp {file} box:/path/models/Lora/{name}\".", badInput: true);
        }

        var manifest = TrainingRun.LoadManifest(options.RunDir);
        var ready = new List<RunSet>();
        foreach (var set in manifest.Sets)
        {
            var state = TrainingRun.LoadState(options.RunDir, set.Name);
            if (state is { Status: TrainingStatus.Done } && File.Exists(set.OutputFile))
            {
                ready.Add(set);
            }
            else
            {
                log?.Invoke($"[{set.Name}] not installed: {(state is null ? "not trained" : $"status {state.Status.ToString().ToLowerInvariant()}")}");
            }
        }

        if (ready.Count == 0)
        {
            throw new TrainingException($"{options.RunDir}: no trained LoRA to install (train first: miaoya lora train).", badInput: true);
        }

        foreach (var set in ready)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileName(set.OutputFile);
            if (options.LoraDir is not null)
            {
                if (!Directory.Exists(options.LoraDir))
                {
                    throw new TrainingException($"--lora-dir {options.LoraDir}: no such folder (the WebUI's models/Lora).", badInput: true);
                }

                // Copy next to the target, then rename: the box never sees half a file.
                var target = Path.Combine(options.LoraDir, name);
                var temporary = Path.Combine(options.LoraDir, $".{name}.{Guid.NewGuid():N}.tmp");
                try
                {
                    await using (var source = File.OpenRead(set.OutputFile))
                    await using (var destination = File.Create(temporary))
                    {
                        await source.CopyToAsync(destination, cancellationToken);
                    }

                    File.Move(temporary, target, overwrite: true);
                }
                finally
                {
                    File.Delete(temporary);
                }

                log?.Invoke($"[{set.Name}] copied to {target}");
            }
            else
            {
                var command = options.CopyCommand!
                    .Replace("{file}", KohyaConfig.ShellQuote(set.OutputFile), StringComparison.Ordinal)
                    .Replace("{name}", KohyaConfig.ShellQuote(name), StringComparison.Ordinal);
                var logFile = Path.Combine(options.RunDir, "sets", set.Name, "install.log");
                var result = await TrainerRunner.RunAsync(command, options.RunDir, logFile, null, null, cancellationToken);
                if (result.ExitCode != 0)
                {
                    throw new TrainingException($"[{set.Name}] the copy command exited with code {result.ExitCode}: {command}{Environment.NewLine}{string.Join(Environment.NewLine, TrainerRunner.RelevantLines(result).Select(l => "    | " + l))}");
                }

                log?.Invoke($"[{set.Name}] copied: {command}");
            }
        }

        await options.Client.RefreshLorasAsync(cancellationToken);
        var listed = await options.Client.GetLorasAsync(cancellationToken);
        var missing = ready.Where(s => !listed.Any(l => l.Name == s.OutputName || l.Alias == s.OutputName)).ToArray();
        if (missing.Length > 0)
        {
            throw new TrainingException(
                $"{options.Client.Endpoint.BaseUrl}: after refresh-loras the box does not list {string.Join(", ", missing.Select(m => m.OutputName))}. " +
                $"Check that the files reached the box's LoRA folder (models/Lora, or its --lora-dir); it lists {string.Join(", ", listed.Select(l => l.Name))}.");
        }

        var installed = ready.Select(s => s.OutputName).ToArray();
        await JsonFiles.WriteAsync(Path.Combine(options.RunDir, "installed.json"), new
        {
            webui = options.Client.Endpoint.BaseUrl.ToString(),
            loras = installed,
            installed_at = DateTimeOffset.UtcNow,
        }, cancellationToken);
        return installed;
    }
}
