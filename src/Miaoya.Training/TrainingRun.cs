using System.Diagnostics;
using System.Globalization;
using Miaoya.Imaging;

namespace Miaoya.Training;

/// <summary>Where a parameter set's training stands; <c>RUN/sets/NAME/state.json</c>.</summary>
public enum TrainingStatus
{
    Pending,
    Running,
    Done,
    Failed,
    Cancelled,
}

/// <summary>The state file of one parameter set, rewritten atomically while it trains.</summary>
public sealed record TrainingState
{
    public required string Set { get; init; }

    public TrainingStatus Status { get; init; }

    public long Step { get; init; }

    public long Total { get; init; }

    public double? Loss { get; init; }

    public double? EtaSeconds { get; init; }

    public double? ItPerSecond { get; init; }

    public int? Epoch { get; init; }

    public int? Epochs { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public int? ExitCode { get; init; }

    public required string ConfigSha256 { get; init; }

    public required string OutputFile { get; init; }

    public string? OutputSha256 { get; init; }

    public string? Error { get; init; }
}

/// <summary>run.json: what a training run was made of (read by install and pick).</summary>
public sealed record RunManifest
{
    public required string Dataset { get; init; }

    public required string DatasetName { get; init; }

    public required string Trigger { get; init; }

    public required string Recipe { get; init; }

    public required string BaseModel { get; init; }

    public required string TrainerCommand { get; init; }

    public required string TrainerDir { get; init; }

    public required IReadOnlyList<RunSet> Sets { get; init; }

    /// <summary>The validation settings the run was made with (pick uses them).</summary>
    public required ValidationSettings Validation { get; init; }
}

/// <summary>One set of a run: its LoRA's name and file.</summary>
public sealed record RunSet(string Name, string OutputName, string OutputFile, string Resolution, string Caption);

/// <summary>Options of <see cref="TrainingRun.TrainAsync"/>.</summary>
public sealed record TrainOptions
{
    public required string DatasetDir { get; init; }

    public required LoraTrainingRecipe Recipe { get; init; }

    public required string BaseModel { get; init; }

    public required string RunDir { get; init; }

    public string TrainerCommand { get; init; } = KohyaConfig.DefaultCommand;

    public string TrainerDir { get; init; } = ".";

    /// <summary>Train only these sets (names); null: all.</summary>
    public IReadOnlyCollection<string>? Only { get; init; }

    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Write the configs and commands, train nothing.</summary>
    public bool DryRun { get; init; }
}

/// <summary>What happened to one set.</summary>
public sealed record SetOutcome(string Set, TrainingStatus Status, bool Skipped, string OutputFile, string? Error, string Command = "");

/// <summary>
/// Trains every parameter set of a recipe on a prepared dataset, one after the other, through a configured trainer
/// command. Resumable: a set whose state says done, with the same config and its output file intact, is not retrained.
/// A set that fails is reported with the relevant log lines and the next set still trains; a trainer command whose
/// program the shell cannot start stops the run with a <see cref="TrainingException"/> (bad input) at the first set.
/// </summary>
public static class TrainingRun
{
    public static async Task<IReadOnlyList<SetOutcome>> TrainAsync(
        TrainOptions options, IProgress<(string Set, TrainerProgress Progress)>? progress = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dataset = DatasetManifest.Load(options.DatasetDir);
        if (!File.Exists(options.BaseModel) && !Directory.Exists(options.BaseModel))
        {
            throw new TrainingException($"--base-model {options.BaseModel}: no such file (a .safetensors/.ckpt checkpoint or a diffusers folder on this machine).", badInput: true);
        }

        var unknown = options.Only?.Where(n => options.Recipe.Sets.All(s => s.Name != n)).ToArray() ?? [];
        if (unknown.Length > 0)
        {
            throw new TrainingException($"--only {string.Join(", ", unknown)}: no such set; the recipe's sets are {string.Join(", ", options.Recipe.Sets.Select(s => s.Name))}.", badInput: true);
        }

        var runDir = Path.GetFullPath(options.RunDir);
        var lorasDir = Path.Combine(runDir, "loras");
        Directory.CreateDirectory(lorasDir);
        var baseModel = Path.GetFullPath(options.BaseModel);
        var trainerDir = Path.GetFullPath(options.TrainerDir);

        // Check every set against the dataset before the first one trains (a missing resolution would fail an hour in).
        var plans = new List<(ParameterSet Set, KohyaPaths Paths)>();
        var problems = new List<string>();
        foreach (var set in options.Recipe.Sets)
        {
            var imageDir = dataset.ImageDirFor(set.Resolution);
            if (imageDir is null)
            {
                problems.Add($"set {set.Name}: the dataset has no {set.Resolution} crops (it has {string.Join(", ", dataset.Folders.Select(f => f.Resolution))}); prepare it with --resolution {string.Join(",", dataset.Folders.Select(f => f.Resolution).Append(set.Resolution.ToString()).Distinct())}.");
                continue;
            }

            var outputName = $"{dataset.Name}_{set.Name}";
            plans.Add((set, new KohyaPaths(baseModel, imageDir, dataset.Trigger, lorasDir, outputName, Path.Combine(runDir, "sets", set.Name))));
        }

        if (problems.Count > 0)
        {
            throw new TrainingException(string.Join(Environment.NewLine, problems), badInput: true);
        }

        var manifest = new RunManifest
        {
            Dataset = Path.GetFullPath(options.DatasetDir),
            DatasetName = dataset.Name,
            Trigger = dataset.Trigger,
            Recipe = options.Recipe.Source,
            BaseModel = baseModel,
            TrainerCommand = options.TrainerCommand,
            TrainerDir = trainerDir,
            Sets = plans.Select(p => new RunSet(p.Set.Name, p.Paths.OutputName, p.Paths.OutputFile, p.Set.Resolution.ToString(), p.Set.Caption.ToString().ToLowerInvariant())).ToArray(),
            Validation = options.Recipe.Validation,
        };
        await JsonFiles.WriteAsync(Path.Combine(runDir, "run.json"), manifest, cancellationToken);

        var outcomes = new List<SetOutcome>();
        foreach (var (set, paths) in plans)
        {
            if (options.Only is not null && !options.Only.Contains(set.Name))
            {
                continue;
            }

            outcomes.Add(await TrainSetAsync(set, paths, options, progress, log, cancellationToken));
        }

        return outcomes;
    }

    private static async Task<SetOutcome> TrainSetAsync(
        ParameterSet set, KohyaPaths paths, TrainOptions options, IProgress<(string, TrainerProgress)>? progress, Action<string>? log, CancellationToken cancellationToken)
    {
        var config = KohyaConfig.RenderConfig(set, paths);
        var datasetConfig = KohyaConfig.RenderDatasetConfig(set, paths);
        var command = KohyaConfig.RenderCommand(options.TrainerCommand, set, paths);
        var configSha = JsonFiles.Sha256Text(config + "\n" + datasetConfig + "\n" + command);
        var statePath = Path.Combine(paths.SetFolder, "state.json");

        var previous = JsonFiles.Read<TrainingState>(statePath);
        if (previous is { Status: TrainingStatus.Done } && previous.ConfigSha256 == configSha && File.Exists(paths.OutputFile)
            && previous.OutputSha256 == JsonFiles.Sha256(paths.OutputFile))
        {
            log?.Invoke($"[{set.Name}] already trained: {paths.OutputFile}");
            return new SetOutcome(set.Name, TrainingStatus.Done, true, paths.OutputFile, null, command);
        }

        Directory.CreateDirectory(paths.SetFolder);
        await AtomicFile.WriteAllBytesAsync(paths.ConfigFile, System.Text.Encoding.UTF8.GetBytes(config), cancellationToken);
        await AtomicFile.WriteAllBytesAsync(paths.DatasetConfigFile, System.Text.Encoding.UTF8.GetBytes(datasetConfig), cancellationToken);
        await AtomicFile.WriteAllBytesAsync(Path.Combine(paths.SetFolder, "command.txt"), System.Text.Encoding.UTF8.GetBytes($"cd {KohyaConfig.ShellQuote(Path.GetFullPath(options.TrainerDir))} && {command}\n"), cancellationToken);

        if (options.DryRun)
        {
            return new SetOutcome(set.Name, TrainingStatus.Pending, false, paths.OutputFile, null, command);
        }

        // A stale file from an earlier attempt must not pass for this run's output.
        File.Delete(paths.OutputFile);
        var logFile = Path.Combine(paths.SetFolder, "train.log");
        File.Delete(logFile);

        var state = new TrainingState
        {
            Set = set.Name,
            Status = TrainingStatus.Running,
            StartedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
            ConfigSha256 = configSha,
            OutputFile = paths.OutputFile,
        };
        await JsonFiles.WriteAsync(statePath, state, cancellationToken);
        log?.Invoke($"[{set.Name}] training: {command}");

        // Progress lines come from the reader threads; the state file is rewritten at most once a second.
        var sinceWrite = Stopwatch.StartNew();
        void OnProgress(TrainerProgress p)
        {
            progress?.Report((set.Name, p));
            state = state with
            {
                Step = p.Step,
                Total = p.Total,
                Loss = p.Loss,
                EtaSeconds = p.Eta?.TotalSeconds,
                ItPerSecond = p.Rate,
                Epoch = p.Epoch,
                Epochs = p.Epochs,
                UpdatedAt = DateTimeOffset.UtcNow,
            };
            if (sinceWrite.Elapsed >= TimeSpan.FromSeconds(1) || p.Step == p.Total)
            {
                sinceWrite.Restart();
                JsonFiles.WriteSync(statePath, state);
            }
        }

        TrainerResult result;
        try
        {
            result = await TrainerRunner.RunAsync(command, options.TrainerDir, logFile, OnProgress, options.Environment, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            JsonFiles.WriteSync(statePath, state with { Status = TrainingStatus.Cancelled, FinishedAt = DateTimeOffset.UtcNow, Error = "cancelled; the trainer's process tree was stopped" });
            throw;
        }

        if (TrainerRunner.ProgramNotStarted(result) is { } shellLine)
        {
            // The same command fails the same way for every set: said once, as a configuration error, and no other set is tried.
            var message = $"set {set.Name}: the trainer command could not be started ({shellLine.Trim()}; exit code {result.ExitCode}). "
                + $"It is --trainer-command, now '{options.TrainerCommand}', run through the shell in --trainer-dir {Path.GetFullPath(options.TrainerDir)}: "
                + "install its program there (kohya-ss sd-scripts and its accelerate) or give --trainer-command a command that runs there. The other sets were not tried.";
            await JsonFiles.WriteAsync(statePath, state with { Status = TrainingStatus.Failed, FinishedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow, ExitCode = result.ExitCode, Error = message }, CancellationToken.None);
            throw new TrainingException(message, badInput: true);
        }

        string? error = null;
        if (result.ExitCode != 0)
        {
            error = $"set {set.Name}: the trainer exited with code {result.ExitCode} ({logFile}):{Environment.NewLine}{Quote(result)}";
        }
        else if (!File.Exists(paths.OutputFile))
        {
            error = $"set {set.Name}: the trainer exited with code 0 but wrote no {paths.OutputFile} (check output_dir/output_name/save_model_as in {paths.ConfigFile}; log {logFile}):{Environment.NewLine}{Quote(result)}";
        }

        var final = state with
        {
            Status = error is null ? TrainingStatus.Done : TrainingStatus.Failed,
            FinishedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
            ExitCode = result.ExitCode,
            OutputSha256 = error is null ? JsonFiles.Sha256(paths.OutputFile) : null,
            Error = error,
        };
        await JsonFiles.WriteAsync(statePath, final, CancellationToken.None);
        log?.Invoke(error is null
            ? string.Create(CultureInfo.InvariantCulture, $"[{set.Name}] done: {paths.OutputFile}")
            : $"[{set.Name}] FAILED: {error}");
        return new SetOutcome(set.Name, final.Status, false, paths.OutputFile, error, command);
    }

    private static string Quote(TrainerResult result) =>
        string.Join(Environment.NewLine, TrainerRunner.RelevantLines(result).Select(l => "    | " + l));

    /// <summary>Reads run.json of a run folder.</summary>
    public static RunManifest LoadManifest(string runDir) =>
        JsonFiles.Read<RunManifest>(Path.Combine(runDir, "run.json"))
        ?? throw new TrainingException($"{runDir}: no run.json (not a run folder of miaoya lora train).", badInput: true);

    /// <summary>Reads one set's state.json, or null.</summary>
    public static TrainingState? LoadState(string runDir, string set) =>
        JsonFiles.Read<TrainingState>(Path.Combine(runDir, "sets", set, "state.json"));
}
