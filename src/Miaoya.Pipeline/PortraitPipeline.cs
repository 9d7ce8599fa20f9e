using Microsoft.Extensions.Logging;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>
/// Runs a portrait recipe — V1 (interrogate → mask → inpaint), V2 (then a whole-image img2img), V3 (interrogate →
/// faceswap → img2img), each optionally followed by <c>finish</c> — on the boxes <see cref="IWebUiBoxes"/> picks. A run
/// lives in a run folder: its inputs, each step's outputs and the manifest, written atomically after every step, so a
/// failed or interrupted run resumes from its first unfinished step. The steps are objects (<see cref="PortraitSteps"/>),
/// run by one <see cref="StepRunner"/> whether a whole run goes at once or a job runs one step at a time.
/// </summary>
public sealed class PortraitPipeline : IDisposable
{
    /// <summary>The resolved recipe in a run folder.</summary>
    public const string RecipeFileName = "recipe.yaml";

    /// <summary>The person's (first) face photo as used (upright RGB PNG) in a run folder; the others are face-2.png, face-3.png, ….</summary>
    public const string FaceFileName = "face.png";

    /// <summary>The <c>select</c> step's page in a run folder: the person's photos and each candidate's face side by side, with the figures.</summary>
    public const string CandidatesPageFileName = "candidates.html";

    /// <summary>The run-folder file of the person's face photo number <paramref name="index"/> (0-based).</summary>
    public static string FaceFile(int index) => index == 0 ? FaceFileName : $"face-{index + 1}.png";

    /// <summary>Set to 1 on commercial deployments: insightface's models are for non-commercial research only, so V3 refuses to run.</summary>
    public const string DisableInsightfaceVariable = "MIAOYA_DISABLE_INSIGHTFACE";

    private readonly PipelineServices _services;
    private readonly StepRunner _runner;

    public PortraitPipeline(IWebUiBoxes boxes, IFaceDetector detector, FaceSwapperCache swappers, TimeProvider time, ILogger<PortraitPipeline> logger)
    {
        _services = new PipelineServices(boxes, detector, swappers, time, logger);
        _runner = new StepRunner(_services);
    }

    /// <summary>Closes the candidates' scorer sessions (the host disposes the pipeline with its services).</summary>
    public void Dispose() => _services.Scorers.Dispose();

    /// <summary>The URL of the one box every call goes to (<see cref="SingleWebUiBox"/>); null with a fleet.</summary>
    private string? OneBox => _services.Boxes is SingleWebUiBox one ? one.Url : null;

    /// <summary>How often progress is read from the box during a generation call.</summary>
    public TimeSpan ProgressInterval
    {
        get => _services.ProgressInterval;
        set => _services.ProgressInterval = value;
    }

    /// <summary>Starts a run in a new (or empty) folder.</summary>
    public async Task<RunResult> RunAsync(RunRequest request, IProgress<PipelineProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (folder, manifest, template, decoded) = await PrepareCoreAsync(request, _services.Detector, OneBox, cancellationToken);
        using (var pixels = new TemplatePixels(template, decoded))
        {
            var run = new RunContext(request, folder, manifest, template, pixels, _services) { Progress = progress };
            await _runner.RunAllAsync(run, cancellationToken);
            return new RunResult(folder.Path, manifest, folder.File(StepRunner.FinalFileName));
        }
    }

    /// <summary>
    /// Resumes a run folder: finished steps whose outputs are intact are not redone. With one box, that box becomes the
    /// run's <see cref="RunManifest.Box"/>.
    /// </summary>
    public async Task<RunResult> ResumeAsync(string runFolder, IProgress<PipelineProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (request, plan, folder, manifest, template) = await LoadAsync(runFolder, cancellationToken);
        if (manifest.Status == RunStatus.Succeeded && manifest.Final is { } done && await folder.ReadVerifiedAsync(done, cancellationToken) is not null)
        {
            return new RunResult(folder.Path, manifest, folder.File(done.File));
        }

        manifest.Start();
        manifest.Box = OneBox ?? manifest.Box;
        using var pixels = new TemplatePixels(template);
        var run = new RunContext(request, plan, folder, manifest, template, pixels, _services) { Progress = progress };
        await _runner.RunAllAsync(run, cancellationToken);
        return new RunResult(folder.Path, manifest, folder.File(StepRunner.FinalFileName));
    }

    /// <summary>The steps of a job running <paramref name="recipe"/>, in order: the recipe's steps, then <c>finish</c> when it has one.</summary>
    public static IReadOnlyList<string> JobSteps(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        return StepRunner.JobSteps(recipe);
    }

    /// <summary>
    /// Writes a new run folder (inputs, resolved recipe, manifest) without calling any box; its steps then run one at a
    /// time with <see cref="RunStepAsync(string, string, IProgress{PipelineProgress}?, CancellationToken)"/> (the job runner's way). Bad input throws <see cref="PipelineException"/> here.
    /// </summary>
    public static Task<RunManifest> PrepareAsync(RunRequest request, CancellationToken cancellationToken = default) =>
        PrepareAsync(request, null, cancellationToken);

    /// <summary>
    /// As <see cref="PrepareAsync(RunRequest, CancellationToken)"/>; with a <paramref name="detector"/>, a recipe whose
    /// mask comes from the built-in detector is also checked for the template's face (and <c>face_index</c>) here.
    /// </summary>
    public static async Task<RunManifest> PrepareAsync(RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken = default)
    {
        var (_, manifest, _, pixels) = await PrepareCoreAsync(request, detector, box: null, cancellationToken);
        pixels.Dispose();
        return manifest;
    }

    /// <summary>
    /// Checks a run's inputs as <see cref="PrepareAsync(RunRequest, IFaceDetector?, CancellationToken)"/> would — options,
    /// template, the face the recipe's mask needs, mask file, V3's face photo and models — without writing anything
    /// (a batch checks every entry this way before it queues any). Bad input throws <see cref="PipelineException"/>
    /// with <see cref="PipelineException.InputField"/>.
    /// </summary>
    public static async Task CheckAsync(RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken = default)
    {
        var (_, pixels, _, _) = await LoadInputsAsync(request, detector, cancellationToken);
        pixels.Dispose();
    }

    /// <summary>
    /// Runs one step of a run folder written by <see cref="PrepareAsync(RunRequest, CancellationToken)"/>: earlier steps are
    /// restored from their files (and must be intact), a step that already succeeded with intact outputs is not redone, and
    /// the step's call goes to whichever box the <see cref="IWebUiBoxes"/> pick. After the recipe's last step
    /// <c>final.png</c> is written; the run succeeds with its last job step (<see cref="JobSteps"/>).
    /// </summary>
    public Task<StepResult> RunStepAsync(string runFolder, string step, IProgress<PipelineProgress>? progress = null, CancellationToken cancellationToken = default) =>
        RunStepAsync(runFolder, step, placedBox: null, progress, cancellationToken);

    /// <summary>
    /// As <see cref="RunStepAsync(string, string, IProgress{PipelineProgress}?, CancellationToken)"/>, for a step placed on
    /// one box (the job engine books its slot there across instances): the step's generation calls go to
    /// <paramref name="placedBox"/> only, and fail as the box's fault while it is quarantined.
    /// </summary>
    public async Task<StepResult> RunStepAsync(string runFolder, string step, string? placedBox, IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var (request, plan, folder, manifest, template) = await LoadAsync(runFolder, cancellationToken);
        using var pixels = new TemplatePixels(template);
        var run = new RunContext(request, plan, folder, manifest, template, pixels, _services) { Progress = progress, PlacedBox = placedBox };
        return await _runner.RunOneAsync(run, step, cancellationToken);
    }

    /// <summary>Whether the job step <paramref name="step"/> takes one of a box's generation slots, and so is placed on a box before it starts.</summary>
    public static bool TakesBoxSlot(string step) => PortraitSteps.TryGet(step) is { BoxUse: not StepBoxUse.None };

    /// <summary>
    /// What placing <paramref name="step"/> of the run in <paramref name="runFolder"/> on a box needs — the checkpoint it
    /// renders with and what a box must have — read from the run's manifest and recipe only; null when the step takes no slot.
    /// </summary>
    public static async Task<BoxNeeds?> PlacementNeedsAsync(string runFolder, string step, CancellationToken cancellationToken = default)
    {
        if (PortraitSteps.TryGet(step) is not { BoxUse: not StepBoxUse.None } portraitStep)
        {
            return null;
        }

        var (recipe, manifest) = await LoadRecipeAsync(new RunFolder(runFolder), cancellationToken);
        var loras = manifest.Inputs.People is { } people
            ? people.Select(p => p.Lora is { } l ? LoraChoice.Parse(l) : null).ToArray()
            : [manifest.Inputs.Lora is { } lora ? LoraChoice.Parse(lora) : null];
        return BoxCalls.PlacementNeeds(recipe, loras, manifest.Inputs.People is not null, portraitStep);
    }

    /// <summary>The checked inputs: the template as sent to the box, its pixels (the caller disposes them), and the person's face photos.</summary>
    private static async Task<(EncodedImage Template, SixLabors.ImageSharp.Image<Rgb24> Pixels, IReadOnlyList<EncodedImage> FacePhotos, IReadOnlyList<IReadOnlyList<EncodedImage>> PeoplePhotos)> LoadInputsAsync(
        RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        RunInputs.Check(request);
        var (template, pixels) = await InputFiles.LoadPhotoAsync(request.TemplatePath, "template", cancellationToken);
        try
        {
            RunInputs.CheckFaces(request, pixels, detector, cancellationToken);
            if (request.MaskFile is { } maskFile)
            {
                // Read and matched to the template now, though the mask step uses it later.
                await InputFiles.LoadMaskAsync(maskFile, pixels.Width, pixels.Height, cancellationToken);
            }

            var facePhotos = await InputFiles.LoadFacePhotosAsync(request, detector, cancellationToken);
            var peoplePhotos = await InputFiles.LoadPeoplePhotosAsync(request, detector, cancellationToken);
            return (template, pixels, facePhotos, peoplePhotos);
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    private static async Task<(RunFolder Folder, RunManifest Manifest, EncodedImage Template, SixLabors.ImageSharp.Image<Rgb24> Pixels)> PrepareCoreAsync(
        RunRequest request, IFaceDetector? detector, string? box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var folder = new RunFolder(request.OutputDirectory);
        if (folder.HasManifest)
        {
            throw new PipelineException($"{folder.Path} already holds a run; resume it with --resume {folder.Path}, or choose another --out.") { InputField = "out" };
        }

        var (template, pixels, facePhotos, peoplePhotos) = await LoadInputsAsync(request, detector, cancellationToken);
        try
        {
            PrivateFiles.CreateDirectory(folder.Path);
            var templateRecord = await folder.WriteAsync("template.png", template, cancellationToken);

            // The recipe as resolved (overrides applied) travels with the run: a resume uses exactly it.
            var recipeRecord = await folder.WriteTextAsync(RecipeFileName, RecipeYaml.Write(request.Recipe), cancellationToken);
            var faceRecords = new List<FileRecord>();
            for (var i = 0; i < facePhotos.Count; i++)
            {
                faceRecords.Add(await folder.WriteAsync(FaceFile(i), facePhotos[i], cancellationToken));
            }

            var people = new List<ManifestPerson>();
            for (var p = 0; p < peoplePhotos.Count; p++)
            {
                var person = request.People[p];
                var files = new List<FileRecord>();
                for (var i = 0; i < peoplePhotos[p].Count; i++)
                {
                    files.Add(await folder.WriteAsync(PersonRequest.FaceFile(person.FaceIndex, i), peoplePhotos[p][i], cancellationToken));
                }

                people.Add(new ManifestPerson(person.FaceIndex, person.Lora?.ToString(), files, person.FacePaths.Select(Path.GetFullPath).ToArray(), person.TriggerWords.Count > 0 ? person.TriggerWords : null));
            }

            var manifest = new RunManifest
            {
                Recipe = new ManifestRecipe(request.Recipe.Name, request.Recipe.SourcePath, recipeRecord.Sha256, request.Overrides, request.Recipe.Pipeline.ToString().ToLowerInvariant()),
                Inputs = new ManifestInputs(
                    templateRecord,
                    Path.GetFullPath(request.TemplatePath),
                    request.Lora?.ToString(),
                    request.TriggerWords,
                    request.Seed,
                    request.FaceIndex,
                    request.MaskFile is null ? null : Path.GetFullPath(request.MaskFile),
                    faceRecords.FirstOrDefault(),
                    request.FacePath is null || faceRecords.Count == 0 ? null : Path.GetFullPath(request.FacePath),
                    request.ModelsDirectory is null ? null : Path.GetFullPath(request.ModelsDirectory),
                    request.Device,
                    request.StandInModels,
                    faceRecords.Count > 1 ? faceRecords : null,
                    faceRecords.Count > 1 ? request.FacePaths.Select(Path.GetFullPath).ToArray() : null,
                    people.Count > 0 ? people : null),
                Box = box,
            };
            await folder.SaveManifestAsync(manifest, cancellationToken);
            return (folder, manifest, template, pixels);
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A run folder's request (null for an ID-photo run, <see cref="IdPhotoRun"/>), plan, manifest and template (the
    /// uploaded photo of an ID-photo run), checked against the hashes the manifest recorded.
    /// </summary>
    private static async Task<(RunRequest? Request, RunPlan Plan, RunFolder Folder, RunManifest Manifest, EncodedImage Template)> LoadAsync(string runFolder, CancellationToken cancellationToken)
    {
        var folder = new RunFolder(runFolder);
        var manifest = await folder.LoadManifestAsync(cancellationToken);
        var template = await folder.ReadVerifiedAsync(manifest.Inputs.Template, cancellationToken)
            ?? throw new PipelineException($"{folder.File(manifest.Inputs.Template.File)} is missing or changed; the run cannot be resumed.");
        if (IdPhotoRun.Is(manifest))
        {
            return (null, await IdPhotoRun.LoadPlanAsync(folder, manifest, cancellationToken), folder, manifest, template);
        }

        var recipe = await LoadRecipeAsync(folder, manifest, cancellationToken);
        var request = new RunRequest
        {
            Recipe = recipe,
            Overrides = manifest.Recipe.Overrides,
            TemplatePath = manifest.Inputs.TemplateSource,
            Lora = manifest.Inputs.Lora is { } lora ? LoraChoice.Parse(lora) : null,
            TriggerWords = manifest.Inputs.Trigger,
            Seed = manifest.Inputs.Seed,
            OutputDirectory = folder.Path,
            FaceIndex = manifest.Inputs.FaceIndex,
            MaskFile = manifest.Inputs.MaskFile,
            FacePaths = FacePhotos.Files(manifest.Inputs).Select(f => folder.File(f.File)).ToArray(),
            ModelsDirectory = manifest.Inputs.Models,
            Device = manifest.Inputs.Device ?? "cpu",
            StandInModels = manifest.Inputs.StandInModels,
            People = (manifest.Inputs.People ?? [])
                .Select(p => new PersonRequest(p.FaceIndex, p.Lora is { } l ? LoraChoice.Parse(l) : null, p.Faces.Select(f => folder.File(f.File)).ToArray()) { TriggerWords = p.Trigger ?? [] })
                .ToArray(),
        };
        return (request, RunPlan.Of(recipe), folder, manifest, template);
    }

    /// <summary>A run folder's manifest and the recipe it started with (which must be unchanged).</summary>
    private static async Task<(Recipe Recipe, RunManifest Manifest)> LoadRecipeAsync(RunFolder folder, CancellationToken cancellationToken)
    {
        var manifest = await folder.LoadManifestAsync(cancellationToken);
        return (await LoadRecipeAsync(folder, manifest, cancellationToken), manifest);
    }

    /// <summary>The recipe a portrait run started with, as its manifest recorded it (it must be unchanged).</summary>
    private static async Task<Recipe> LoadRecipeAsync(RunFolder folder, RunManifest manifest, CancellationToken cancellationToken)
    {
        var recipePath = folder.File(RecipeFileName);
        var recipeBytes = File.Exists(recipePath) ? await File.ReadAllBytesAsync(recipePath, cancellationToken) : null;
        if (recipeBytes is null || RunFolder.Sha256(recipeBytes) != manifest.Recipe.Sha256)
        {
            throw new PipelineException($"{recipePath} is missing or changed since this run started; start a new run (a resumed run uses the recipe it started with).");
        }

        return ParsedRecipes.Parse(recipeBytes, manifest.Recipe.Sha256, manifest.Recipe.Path);
    }
}
