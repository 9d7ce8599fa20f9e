using System.CommandLine;
using System.Globalization;
using Miaoya.Pipeline;
using Miaoya.Tuning;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya sweep RECIPE --template T --lora NAME --vary path=v1,v2 [--vary ...]</c>: runs the grid of varied recipe
/// values (one seed for all), one run folder per cell, then writes the contact sheets. Re-running, or <c>--resume DIR</c>,
/// skips the cells that finished.
/// </summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var recipe = new Argument<string?>("recipe") { Description = "Recipe file, or a built-in name (v1-face, v1-face-neck, v2, v3, v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl)", Arity = ArgumentArity.ZeroOrOne };
        var template = new Option<FileInfo?>("--template") { Description = "Template photo (PNG/JPEG/WebP)" };
        var lora = new Option<string?>("--lora") { Description = "The person's face LoRA as NAME or NAME:WEIGHT" };
        var trigger = new Option<string[]>("--trigger") { Description = "Trigger words of the LoRA", AllowMultipleArgumentsPerToken = true };
        var vary = new Option<string[]>("--vary") { Description = "A recipe value to vary, as path=v1,v2,... (repeatable; the first is the contact sheet's columns, the second its rows)" };
        var set = new Option<string[]>("--set") { Description = "Override a recipe value for every cell (repeatable)" };
        var seed = new Option<long?>("--seed") { Description = "The seed of every cell (default: drawn once and recorded)" };
        var webui = CliOptions.WebUis($"A WebUI box; repeat to spread the cells over several boxes (a fleet, as for batch: one cell in flight per box, a failing box quarantined; {CliOptions.WebUiDefault})");
        var auth = CliOptions.Auth();
        var output = new Option<DirectoryInfo?>("--out") { Description = "Sweep folder (default: out/sweeps/RECIPE-TIME); re-running with the same folder skips finished cells" };
        var faceIndex = new Option<int?>("--face-index") { Description = "Which face when there are several (0 = largest)" };
        var face = new Option<FileInfo?>("--face") { Description = "V3: the person's face photo" };
        var models = new Option<DirectoryInfo?>("--models") { Description = "V3: folder with insightface's det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx" };
        var device = new Option<string>("--device") { Description = "V3: cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "Resume a sweep folder; finished cells are skipped" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every call" };
        var command = new Command("sweep", "Run a recipe over a grid of varied values and write a contact sheet (HTML and PNG).")
        {
            recipe, template, lora, trigger, vary, set, seed, webui, auth, output, faceIndex, face, models, device, resume, verbose,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(resume) is not null)
            {
                return;
            }

            if (result.GetValue(recipe) is null)
            {
                result.AddError("sweep: give a RECIPE (a file or one of v1-face, v1-face-neck, v2, v3, v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl), or --resume DIR.");
            }

            if (result.GetValue(template) is null)
            {
                result.AddError("--template: required (the photo whose face is replaced).");
            }

            if (result.GetValue(lora) is null)
            {
                result.AddError("--lora: required (the person's face LoRA as NAME or NAME:WEIGHT).");
            }

            if (result.GetValue(vary) is not { Length: > 0 })
            {
                result.AddError("--vary: required, e.g. --vary inpaint.denoising_strength=0.4,0.6.");
            }
        });
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            string folder;
            SweepManifest manifest;
            try
            {
                if (result.GetValue(resume) is { } resumeFolder)
                {
                    folder = resumeFolder.FullName;
                    manifest = await SweepManifest.LoadAsync(folder, cancellationToken);
                    manifest.Definition.CheckRecipeUnchanged();
                    Console.WriteLine($"Resuming {folder}");
                }
                else
                {
                    var definition = Define(result.GetValue(recipe)!, result.GetValue(template)!, result.GetValue(lora)!, result.GetValue(trigger) ?? [], result.GetValue(vary) ?? [],
                        result.GetValue(set) ?? [], result.GetValue(seed), result.GetValue(faceIndex), result.GetValue(face), result.GetValue(models), result.GetValue(device)!);
                    var stamp = TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
                    folder = result.GetValue(output)?.FullName ?? Path.GetFullPath(Path.Combine("out", "sweeps", $"{Path.GetFileNameWithoutExtension(definition.Recipe)}-{stamp}"));
                    manifest = await OpenAsync(folder, definition, seedGiven: result.GetValue(seed) is not null, cancellationToken);
                }
            }
            catch (Exception e) when (e is SweepException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }

            var boxes = result.GetValue(webui) is { Length: > 0 } given ? given : [CliOptions.Endpoint(result, null).BaseUrl];
            var axes = manifest.Definition.Axes;
            Console.WriteLine($"Sweep of {Path.GetFileNameWithoutExtension(manifest.Definition.Recipe)}: {manifest.Cells.Count} cells ({string.Join(" × ", axes.Select(a => $"{a.Values.Count} {a.Path}"))}), seed {manifest.Definition.Seed}, on {boxes.Length} box{(boxes.Length == 1 ? "" : "es")}");
            Console.WriteLine($"Folder: {folder}");
            var endpoints = boxes.Select(b => CliOptions.Endpoint(result, b)).Select(e => new Fleet.BoxOptions { Url = e.BaseUrl, Username = e.Username, Password = e.Password }).ToArray();
            var exit = 0;
            WebUiSession? session = null;
            try
            {
                // The cells' calls go through a fleet of the boxes, as jobs' do: a box that fails is quarantined and its
                // call placed on another, and cells that share a checkpoint stay on the box that has it loaded.
                session = await WebUiSession.StartFleetAsync(endpoints, result.GetValue(verbose), cancellationToken);
                if (await WebUiSession.NoBoxAnswersAsync(session.Fleet!))
                {
                    return 1;
                }

                var status = session.Fleet!.Status();
                var runner = new SweepRunner(session.Pipeline, status.Select(b => b.Name).ToArray(), status.Sum(b => b.MaxConcurrent));
                manifest = await runner.RunAsync(folder, manifest, new SweepConsole(axes), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"{Environment.NewLine}cancelled; the boxes were told to stop. Finished cells are kept: miaoya sweep --resume {folder}");
                exit = 130;
            }
            catch (PipelineException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                await Console.Error.WriteLineAsync($"After fixing the cause: miaoya sweep --resume {folder}");
                exit = RunFailures.Classify(e) == FailureKind.Input ? 2 : 1;
            }
            finally
            {
                if (session is not null)
                {
                    await session.DisposeAsync();
                }
            }

            // The sheets show whatever finished, also after a failure or Ctrl+C.
            if (!File.Exists(Path.Combine(folder, SweepManifest.FileName)))
            {
                return exit;
            }

            manifest = await SweepManifest.LoadAsync(folder, CancellationToken.None);
            var html = await ContactSheet.WriteHtmlAsync(folder, manifest, CancellationToken.None);
            await ContactSheet.WritePngAsync(folder, manifest, CancellationToken.None);
            var failed = manifest.Cells.Count(c => c.Status != CellStatus.Succeeded);
            Console.WriteLine($"Contact sheet: {html}");
            Console.WriteLine($"               {Path.Combine(folder, ContactSheet.PngFileName)}");
            if (exit == 0 && failed > 0)
            {
                await Console.Error.WriteLineAsync($"{failed} of {manifest.Cells.Count} cells did not finish; after fixing the cause: miaoya sweep --resume {folder}");
                exit = 1;
            }

            return exit;
        }));
        return command;
    }

    private static SweepDefinition Define(string recipe, FileInfo template, string lora, string[] trigger, string[] vary, string[] sets, long? seed, int? faceIndex, FileInfo? face, DirectoryInfo? models, string device)
    {
        var axes = SweepPlan.ParseVary(vary);
        SweepPlan.Validate(recipe, sets, axes);
        if (!template.Exists)
        {
            throw new SweepException($"--template: {template.FullName}: no such file.");
        }

        LoraChoice.Parse(lora);
        return new SweepDefinition
        {
            Recipe = File.Exists(recipe) ? Path.GetFullPath(recipe) : recipe,
            RecipeSha256 = SweepDefinition.HashRecipe(recipe),
            Template = template.FullName,
            Lora = lora,
            Trigger = trigger,
            Seed = seed ?? Random.Shared.NextInt64(0, uint.MaxValue),
            Sets = sets,
            Axes = axes,
            FaceIndex = faceIndex,
            Face = face?.FullName,
            Models = models?.FullName,
            Device = device,
        };
    }

    /// <summary>A new sweep, or the one already in <paramref name="folder"/> when it asks for the same grid.</summary>
    private static async Task<SweepManifest> OpenAsync(string folder, SweepDefinition definition, bool seedGiven, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(folder, SweepManifest.FileName)))
        {
            return SweepManifest.Create(definition);
        }

        var existing = await SweepManifest.LoadAsync(folder, cancellationToken);
        var wanted = seedGiven ? definition : definition with { Seed = existing.Definition.Seed };
        if (existing.Definition.Recipe == wanted.Recipe && existing.Definition.RecipeSha256 is not null && existing.Definition.RecipeSha256 != wanted.RecipeSha256)
        {
            throw new SweepException($"{wanted.Recipe} changed since the sweep in {folder} started; finished cells used the old recipe. Choose another --out.");
        }

        if (!existing.Definition.SameAs(wanted))
        {
            throw new SweepException($"--out: {folder} holds a different sweep ({string.Join(", ", existing.Definition.Axes.Select(a => $"{a.Path}={string.Join(',', a.Values)}"))}, seed {existing.Definition.Seed}); choose another --out, or resume it with --resume {folder}.");
        }

        Console.WriteLine($"{folder} holds this sweep already; finished cells are skipped.");
        return existing;
    }

    /// <summary>One line per cell event, written as it happens (cells run in parallel on several boxes).</summary>
    private sealed class SweepConsole(IReadOnlyList<SweepAxis> axes) : IProgress<SweepEvent>
    {
        private readonly Lock _lock = new();

        public void Report(SweepEvent value)
        {
            var line = $"  [{value.Cell.Index + 1}/{value.Total}] {SweepPlan.Label(axes, value.Cell.Values)}{(value.Box.Length > 0 ? $" on {value.Box}" : "")}: {value.What}";
            lock (_lock)
            {
                Console.WriteLine(line);
            }
        }
    }
}
