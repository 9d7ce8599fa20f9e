using System.CommandLine;
using System.Globalization;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using Miaoya.Likeness;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.Templates;
using Miaoya.Tuning;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya sweep RECIPE --template T --lora NAME --vary path=v1,v2 [--vary ...] [--face PHOTO ...]</c>: runs the grid
/// of varied recipe values (one seed for all), one run folder per cell, then writes the contact sheets. With face photos,
/// every cell's run gets them and its final image is scored against them (sweep.json and the sheets show the scores).
/// Re-running, or <c>--resume DIR</c>, skips the cells that finished.
/// </summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var recipe = CliOptions.Recipe();
        var template = new Option<string?>("--template") { Description = TemplateCli.TemplateDescription, HelpName = "FILE|NAME" };
        var templates = TemplateCli.LibraryOption();
        var lora = new Option<string?>("--lora") { Description = "The person's face LoRA as NAME or NAME:WEIGHT (optional with a recipe that has an identity section, such as v4-faceid)" };
        var trigger = new Option<string[]>("--trigger") { Description = "Trigger words of the LoRA", AllowMultipleArgumentsPerToken = true };
        var vary = new Option<string[]>("--vary") { Description = "A recipe value to vary, as path=v1,v2,... (repeatable; the first is the contact sheet's columns, the second its rows)" };
        var set = new Option<string[]>("--set") { Description = "Override a recipe value for every cell (repeatable)" };
        var seed = new Option<long?>("--seed") { Description = "The seed of every cell (default: drawn once and recorded)" };
        var webui = CliOptions.WebUis($"A WebUI box; repeat to spread the cells over several boxes (a fleet, as for batch: one cell in flight per box, a failing box quarantined; {CliOptions.WebUiDefault})");
        var auth = CliOptions.Auth();
        var output = new Option<DirectoryInfo?>("--out") { Description = "Sweep folder (default: out/sweeps/RECIPE-TIME); re-running with the same folder skips finished cells" };
        var faceIndex = new Option<int?>("--face-index") { Description = "Which face when there are several (0 = largest)" };
        var person = new Option<string[]>("--person") { Description = "Several people: INDEX=LORA[:WEIGHT] gives face INDEX (from 0, left to right) that person's LoRA in every cell (repeatable; docs/multi-person.md)" };
        var personFace = new Option<string[]>("--person-face") { Description = "Several people: INDEX=PHOTO gives face INDEX a face photo in every cell (repeatable; the cells are not scored for likeness)" };
        var personTrigger = new Option<string[]>("--person-trigger") { Description = "Several people: INDEX=WORD puts the trigger word of face INDEX's LoRA into that person's prompt only, in every cell (repeatable)" };
        var face = new Option<FileInfo[]>("--face") { Description = "A photo of the person, one face in it (repeatable): every cell's run gets them (V3 swaps the first in, an identity unit takes each) and each cell is scored against them" };
        var models = new Option<DirectoryInfo?>("--models") { Description = "Folder with the face models: the scorer's face_recognition_sface_2021dec.onnx (or w600k_r50.onnx); V3's insightface det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx" };
        var model = new Option<FileInfo?>("--model") { Description = "The scoring model file itself (instead of looking in --models)" };
        var scorer = new Option<string>("--scorer") { Description = "sface (OpenCV Zoo, Apache-2.0) or arcface (insightface w600k_r50, non-commercial)", DefaultValueFactory = _ => "sface" };
        scorer.AcceptOnlyFromAmong("sface", "arcface");
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N for the face models (V3's and the scorer)", DefaultValueFactory = _ => "cpu" };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "Resume a sweep folder; finished cells are skipped" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every call" };
        var json = new Option<bool>("--json") { Description = "Print the finished sweep as one JSON object instead of progress lines (shape in docs/commands.md)" };
        var command = new Command("sweep", "Run a recipe over a grid of varied values and write a contact sheet (HTML and PNG).")
        {
            recipe, template, templates, lora, trigger, vary, set, seed, webui, auth, output, faceIndex, person, personFace, personTrigger, face, models, model, scorer, device, resume, verbose, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(resume) is not null)
            {
                return;
            }

            // A library template may suggest the recipe: Define says so when it does not.
            if (result.GetValue(recipe) is null && result.GetValue(template) is null)
            {
                result.AddError($"sweep: give a RECIPE (a file or one of {CliOptions.BuiltInRecipes}), or --resume DIR.");
            }

            if (result.GetValue(template) is null)
            {
                result.AddError("--template: required (the photo whose face is replaced).");
            }

            if (result.GetValue(vary) is not { Length: > 0 })
            {
                result.AddError("--vary: required, e.g. --vary inpaint.denoising_strength=0.4,0.6.");
            }
        });
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction(async (result, cancellationToken) =>
        {
            if (!result.GetValue(json))
            {
                return await RunAsync(result, cancellationToken);
            }

            string? folder = null;
            var exit = await CliJson.SilencedAsync(() => RunAsync(result, cancellationToken, f => folder = f));
            if (folder is not null && File.Exists(Path.Combine(folder, SweepManifest.FileName)))
            {
                var manifest = await SweepManifest.LoadAsync(folder, CancellationToken.None);
                var (html, png) = (Path.Combine(folder, ContactSheet.HtmlFileName), Path.Combine(folder, ContactSheet.PngFileName));
                var summary = SweepJson.Describe(folder, manifest, File.Exists(html) ? html : null, File.Exists(png) ? png : null);
                summary["exit_code"] = exit;
                Console.WriteLine(CliJson.Write(summary));
            }

            return exit;
        });
        return command;

        Task<int> RunAsync(ParseResult result, CancellationToken cancellationToken, Action<string>? folderChosen = null) => WebUiSession.RunAsync(async () =>
        {
            string folder;
            SweepManifest manifest;
            SweepLikeness? likeness = null;
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
                    var scorerKind = result.GetValue(scorer) == "arcface" ? ScorerKind.ArcFace : ScorerKind.SFace;
                    var people = PeopleOptions.Parse(result.GetValue(person) ?? [], result.GetValue(personFace) ?? [], result.GetValue(personTrigger) ?? []);
                    var definition = Define(result.GetValue(recipe), (result.GetValue(template)!, result.GetValue(templates)), result.GetValue(lora), result.GetValue(trigger) ?? [], result.GetValue(vary) ?? [],
                        result.GetValue(set) ?? [], result.GetValue(seed), result.GetValue(faceIndex), result.GetValue(device)!,
                        (result.GetValue(face) ?? [], result.GetValue(models), result.GetValue(model), scorerKind), people);
                    if (people.Count > 0)
                    {
                        await CheckPeopleAsync(definition, cancellationToken);
                    }

                    var stamp = TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
                    folder = result.GetValue(output)?.FullName ?? Path.GetFullPath(Path.Combine("out", "sweeps", $"{Path.GetFileNameWithoutExtension(definition.Recipe)}-{stamp}"));
                    manifest = await OpenAsync(folder, definition, seedGiven: result.GetValue(seed) is not null, cancellationToken);
                }

                // The person's reference is built once, before any cell runs: a photo without exactly one face is bad input.
                likeness = await LikenessAsync(manifest.Definition, cancellationToken);
            }
            catch (Exception e) when (e is SweepException or ArgumentException or FormatException || e is PipelineException { InputField: not null })
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }

            folderChosen?.Invoke(folder);
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
                var runner = new SweepRunner(session.Pipeline, status.Select(b => b.Name).ToArray(), status.Sum(b => b.MaxConcurrent), likeness);
                manifest = await runner.RunAsync(folder, manifest, new SweepConsole(axes, status.Sum(b => b.MaxConcurrent)), cancellationToken);
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

                likeness?.Dispose();
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
        });
    }

    private static SweepDefinition Define(
        string? recipeGiven, (string Value, DirectoryInfo? Library) template, string? lora, string[] trigger, string[] vary, string[] userSets, long? seed, int? faceIndex, string device,
        (FileInfo[] Photos, DirectoryInfo? Models, FileInfo? Model, ScorerKind Kind) faces, IReadOnlyList<PersonRequest> people)
    {
        string templatePath, recipe;
        string[] sets;
        try
        {
            // A library template: its suggested recipe when none is given, and its overrides, style LoRA and prompt
            // additions under the user's --set (every cell gets them; the manifest records them as the sweep's sets).
            (templatePath, var libraryTemplate) = TemplateCli.Resolve(template.Value, template.Library);
            recipe = TemplateCli.Recipe(recipeGiven, libraryTemplate)
                ?? throw new SweepException($"sweep: template {libraryTemplate!.Name} suggests no recipe; give a RECIPE (a file or one of {CliOptions.BuiltInRecipes}).");
            sets = [.. TemplateCli.Overrides(libraryTemplate, recipe, userSets)];
            if (libraryTemplate is not null && TemplateCli.FamilyNote(libraryTemplate, LoadRecipe(recipe, sets)) is { } note)
            {
                Console.Error.WriteLine(note);
            }
        }
        catch (TemplateException e)
        {
            throw new SweepException(e.Message, e);
        }
        catch (RecipeException e)
        {
            throw new SweepException(e.Message, e);
        }

        var axes = SweepPlan.ParseVary(vary);
        SweepPlan.Validate(recipe, sets, axes);

        var loaded = LoadRecipe(recipe, sets);
        if (people.Count > 0)
        {
            // The run's own checks of the people (and that they are not mixed with --lora, --face, ...) run before the
            // sweep folder is written (CheckPeopleAsync); --face here would be the likeness reference of one person.
            return Definition() with
            {
                People = [.. people.Select(p => new SweepPerson(p.FaceIndex, p.Lora?.ToString(), p.FacePaths, p.TriggerWords.Count > 0 ? p.TriggerWords : null))],
            };
        }

        if (lora is not null)
        {
            LoraChoice.Parse(lora);
        }
        else if (loaded.Identity is null)
        {
            throw new SweepException($"--lora: required for recipe {loaded.Name} (the person's face LoRA as NAME or NAME:WEIGHT); recipes with an identity section, such as v4-faceid, take --face photos instead.");
        }

        if (loaded.Identity is not null && faces.Photos.Length == 0)
        {
            throw new SweepException($"recipe {loaded.Name} takes the person's identity from face photos: give --face PHOTO (one or several).");
        }

        string? scorerModel = null;
        if (faces.Photos.Length > 0)
        {
            if (faces.Photos.FirstOrDefault(f => !f.Exists) is { } missing)
            {
                throw new SweepException($"--face {missing}: no such file.");
            }

            // --model names the scorer's file; --models is also every cell's models folder (V3), so both may be given.
            scorerModel = ScorerModelFile.Find(faces.Kind, faces.Model is null ? faces.Models : null, faces.Model, out var problem);
            if (scorerModel is null)
            {
                // V3's --face is the photo it swaps in: a V3 sweep without the scorer's model runs as before, unscored.
                if (loaded.Pipeline != PipelineKind.V3 || loaded.Identity is not null || faces.Model is not null)
                {
                    throw new SweepException(problem!);
                }

                Console.Error.WriteLine($"note: the cells are not scored for likeness: {problem}");
            }
        }

        return Definition() with
        {
            Scorer = scorerModel is null ? null : faces.Kind == ScorerKind.ArcFace ? "arcface" : "sface",
            ScorerModel = scorerModel,
        };

        // What every sweep records; several people add theirs, a scored one its scorer.
        SweepDefinition Definition() => new()
        {
            Recipe = File.Exists(recipe) ? Path.GetFullPath(recipe) : recipe,
            RecipeSha256 = SweepDefinition.HashRecipe(recipe),
            Template = templatePath,
            Lora = lora,
            Trigger = trigger,
            Seed = seed ?? Random.Shared.NextInt64(0, uint.MaxValue),
            Sets = sets,
            Axes = axes,
            FaceIndex = faceIndex,
            Faces = [.. faces.Photos.Select(f => f.FullName)],
            Models = faces.Models?.FullName,
            Device = device,
        };
    }

    /// <summary>
    /// A several-person sweep's inputs, checked as <c>run --person</c> checks them (the same messages, exit 2) before the
    /// sweep folder is written: the options, each face on the template (with the built-in detector), each person's photos.
    /// </summary>
    private static async Task CheckPeopleAsync(SweepDefinition definition, CancellationToken cancellationToken)
    {
        using var detector = Miaoya.Faces.BlazeFaceDetector.CreateDefault();
        await PortraitPipeline.CheckAsync(
            new RunRequest
            {
                Recipe = LoadRecipe(definition.Recipe, [.. definition.Sets]),
                Overrides = definition.Sets,
                TemplatePath = definition.Template,
                Lora = definition.Lora is null ? null : LoraChoice.Parse(definition.Lora),
                TriggerWords = definition.Trigger,
                Seed = definition.Seed,
                OutputDirectory = Path.GetTempPath(),
                FaceIndex = definition.FaceIndex,
                FacePaths = definition.Faces,
                People = definition.People.Select(p => p.ToRequest()).ToArray(),
                ModelsDirectory = definition.Models,
                Device = definition.Device,
            },
            detector,
            cancellationToken);
    }

    private static Recipe LoadRecipe(string recipe, string[] sets)
    {
        try
        {
            return RecipeLoader.Load(recipe, sets);
        }
        catch (RecipeException e)
        {
            throw new SweepException(e.Message, e);
        }
    }

    /// <summary>
    /// The person's reference and the scorer, for a sweep with face photos (null without): loaded once per sweep, before
    /// any cell runs. Every problem (a photo without exactly one face, an unreadable photo, the model) is a
    /// <see cref="SweepException"/> naming the file.
    /// </summary>
    private static async Task<SweepLikeness?> LikenessAsync(SweepDefinition definition, CancellationToken cancellationToken)
    {
        if (definition.Faces.Count == 0 || definition.ScorerModel is null)
        {
            return null;
        }

        var kind = definition.Scorer == "arcface" ? ScorerKind.ArcFace : ScorerKind.SFace;
        try
        {
            var likeness = await SweepLikeness.CreateAsync(
                definition.Faces, definition.ScorerModel, kind, ExecutionDevice.Parse(definition.Device), definition.FaceIndex, line => Console.Error.WriteLine(line), cancellationToken);
            Console.WriteLine(likeness.Baseline is { } baseline
                ? string.Create(CultureInfo.InvariantCulture, $"Likeness: {definition.Scorer} against {likeness.Photos} photos of the person, baseline {baseline:0.000}")
                : $"Likeness: {definition.Scorer} against 1 photo of the person (no baseline: give two or more --face photos for the ratio)");
            return likeness;
        }
        catch (LikenessInputException e)
        {
            throw new SweepException($"--face {e.Message}", e);
        }
        catch (InvalidImageDataException e)
        {
            throw new SweepException($"--face {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw new SweepException(e is FileNotFoundException ? $"{definition.ScorerModel}: the scorer's model is gone ({e.Message})" : e.Message, e);
        }
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

    /// <summary>
    /// The sweep's console: a line as each cell starts and ends (with the sweep's ETA from the cells finished so far), and
    /// each step's progress rewritten in place on a terminal, or one plain line per step when the output is redirected.
    /// </summary>
    private sealed class SweepConsole(IReadOnlyList<SweepAxis> axes, int parallel) : IProgress<SweepEvent>
    {
        private readonly Lock _lock = new();
        private readonly bool _interactive = !Console.IsOutputRedirected;
        private readonly Dictionary<int, DateTime> _started = [];
        private readonly Dictionary<int, string> _steps = [];
        private readonly List<double> _durations = [];
        private int _ended;
        private bool _drawn;

        public void Report(SweepEvent value)
        {
            var cell = $"{SweepPlan.Label(axes, value.Cell.Values)}{(value.Box.Length > 0 ? $" on {value.Box}" : "")}";
            var prefix = $"  [{value.Cell.Index + 1}/{value.Total}] {cell}";
            lock (_lock)
            {
                if (value.Step is { } step)
                {
                    if (_interactive)
                    {
                        var eta = Eta(value.Total) is { } t ? $", sweep ETA {Duration.Clock(t)}" : "";
                        // What changes first, so that a narrow terminal still shows it.
                        var text = $"  [{value.Cell.Index + 1}/{value.Total}] {value.What}{(step.Eta is { } s ? $" (step ETA {Duration.Clock(s)})" : "")}{eta} · {cell}";
                        Console.Write("\r" + Fit(text));
                        _drawn = true;
                    }
                    else if (!_steps.TryGetValue(value.Cell.Index, out var last) || last != step.Step)
                    {
                        Console.WriteLine($"{prefix}: {step.Step}");
                    }

                    _steps[value.Cell.Index] = step.Step;
                    return;
                }

                var suffix = "";
                if (value.Cell.Status == CellStatus.Running)
                {
                    _started[value.Cell.Index] = DateTime.UtcNow;
                }
                else
                {
                    _ended++;
                    _started.Remove(value.Cell.Index);
                    _steps.Remove(value.Cell.Index);
                    if (value.Cell.Status == CellStatus.Succeeded && value.What.StartsWith("succeeded", StringComparison.Ordinal) && value.Cell.DurationMs is { } ms)
                    {
                        _durations.Add(ms);
                    }

                    suffix = _ended < value.Total && Eta(value.Total) is { } t ? $"; {value.Total - _ended} to go, ETA {Duration.Clock(t)}" : "";
                }

                if (_drawn)
                {
                    Console.Write("\r" + new string(' ', Width()) + "\r");
                    _drawn = false;
                }

                Console.WriteLine($"{prefix}: {value.What}{suffix}");
            }
        }

        /// <summary>
        /// The cells still to run times the mean duration of those run so far, less the time the running ones have
        /// had, over the cells run at once; null before the first cell of this session finishes.
        /// </summary>
        private TimeSpan? Eta(int total)
        {
            if (_durations.Count == 0)
            {
                return null;
            }

            var mean = _durations.Average();
            var now = DateTime.UtcNow;
            var running = _started.Values.Sum(start => Math.Min((now - start).TotalMilliseconds, mean));
            var left = ((total - _ended) * mean) - running;
            return TimeSpan.FromMilliseconds(Math.Max(0, left) / Math.Max(1, Math.Min(parallel, total - _ended)));
        }

        private static int Width()
        {
            try
            {
                return Math.Max(40, Console.WindowWidth - 1);
            }
            catch (IOException)
            {
                return 119;
            }
        }

        private static string Fit(string text) => text.Length > Width() ? text[..Width()] : text.PadRight(Width());
    }
}
