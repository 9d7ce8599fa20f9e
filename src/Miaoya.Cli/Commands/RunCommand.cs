using System.CommandLine;
using System.Globalization;
using Miaoya.FaceSwap;
using Miaoya.Pipeline;
using Miaoya.Recipes;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya run RECIPE --template T --lora NAME[:WEIGHT]</c>, or <c>miaoya run --resume DIR</c>.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var recipe = CliOptions.Recipe();
        var template = new Option<string?>("--template") { Description = TemplateCli.TemplateDescription, HelpName = "FILE|NAME" };
        var templates = TemplateCli.LibraryOption();
        var lora = new Option<string?>("--lora") { Description = "The person's face LoRA as NAME or NAME:WEIGHT (optional with a recipe that has an identity section, such as v4-faceid)" };
        var trigger = new Option<string[]>("--trigger") { Description = "Trigger words of the LoRA", AllowMultipleArgumentsPerToken = true };
        var webui = CliOptions.WebUi();
        var auth = CliOptions.Auth();
        var output = new Option<DirectoryInfo?>("--out") { Description = "Run folder (default: out/runs/RECIPE-TIME)" };
        var seed = new Option<long>("--seed") { Description = "Seed (-1: the box chooses; the seed used is recorded)", DefaultValueFactory = _ => -1 };
        var set = new Option<string[]>("--set") { Description = "Override a recipe value, e.g. --set inpaint.controlnet.softedge.weight=0.6 (repeatable)" };
        var faceIndex = new Option<int?>("--face-index") { Description = "Which face when there are several (0 = largest; --person counts left to right instead)" };
        var person = new Option<string[]>("--person") { Description = "Several people: INDEX=LORA[:WEIGHT] gives face INDEX (from 0, left to right) that person's LoRA (repeatable; docs/multi-person.md)" };
        var personFace = new Option<string[]>("--person-face") { Description = "Several people: INDEX=PHOTO gives face INDEX a face photo (repeatable, several per face for identity units; V3 swaps the first in)" };
        var personTrigger = new Option<string[]>("--person-trigger") { Description = "Several people: INDEX=WORD puts the trigger word of face INDEX's LoRA into that person's prompt only (repeatable)" };
        var mask = new Option<FileInfo?>("--mask") { Description = "Use this mask file (white = repaint) instead of the recipe's mask source" };
        var face = new Option<FileInfo[]>("--face") { Description = "A photo of the person's face (repeatable): V3 swaps the first in, an identity unit (v4-*) takes each, --candidates scores against them all" };
        var candidates = new Option<int?>("--candidates") { Description = "Render N candidates (seeds seed..seed+N-1) and keep the one most like the --face photos that passes the recipe's gates (sets candidates.count)" };
        var models = new Option<DirectoryInfo?>("--models") { Description = "Folder with the face models: V3's insightface det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx; --candidates' face_recognition_sface_2021dec.onnx" };
        var device = new Option<string>("--device") { Description = "V3: cpu, cuda or cuda:N for the face models", DefaultValueFactory = _ => "cpu" };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "Resume a failed or interrupted run folder on the box it ran on (recorded in its manifest; --webui for another); finished steps are not redone" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every call" };
        var json = new Option<bool>("--json") { Description = "Print the finished run as one JSON object instead of the step table (shape in docs/commands.md); progress is not printed" };
        var command = new Command("run", "Run a recipe on a template photo against a WebUI box.")
        {
            recipe, template, templates, lora, trigger, webui, auth, output, seed, set, faceIndex, person, personFace, personTrigger, mask, face, candidates, models, device, resume, verbose, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(resume) is not null)
            {
                return;
            }

            // A library template may suggest the recipe: the action says so when it does not.
            if (result.GetValue(recipe) is null && result.GetValue(template) is null)
            {
                result.AddError($"run: give a RECIPE (a file or one of {CliOptions.BuiltInRecipes}), or --resume DIR.");
            }

            if (result.GetValue(template) is null)
            {
                result.AddError("--template: required (the photo whose face is replaced).");
            }

            if (result.GetValue(candidates) is < 1 or > 16)
            {
                result.AddError("--candidates: give 1..16.");
            }
        });
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            if (result.GetValue(resume) is { } folder)
            {
                return await ResumeAsync(result, folder, result.GetValue(webui), result.GetValue(verbose), result.GetValue(json), cancellationToken);
            }

            using var session = new WebUiSession(CliOptions.Endpoint(result, result.GetValue(webui)), result.GetValue(verbose));
            RunResult run;
            IReadOnlyList<string> overrides = result.GetValue(set) ?? [];
            if (result.GetValue(candidates) is { } count)
            {
                overrides = [.. overrides, $"candidates.count={count.ToString(CultureInfo.InvariantCulture)}"];
            }

            var (templatePath, libraryTemplate) = TemplateCli.Resolve(result.GetValue(template)!, result.GetValue(templates));
            if (TemplateCli.Recipe(result.GetValue(recipe), libraryTemplate) is not { } recipeName)
            {
                await Console.Error.WriteLineAsync(libraryTemplate is null
                    ? $"error: run: give a RECIPE (a file or one of {CliOptions.BuiltInRecipes}), or --resume DIR."
                    : $"error: run: template {libraryTemplate.Name} suggests no recipe; give a RECIPE (a file or one of {CliOptions.BuiltInRecipes}).");
                return 2;
            }

            overrides = TemplateCli.Overrides(libraryTemplate, recipeName, overrides);
            var loaded = RecipeLoader.Load(recipeName, overrides);
            if (TemplateCli.FamilyNote(libraryTemplate, loaded) is { } note)
            {
                await Console.Error.WriteLineAsync(note);
            }

            LoraChoice? choice = null;
            IReadOnlyList<PersonRequest> people;
            try
            {
                people = PeopleOptions.Parse(result.GetValue(person) ?? [], result.GetValue(personFace) ?? [], result.GetValue(personTrigger) ?? []);
                if (result.GetValue(lora) is { } text)
                {
                    choice = LoraChoice.Parse(text);
                }
                else if (loaded.Identity is null && people.Count == 0)
                {
                    await Console.Error.WriteLineAsync($"error: --lora: required for recipe {loaded.Name} (the person's face LoRA as NAME or NAME:WEIGHT); recipes with an identity section, such as v4-faceid, take --face photos instead.");
                    return 2;
                }
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }

            var stamp = TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            var request = new RunRequest
            {
                Recipe = loaded,
                Overrides = overrides,
                TemplatePath = templatePath,
                Lora = choice,
                TriggerWords = result.GetValue(trigger) ?? [],
                Seed = result.GetValue(seed),
                OutputDirectory = result.GetValue(output)?.FullName ?? Path.Combine("out", "runs", $"{loaded.Name}-{stamp}"),
                FaceIndex = result.GetValue(faceIndex),
                MaskFile = result.GetValue(mask)?.FullName,
                FacePaths = (result.GetValue(face) ?? []).Select(f => f.FullName).ToArray(),
                People = people,
                ModelsDirectory = result.GetValue(models)?.FullName,
                Device = result.GetValue(device)!,

                // The repository's stand-ins (tests/Miaoya.FaceSwap.Tests/StandInModels) are labelled as such in the run's results.
                StandInModels = result.GetValue(models) is { } modelsFolder && ModelRegistry.IsStandIn(Path.Combine(modelsFolder.FullName, ModelRegistry.Inswapper.FileName)),
            };
            try
            {
                run = await session.Pipeline.RunAsync(request, result.GetValue(json) ? null : new ConsoleProgress(loaded.Name), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"{Environment.NewLine}cancelled; the box was told to stop. Finished steps are kept: miaoya run --resume {Path.GetFullPath(request.OutputDirectory)}");
                return 130;
            }

            return Report(run, result.GetValue(json));
        }));
        return command;
    }

    /// <summary>
    /// <c>run --resume DIR</c>: the run goes on on its own box (<see cref="RunManifest.Box"/>, else the box of its first
    /// call) unless <c>--webui</c> names another, and says which; a folder that holds no run is bad input (exit 2).
    /// </summary>
    private static async Task<int> ResumeAsync(ParseResult result, DirectoryInfo folder, Uri? webui, bool verbose, bool json, CancellationToken cancellationToken)
    {
        // Bad input (exit 2), found before anything is printed or a box is asked.
        if (!folder.Exists || !File.Exists(Path.Combine(folder.FullName, RunFolder.ManifestFileName)))
        {
            await Console.Error.WriteLineAsync(folder.Exists
                ? $"error: --resume {folder.FullName}: no manifest.json there; give a run folder written by 'miaoya run'."
                : $"error: --resume {folder.FullName}: no such folder.");
            return 2;
        }

        RunManifest manifest;
        try
        {
            manifest = await new RunFolder(folder.FullName).LoadManifestAsync(cancellationToken);
        }
        catch (PipelineException e)
        {
            await Console.Error.WriteLineAsync($"error: --resume: {Limits.UserText.EscapeControl(e.Message)}");
            return 2;
        }

        var recorded = RecordedBox(manifest);
        var (box, why) = webui is not null ? (webui, "--webui")
            : recorded is not null ? (recorded, "the run's own box, from its manifest; --webui URL resumes on another")
            : ((Uri?)null, "the manifest records no box: the default box, WebUi:BaseUrl else http://127.0.0.1:7860; --webui URL to choose");
        var endpoint = CliOptions.Endpoint(result, box);
        var line = $"Resuming {folder.FullName} on {endpoint.BaseUrl} ({why})";
        if (json)
        {
            // stdout holds the JSON alone.
            await Console.Error.WriteLineAsync(line);
        }
        else
        {
            Console.WriteLine(line);
        }

        using var session = new WebUiSession(endpoint, verbose);
        var run = await session.Pipeline.ResumeAsync(folder.FullName, json ? null : new ConsoleProgress("resume"), cancellationToken);
        return Report(run, json);
    }

    /// <summary>The box a run folder's manifest names: the one it last ran on, else (older manifests) its first call's; null when none or not an http(s) URL.</summary>
    internal static Uri? RecordedBox(RunManifest manifest) =>
        (manifest.Box ?? manifest.Server?.Url) is { } text && Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : null;

    private static int Report(RunResult run, bool json)
    {
        if (json)
        {
            Console.WriteLine(CliJson.Write(ToJson(run)));
        }
        else
        {
            Print(run);
        }

        return 0;
    }

    /// <summary>What <c>run --json</c> prints: the folder, status, final image, and each step with its outputs and result as the manifest records them.</summary>
    public static System.Text.Json.Nodes.JsonObject ToJson(RunResult run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new System.Text.Json.Nodes.JsonObject
        {
            ["folder"] = Path.GetFullPath(run.Folder),
            ["recipe"] = run.Manifest.Recipe.Name,
            ["status"] = run.Manifest.Status.ToString().ToLowerInvariant(),
            ["final"] = Path.GetFullPath(run.FinalImage),
            ["manifest"] = Path.GetFullPath(Path.Combine(run.Folder, RunFolder.ManifestFileName)),
            ["steps"] = new System.Text.Json.Nodes.JsonArray(run.Manifest.Steps.Select(s => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = s.Name,
                ["status"] = s.Status.ToString().ToLowerInvariant(),
                ["duration_ms"] = s.DurationMs,
                ["box"] = s.Box,
                ["outputs"] = new System.Text.Json.Nodes.JsonArray(s.Outputs.Select(o => (System.Text.Json.Nodes.JsonNode?)o.File).ToArray()),
                ["result"] = s.Result.DeepClone(),
            }).ToArray()),
        };
    }

    /// <summary>The select step's figures: each candidate's likeness and verdict, and the one kept.</summary>
    public static void PrintSelect(SelectResult select, string folder)
    {
        var baseline = select.Baseline is { } b ? b.ToString("0.000", CultureInfo.InvariantCulture) : "none (one photo)";
        Console.WriteLine($"               {select.Scorer} likeness; baseline {baseline}; gates similarity >= {select.MinSimilarity.ToString(CultureInfo.InvariantCulture)}, ratio >= {select.MinRatio.ToString(CultureInfo.InvariantCulture)}{(select.StandInModels ? " (stand-in model)" : "")}");
        foreach (var c in select.Candidates)
        {
            var figures = c.Similarity is { } s ? $"similarity {s.ToString("0.000", CultureInfo.InvariantCulture)}, ratio {(c.Ratio is { } r ? r.ToString("0.000", CultureInfo.InvariantCulture) : "-")}" : "no face";
            var verdict = c.Candidate == select.Chosen ? "chosen" : c.Passed ? "passes" : string.Join("; ", c.Reasons);
            Console.WriteLine($"               #{c.Candidate} seed {c.Seed}: {figures}  {verdict}");
        }

        Console.WriteLine($"               faces side by side: {Path.Combine(folder, PortraitPipeline.CandidatesPageFileName)}");
    }

    public static void Print(RunResult run)
    {
        foreach (var step in run.Manifest.Steps)
        {
            var extra = string.Join(", ", step.Result.Where(d => d.Key.StartsWith("delta_e", StringComparison.Ordinal)).Select(d => $"{d.Key} {d.Value}"));
            Console.WriteLine($"  {step.Name,-12} {step.Status,-9} {step.DurationMs,8:0} ms  {string.Join(", ", step.Outputs.Select(o => o.File))}{(extra.Length > 0 ? "  " + extra : "")}");
            if (step.Name == StepName.Select && step.ResultAs<SelectResult>() is { } select)
            {
                PrintSelect(select, run.Folder);
            }
        }

        Console.WriteLine($"Final image: {run.FinalImage}");
        Console.WriteLine($"Manifest:    {Path.Combine(run.Folder, RunFolder.ManifestFileName)}");
    }
}
