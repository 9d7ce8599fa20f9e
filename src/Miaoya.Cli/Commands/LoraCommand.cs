using System.CommandLine;
using System.Globalization;
using Miaoya.Faces;
using Miaoya.Training;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya lora train|status|install|pick</c>: train the recipe's parameter sets, install the LoRAs on a box, choose the best.</summary>
internal static class LoraCommand
{
    public static Command Create() => new("lora", "Face LoRAs: train the parameter sets, install them on the WebUI box, pick the best.")
    {
        Train(),
        Status(),
        Install(),
        Pick(),
    };

    private static Command Train()
    {
        var dataset = new Argument<DirectoryInfo>("dataset") { Description = "Dataset folder written by miaoya dataset prepare" };
        var recipe = new Option<string>("--recipe") { Description = "Training recipe file, or the built-in 'lora-training'", DefaultValueFactory = _ => LoraTrainingRecipe.BuiltInName };
        var baseModel = new Option<FileSystemInfo>("--base-model") { Description = "Base checkpoint (.safetensors/.ckpt, or a diffusers folder) on the training machine", Required = true };
        var trainerCommand = new Option<string>("--trainer-command")
        {
            Description = "Trainer command run through the shell in --trainer-dir; {config}, {dataset_config}, {output_dir}, {output_name}, {set} are replaced",
            DefaultValueFactory = _ => KohyaConfig.DefaultCommand,
        };
        var trainerDir = new Option<DirectoryInfo>("--trainer-dir") { Description = "The kohya-ss sd-scripts checkout (working folder of the command)", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run folder (configs, logs, state, LoRAs); run again to resume", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a recipe value: SET.KEY=VALUE (SET: name, 1-based index, defaults, validation)", AllowMultipleArgumentsPerToken = true };
        var only = new Option<string[]>("--only") { Description = "Train only these sets (names)", AllowMultipleArgumentsPerToken = true };
        var dryRun = new Option<bool>("--dry-run") { Description = "Write the configs and print the commands without training" };
        var command = new Command("train", "Train the recipe's parameter sets with kohya sd-scripts (or a compatible command); finished sets are not retrained.")
        {
            dataset, recipe, baseModel, trainerCommand, trainerDir, output, set, only, dryRun,
        };
        command.SetAction((result, cancellationToken) => TrainingCli.RunAsync(async () =>
        {
            var loaded = LoraTrainingRecipe.Load(result.GetValue(recipe)!, result.GetValue(set));
            var options = new TrainOptions
            {
                DatasetDir = result.GetValue(dataset)!.FullName,
                Recipe = loaded,
                BaseModel = result.GetValue(baseModel)!.FullName,
                RunDir = result.GetValue(output)!.FullName,
                TrainerCommand = result.GetValue(trainerCommand)!,
                TrainerDir = result.GetValue(trainerDir)!.FullName,
                Only = result.GetValue(only) is { Length: > 0 } o ? o : null,
                DryRun = result.GetValue(dryRun),
            };
            if (options.DryRun)
            {
                foreach (var planned in await TrainingRun.TrainAsync(options, cancellationToken: cancellationToken))
                {
                    Console.WriteLine($"[{planned.Set}] {(planned.Skipped ? "already trained" : $"cd {KohyaConfig.ShellQuote(options.TrainerDir)} && {planned.Command}")}");
                }

                return 0;
            }

            var outcomes = await TrainingRun.TrainAsync(options, new TrainingProgressBar(), Console.WriteLine, cancellationToken);
            var failed = outcomes.Where(x => x.Status != TrainingStatus.Done).ToArray();
            Console.WriteLine($"{outcomes.Count - failed.Length} of {outcomes.Count} set(s) trained ({outcomes.Count(x => x.Skipped)} already done). Run folder: {options.RunDir}");
            if (failed.Length > 0)
            {
                foreach (var f in failed)
                {
                    await Console.Error.WriteLineAsync($"error: {f.Error}");
                }

                await Console.Error.WriteLineAsync($"After fixing the cause, run the same command again: finished sets are kept.");
                return 1;
            }

            return 0;
        }));
        return command;
    }

    private static Command Status()
    {
        var run = new Argument<DirectoryInfo>("run") { Description = "Run folder of miaoya lora train" };
        var command = new Command("status", "Show each parameter set's training state (from its state.json).") { run };
        command.SetAction((result, _) => TrainingCli.RunAsync(() =>
        {
            var dir = result.GetValue(run)!.FullName;
            var manifest = TrainingRun.LoadManifest(dir);
            foreach (var s in manifest.Sets)
            {
                var state = TrainingRun.LoadState(dir, s.Name);
                var text = state is null
                    ? "pending"
                    : string.Create(CultureInfo.InvariantCulture, $"{state.Status.ToString().ToLowerInvariant()} {state.Step}/{state.Total}{(state.Loss is { } l ? $" loss {l:0.0000}" : "")}{(state.Status == TrainingStatus.Done ? $" -> {state.OutputFile}" : "")}");
                Console.WriteLine($"{s.Name,-24} {text}");
                if (state?.Error is { } error)
                {
                    Console.WriteLine("    " + error.Replace(Environment.NewLine, Environment.NewLine + "    ", StringComparison.Ordinal));
                }
            }

            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Install()
    {
        var run = new Argument<DirectoryInfo>("run") { Description = "Run folder of miaoya lora train" };
        var webui = CliOptions.WebUi();
        webui.Required = true;
        var auth = CliOptions.Auth();
        var loraDir = new Option<DirectoryInfo?>("--lora-dir") { Description = "The box's LoRA folder (models/Lora) as a path on this machine" };
        var copyCommand = new Option<string?>("--copy-command") { Description = "Shell command per file instead, with {file} and {name}, e.g. \"scp {file} gpu-box:/srv/webui/models/Lora/{name}\"" };
        var command = new Command("install", "Copy the trained LoRAs to the WebUI box, refresh its LoRA list and check that it lists them.") { run, webui, auth, loraDir, copyCommand };
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => TrainingCli.RunAsync(async () =>
        {
            using var session = new WebUiSession(CliOptions.Endpoint(result, result.GetValue(webui)), verbose: false);
            var installed = await LoraInstaller.InstallAsync(new InstallOptions
            {
                RunDir = result.GetValue(run)!.FullName,
                Client = session.Client,
                LoraDir = result.GetValue(loraDir)?.FullName,
                CopyCommand = result.GetValue(copyCommand),
            }, Console.WriteLine, cancellationToken);
            Console.WriteLine($"The box lists {string.Join(", ", installed)}.");
            return 0;
        }));
        return command;
    }

    private static Command Pick()
    {
        var run = new Argument<DirectoryInfo>("run") { Description = "Run folder of miaoya lora train" };
        var webui = CliOptions.WebUi();
        webui.Required = true;
        var auth = CliOptions.Auth();
        var models = new Option<DirectoryInfo?>("--models") { Description = "Folder with w600k_r50.onnx (ArcFace)", Required = true };
        var pick = new Option<string?>("--pick") { Description = "Choose this set (or LoRA name) instead of the best-scoring one" };
        var command = new Command("pick", "Render validation portraits with each LoRA, score them against the person's photos (ArcFace), write compare.html and choice.json.")
        {
            run, webui, auth, models, pick,
        };
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => TrainingCli.RunAsync(async () =>
        {
            var (arcFace, why) = TrainingCli.ArcFace(result.GetValue(models));
            if (arcFace is null)
            {
                await Console.Error.WriteLineAsync($"error: cannot score identities: {why}.");
                return 2;
            }

            using var session = new WebUiSession(CliOptions.Endpoint(result, result.GetValue(webui)), verbose: false);
            using var detector = BlazeFaceDetector.CreateDefault();
            var runDir = result.GetValue(run)!.FullName;
            var choice = await LoraPicker.PickAsync(new PickOptions
            {
                RunDir = runDir,
                Client = session.Client,
                ArcFaceModel = arcFace,
                Pick = result.GetValue(pick),
            }, detector, Console.WriteLine, cancellationToken);
            foreach (var s in choice.Ranking)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#{s.Rank} {s.Set,-24} {s.Score:0.000}  ({s.FacesFound}/{s.Images.Count} faces){(s.Set == choice.Set ? "  <- chosen" : "")}"));
            }

            Console.WriteLine($"Chosen: {choice.Lora} ({(choice.By == "user" ? "your pick" : "best score")}); use it as --lora {choice.Lora} --trigger {choice.Trigger}");
            Console.WriteLine($"Comparison: {Path.Combine(runDir, "compare.html")}");
            return 0;
        }));
        return command;
    }
}
