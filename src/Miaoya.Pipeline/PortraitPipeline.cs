using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.IdPhoto;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>
/// Runs a V1 or V2 recipe step by step (<c>interrogate</c> → <c>mask</c> → <c>inpaint</c> [→ <c>img2img</c>]) against one
/// WebUI box. Each step's outputs and the manifest are written atomically after the step; a run folder that failed or was
/// interrupted resumes from the first unfinished step.
/// </summary>
public sealed class PortraitPipeline
{

    /// <summary>The resolved recipe in a run folder.</summary>
    public const string RecipeFileName = "recipe.yaml";

    /// <summary>V3: the person's face photo as used (upright RGB PNG) in a run folder.</summary>
    public const string FaceFileName = "face.png";

    /// <summary>Set to 1 on commercial deployments: insightface's models are for non-commercial research only, so V3 refuses to run.</summary>
    public const string DisableInsightfaceVariable = "MIAOYA_DISABLE_INSIGHTFACE";

    private const int DetectResolution = 512;

    private readonly IWebUiBoxes _boxes;
    private readonly IFaceDetector _detector;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FaceSwapperCache _swappers;

    public PortraitPipeline(IWebUiBoxes boxes, IFaceDetector detector, FaceSwapperCache swappers, TimeProvider time, ILogger<PortraitPipeline> logger)
    {
        _boxes = boxes;
        _detector = detector;
        _swappers = swappers;
        _time = time;
        _logger = logger;
    }

    /// <summary>How often progress is read from the box during a generation call.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Starts a run in a new (or empty) folder.</summary>
    public async Task<RunResult> RunAsync(RunRequest request, IProgress<PipelineProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (folder, manifest, template, pixels) = await PrepareCoreAsync(request, _detector, cancellationToken);
        using var templatePixels = pixels;
        return await ExecuteAsync(request, folder, manifest, template, templatePixels, progress, cancellationToken);
    }

    /// <summary>The steps of a job running <paramref name="recipe"/>, in order: the recipe's steps, then <c>finish</c> when it has one.</summary>
    public static IReadOnlyList<string> JobSteps(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        return recipe.Finish is null ? recipe.StepNames : [.. recipe.StepNames, StepName.Finish];
    }

    /// <summary>
    /// Writes a new run folder (inputs, resolved recipe, manifest) without calling any box; its steps then run one at a
    /// time with <see cref="RunStepAsync"/> (the job runner's way). Bad input throws <see cref="PipelineException"/> here.
    /// </summary>
    public static Task<RunManifest> PrepareAsync(RunRequest request, CancellationToken cancellationToken = default) =>
        PrepareAsync(request, null, cancellationToken);

    /// <summary>
    /// As <see cref="PrepareAsync(RunRequest, CancellationToken)"/>; with a <paramref name="detector"/>, a recipe whose
    /// mask comes from the built-in detector is also checked for the template's face (and <c>face_index</c>) here.
    /// </summary>
    public static async Task<RunManifest> PrepareAsync(RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken = default)
    {
        var (_, manifest, _, pixels) = await PrepareCoreAsync(request, detector, cancellationToken);
        pixels.Dispose();
        return manifest;
    }

    /// <summary>
    /// Runs one step of a run folder written by <see cref="PrepareAsync(RunRequest, CancellationToken)"/>: earlier steps are restored from their files
    /// (and must be intact), a step that already succeeded with intact outputs is not redone, and the step's call goes to
    /// whichever box the <see cref="IWebUiBoxes"/> pick. After the recipe's last step <c>final.png</c> is written; the run
    /// succeeds with its last job step (<see cref="JobSteps"/>).
    /// </summary>
    public async Task<StepResult> RunStepAsync(string runFolder, string step, IProgress<PipelineProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (request, folder, manifest, template) = await LoadAsync(runFolder, cancellationToken);
        var steps = JobSteps(request.Recipe);
        var index = steps.ToList().IndexOf(step);
        if (index < 0)
        {
            throw new PipelineException($"recipe {request.Recipe.Name} has no step \"{step}\" (its steps: {string.Join(", ", steps)}).") { Step = step, RunFolder = folder.Path };
        }

        using var pixels = await FaceImages.LoadAsync(template, cancellationToken);
        var run = new RunState(request, folder, manifest, template, pixels) { Progress = progress };
        foreach (var earlier in steps.Take(index))
        {
            if (!await TryRestoreAsync(run, earlier, cancellationToken))
            {
                throw new PipelineException($"step {step} needs step {earlier}'s outputs in {folder.Path}, which are missing or changed.") { Step = step, RunFolder = folder.Path };
            }
        }

        if (await TryRestoreAsync(run, step, cancellationToken))
        {
            progress?.Report(new PipelineProgress(step, 1, null, "done earlier"));
            return new StepResult(manifest.Step(step)!, step == request.Recipe.StepNames[^1] ? manifest.Final : null);
        }

        manifest.Status = RunStatus.Running;
        manifest.Error = null;
        try
        {
            await RunOneStepAsync(run, step, progress, cancellationToken);
            if (step == request.Recipe.StepNames[^1])
            {
                manifest.Final = await folder.WriteAsync("final.png", FinalImage(run), cancellationToken);
            }

            if (index == steps.Count - 1)
            {
                manifest.Status = RunStatus.Succeeded;
            }

            await folder.SaveManifestAsync(manifest, CancellationToken.None);
            return new StepResult(manifest.Step(step)!, step == request.Recipe.StepNames[^1] ? manifest.Final : null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            manifest.Status = RunStatus.Cancelled;
            manifest.Error = "cancelled";
            await folder.SaveManifestAsync(manifest, CancellationToken.None);
            throw;
        }
        catch (Exception e) when (IsStepFailure(e))
        {
            manifest.Status = RunStatus.Failed;
            manifest.Error = e.Message;
            await folder.SaveManifestAsync(manifest, CancellationToken.None);
            throw e as PipelineException is { } pe && pe.RunFolder is not null
                ? pe
                : new PipelineException($"step {step}: {e.Message}", e) { Step = step, RunFolder = folder.Path, InputField = (e as PipelineException)?.InputField };
        }
    }

    private static bool IsStepFailure(Exception e) => e is PipelineException or WebUiException or FaceSelectionException or InvalidImageDataException or RecipeException or IOException
        or InvalidDataException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException;

    /// <summary>
    /// Checks a run's inputs as <see cref="PrepareAsync(RunRequest, IFaceDetector?, CancellationToken)"/> would — options,
    /// template, the face the recipe's mask needs, mask file, V3's face photo and models — without writing anything
    /// (a batch checks every entry this way before it queues any). Bad input throws <see cref="PipelineException"/>
    /// with <see cref="PipelineException.InputField"/>.
    /// </summary>
    public static async Task CheckAsync(RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken = default)
    {
        var (_, pixels, _) = await LoadInputsAsync(request, detector, cancellationToken);
        pixels.Dispose();
    }

    /// <summary>The checked inputs: the template as sent to the box, its pixels (the caller disposes them), and V3's face photo.</summary>
    private static async Task<(EncodedImage Template, Image<Rgb24> Pixels, EncodedImage? FacePhoto)> LoadInputsAsync(
        RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        RunInputs.Check(request);
        var (template, pixels) = await LoadPhotoAsync(request.TemplatePath, "template", cancellationToken);
        try
        {
            RunInputs.CheckFaces(request, pixels, detector, cancellationToken);
            if (request.MaskFile is { } maskFile)
            {
                // Read and matched to the template now, though the mask step uses it later.
                await LoadMaskFileAsync(maskFile, pixels.Width, pixels.Height, cancellationToken);
            }

            var facePhoto = request.Recipe.Pipeline == PipelineKind.V3 ? await LoadFacePhotoAsync(request, cancellationToken) : null;
            return (template, pixels, facePhoto);
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    private static async Task<(RunFolder Folder, RunManifest Manifest, EncodedImage Template, Image<Rgb24> Pixels)> PrepareCoreAsync(
        RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var folder = new RunFolder(request.OutputDirectory);
        if (folder.HasManifest)
        {
            throw new PipelineException($"{folder.Path} already holds a run; resume it with --resume {folder.Path}, or choose another --out.") { InputField = "out" };
        }

        var (template, pixels, facePhoto) = await LoadInputsAsync(request, detector, cancellationToken);
        try
        {
            PrivateFiles.CreateDirectory(folder.Path);
            var templateRecord = await folder.WriteAsync("template.png", template, cancellationToken);

            // The recipe as resolved (overrides applied) travels with the run: a resume uses exactly it.
            var recipeRecord = await folder.WriteTextAsync(RecipeFileName, RecipeYaml.Write(request.Recipe), cancellationToken);
            var faceRecord = facePhoto is null ? null : await folder.WriteAsync(FaceFileName, facePhoto, cancellationToken);

            var manifest = new RunManifest
            {
                Recipe = new ManifestRecipe(request.Recipe.Name, request.Recipe.SourcePath, recipeRecord.Sha256, request.Overrides, request.Recipe.Pipeline.ToString().ToLowerInvariant()),
                Inputs = new ManifestInputs(
                    templateRecord,
                    Path.GetFullPath(request.TemplatePath),
                    request.Lora.ToString(),
                    request.TriggerWords,
                    request.Seed,
                    request.FaceIndex,
                    request.MaskFile is null ? null : Path.GetFullPath(request.MaskFile),
                    faceRecord,
                    request.FacePath is null ? null : Path.GetFullPath(request.FacePath),
                    request.ModelsDirectory is null ? null : Path.GetFullPath(request.ModelsDirectory),
                    request.Device,
                    request.StandInModels),
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

    /// <summary>Resumes a run folder: finished steps whose outputs are intact are not redone.</summary>
    public async Task<RunResult> ResumeAsync(string runFolder, IProgress<PipelineProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (request, folder, manifest, template) = await LoadAsync(runFolder, cancellationToken);
        if (manifest.Status == RunStatus.Succeeded && manifest.Final is { } done && await folder.ReadVerifiedAsync(done, cancellationToken) is not null)
        {
            return new RunResult(folder.Path, manifest, folder.File(done.File));
        }

        manifest.Status = RunStatus.Running;
        manifest.Error = null;
        using var pixels = await FaceImages.LoadAsync(template, cancellationToken);
        return await ExecuteAsync(request, folder, manifest, template, pixels, progress, cancellationToken);
    }

    /// <summary>A run folder's request, manifest and template, checked against the hashes the manifest recorded.</summary>
    private static async Task<(RunRequest Request, RunFolder Folder, RunManifest Manifest, EncodedImage Template)> LoadAsync(string runFolder, CancellationToken cancellationToken)
    {
        var folder = new RunFolder(runFolder);
        var manifest = await folder.LoadManifestAsync(cancellationToken);

        var recipePath = folder.File(RecipeFileName);
        if (!File.Exists(recipePath) || RunFolder.Sha256(await File.ReadAllBytesAsync(recipePath, cancellationToken)) != manifest.Recipe.Sha256)
        {
            throw new PipelineException($"{recipePath} is missing or changed since this run started; start a new run (a resumed run uses the recipe it started with).");
        }

        var recipe = RecipeLoader.Parse(await File.ReadAllTextAsync(recipePath, cancellationToken), manifest.Recipe.Path);
        var template = await folder.ReadVerifiedAsync(manifest.Inputs.Template, cancellationToken)
            ?? throw new PipelineException($"{folder.File(manifest.Inputs.Template.File)} is missing or changed; the run cannot be resumed.");
        var request = new RunRequest
        {
            Recipe = recipe,
            Overrides = manifest.Recipe.Overrides,
            TemplatePath = manifest.Inputs.TemplateSource,
            Lora = LoraChoice.Parse(manifest.Inputs.Lora),
            TriggerWords = manifest.Inputs.Trigger,
            Seed = manifest.Inputs.Seed,
            OutputDirectory = folder.Path,
            FaceIndex = manifest.Inputs.FaceIndex,
            MaskFile = manifest.Inputs.MaskFile,
            FacePath = manifest.Inputs.Face is null ? null : folder.File(manifest.Inputs.Face.File),
            ModelsDirectory = manifest.Inputs.Models,
            Device = manifest.Inputs.Device ?? "cpu",
            StandInModels = manifest.Inputs.StandInModels,
        };
        return (request, folder, manifest, template);
    }

    private async Task<RunResult> ExecuteAsync(
        RunRequest request, RunFolder folder, RunManifest manifest, EncodedImage template, Image<Rgb24> pixels, IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var run = new RunState(request, folder, manifest, template, pixels) { Progress = progress };
        try
        {
            progress?.Report(new PipelineProgress("preflight", 0, null, "probing"));
            await PreflightAsync(run, cancellationToken);

            foreach (var step in request.Recipe.StepNames)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (await TryRestoreAsync(run, step, cancellationToken))
                {
                    progress?.Report(new PipelineProgress(step, 1, null, "done earlier"));
                    continue;
                }

                await RunOneStepAsync(run, step, progress, cancellationToken);
            }

            var final = FinalImage(run);
            manifest.Final = await folder.WriteAsync("final.png", final, cancellationToken);
            if (request.Recipe.Finish is not null)
            {
                await RunOneStepAsync(run, StepName.Finish, progress, cancellationToken);
            }

            manifest.Status = RunStatus.Succeeded;
            await folder.SaveManifestAsync(manifest, CancellationToken.None);
            return new RunResult(folder.Path, manifest, folder.File("final.png"));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            manifest.Status = RunStatus.Cancelled;
            manifest.Error = "cancelled";
            await folder.SaveManifestAsync(manifest, CancellationToken.None);
            throw;
        }
        catch (Exception e) when (IsStepFailure(e))
        {
            var step = (e as PipelineException)?.Step ?? manifest.Steps.LastOrDefault(s => s.Status == StepStatus.Failed)?.Name;
            manifest.Status = RunStatus.Failed;
            manifest.Error = e.Message;
            await folder.SaveManifestAsync(manifest, CancellationToken.None);
            throw e as PipelineException is { } pe && pe.RunFolder is not null
                ? pe
                : new PipelineException(step is null ? e.Message : $"step {step}: {e.Message}", e) { Step = step, RunFolder = folder.Path, InputField = (e as PipelineException)?.InputField };
        }
    }

    private async Task RunOneStepAsync(RunState run, string step, IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var record = run.Manifest.Step(step);
        if (record is null)
        {
            record = new StepRecord { Name = step };
            run.Manifest.Steps.Add(record);
        }

        record.Status = StepStatus.Running;
        record.Error = null;
        record.StartedAt = _time.GetUtcNow();
        record.Outputs.Clear();
        var clock = Stopwatch.StartNew();
        progress?.Report(new PipelineProgress(step, 0, null));
        try
        {
            switch (step)
            {
                case "interrogate":
                    await InterrogateAsync(run, record, cancellationToken);
                    break;
                case "mask":
                    await MaskAsync(run, record, cancellationToken);
                    break;
                case "inpaint":
                    await InpaintAsync(run, record, progress, cancellationToken);
                    break;
                case "img2img":
                    await WholeImageAsync(run, record, progress, cancellationToken);
                    break;
                case "faceswap":
                    await FaceSwapAsync(run, record, cancellationToken);
                    break;
                case StepName.Finish:
                    await FinishAsync(run, record, cancellationToken);
                    break;
                default:
                    throw new PipelineException($"recipe {run.Request.Recipe.Name}: unknown step \"{step}\".") { Step = step };
            }

            record.Status = record.Status == StepStatus.Skipped ? StepStatus.Skipped : StepStatus.Succeeded;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            record.Status = StepStatus.Cancelled;
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            record.Status = StepStatus.Failed;
            record.Error = e.Message;
            throw;
        }
        finally
        {
            record.DurationMs = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            await run.Folder.SaveManifestAsync(run.Manifest, CancellationToken.None);
        }

        _logger.LogInformation("Step {Step} of {Recipe}: {Status} in {Ms} ms", step, run.Request.Recipe.Name, record.Status, record.DurationMs);
        progress?.Report(new PipelineProgress(step, 1, null, record.Status == StepStatus.Skipped ? "skipped" : null));
    }

    // ---- steps -------------------------------------------------------------------------------------

    private async Task InterrogateAsync(RunState run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Request.Recipe.Interrogate;
        var model = settings.Model;
        // The WD14 tagger interrogates under the WebUI's queue lock (its api.py: `with self.queue_lock:`, the lock A1111
        // passes in on_app_started), so it occupies the box like a generation does, without needing a checkpoint.
        var tags = await OnBoxAsync(run, record, Needs(run, StepName.Interrogate, generation: true) with { Checkpoint = null }, (box, ct) =>
        {
            model = settings.Model ?? box.Capabilities.TaggerModels[0];
            return box.Client.TaggerInterrogateAsync(new TaggerInterrogateRequest(run.Template, model, settings.Threshold), ct);
        }, cancellationToken);
        run.Prompt = PromptComposer.Compose(tags, run.Request.Recipe, run.Request.Lora, run.Request.TriggerWords);
        record.Request = new JsonObject { ["image"] = Reference(run.Manifest.Inputs.Template), ["model"] = model, ["threshold"] = settings.Threshold };
        record.Response = new JsonObject
        {
            ["flavor"] = tags.Flavor.ToString(),
            ["tags"] = ToJson(tags.Tags),
            ["ratings"] = ToJson(tags.Ratings),
        };
        record.Data["prompt"] = run.Prompt.Prompt;
        record.Data["negative_prompt"] = run.Prompt.NegativePrompt;
        record.Data["kept_tags"] = new JsonArray(run.Prompt.KeptTags.Select(t => (JsonNode)t).ToArray());
        record.Data["dropped_tags"] = new JsonArray(run.Prompt.DroppedTags.Select(t => (JsonNode)t).ToArray());
        record.Outputs.Add(await run.Folder.WriteTextAsync("prompt.txt", $"{run.Prompt.Prompt}\nNegative prompt: {run.Prompt.NegativePrompt}\n", cancellationToken));
    }

    private async Task MaskAsync(RunState run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Request.Recipe.Mask!;
        var (width, height) = (run.Pixels.Width, run.Pixels.Height);
        var maskFile = run.Request.MaskFile ?? (settings.Source == MaskSource.File ? settings.File : null);
        var rgb = run.Pixels;
        IReadOnlyList<DetectedFace> faces;
        string source;
        if (settings.Source == MaskSource.Openpose && maskFile is null)
        {
            var detect = await OnBoxAsync(run, record, Needs(run, StepName.Mask, generation: false), (box, ct) => box.Client.DetectAsync(
                new ControlNetDetectRequest { ControlnetModule = "openpose_faceonly", ControlnetInputImages = [run.Template], ControlnetProcessorRes = DetectResolution },
                ct), cancellationToken);
            faces = OpenPoseFaces.From(detect, width, height, DetectResolution);
            source = "openpose";
        }
        else
        {
            faces = _detector.Detect(rgb, cancellationToken).OrderByDescending(f => f.Size).ToArray();
            source = maskFile is null ? "detector" : "file";
        }

        record.Data["source"] = source;
        record.Data["faces_found"] = faces.Count;
        EncodedImage mask;
        if (maskFile is not null)
        {
            mask = await LoadMaskFileAsync(maskFile, width, height, cancellationToken);
            run.Face = faces.Count == 0 ? null : faces[Math.Clamp(run.Request.FaceIndex ?? 0, 0, faces.Count - 1)];
        }
        else
        {
            var templateName = Path.GetFileName(run.Request.TemplatePath);
            if (faces.Count == 0 && source == "openpose")
            {
                throw new PipelineException($"{templateName}: the box's openpose face detector found no face. Use a photo with one clearly visible frontal face, set mask.source: detector, or give a mask file with --mask.") { Step = "mask" };
            }

            run.Face = FaceSelection.Select(faces, run.Request.FaceIndex, templateName);
            mask = FaceMasks.BuildPng(width, height, run.Face, new FaceMaskOptions
            {
                Kind = settings.Kind == MaskKind.FaceNeck ? FaceMaskKind.FaceAndNeck : FaceMaskKind.Face,
                Grow = (float)settings.Grow,
                FeatherFraction = (float)settings.Feather,
                NeckLength = (float)settings.NeckLength,
            });
        }

        run.Mask = mask;
        if (run.Face is { } face)
        {
            record.Data["face"] = FaceToJson(face);
            record.Data["delta_e_template"] = Math.Round(SkinTone.Measure(rgb, face).DeltaE, 2);
        }

        record.Outputs.Add(await run.Folder.WriteAsync("mask.png", mask, cancellationToken));
    }

    private async Task InpaintAsync(RunState run, StepRecord record, IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var (width, height) = (run.Pixels.Width, run.Pixels.Height);
        var response = await GenerateAsync(
            run, "inpaint", record, box => PayloadBuilder.Inpaint(run.Request.Recipe, box, run.Template, run.Mask!, run.Prompt!, run.Request.Seed, width, height), progress, cancellationToken);
        run.Seed = response.Info?.Seed ?? run.Request.Seed;
        Measure(run, record, "delta_e");
    }

    private async Task WholeImageAsync(RunState run, StepRecord record, IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var settings = run.Request.Recipe.Img2Img!;
        var before = (run.Manifest.Step("inpaint") ?? run.Manifest.Step("faceswap"))?.Data["delta_e"]?.GetValue<double>();
        record.Data["delta_e_before"] = before;
        if (settings.SkipIfDeltaEBelow is { } threshold && before is { } measured && measured < threshold)
        {
            record.Status = StepStatus.Skipped;
            record.Data["skipped_because"] = string.Create(CultureInfo.InvariantCulture, $"face-vs-neck ΔE {measured:0.##} after inpaint is under skip_if_delta_e_below {threshold}");
            return;
        }

        var (width, height) = run.Current!.ReadSize();
        var current = run.Current;
        await GenerateAsync(
            run, "img2img", record, box => PayloadBuilder.WholeImage(run.Request.Recipe, box, run.Template, current, run.Prompt!, run.Seed ?? run.Request.Seed, width, height), progress, cancellationToken);
        Measure(run, record, "delta_e_after");
    }

    private async Task<GenerationResponse> GenerateAsync(
        RunState run, string step, StepRecord record, Func<WebUiCapabilities, Img2ImgRequest> build, IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var (request, response, expected) = await OnBoxAsync(run, record, Needs(run, step, generation: true), async (box, ct) =>
        {
            var request = build(box.Capabilities);
            record.Request = ManifestRequest(run, request);
            await run.Folder.SaveManifestAsync(run.Manifest, ct);
            var response = await WithProgressAsync(step, box.Client, progress, () => box.Client.Img2ImgAsync(request, ct), ct);
            return (request, response, box.Capabilities.FindCheckpoint(run.Request.Recipe.BaseModel)!);
        }, cancellationToken);
        var problems = ResponseChecks.Check(request, response, expected.ModelName);
        var info = response.Info;
        record.Response = new JsonObject
        {
            ["seed"] = info?.Seed,
            ["all_seeds"] = info?.AllSeeds is { } seeds ? new JsonArray(seeds.Select(s => (JsonNode)s).ToArray()) : null,
            ["sd_model_name"] = info?.SdModelName,
            ["sd_model_hash"] = info?.SdModelHash,
            ["sampler_name"] = info?.SamplerName,
            ["version"] = info?.Version,
            ["infotext"] = info?.Infotexts is { Count: > 0 } texts ? texts[0] : null,
            ["images"] = response.Images.Count,
        };
        if (problems.Count > 0)
        {
            throw new PipelineException($"{record.Data["box"]} did not do what was asked: {string.Join(" ", problems)}") { Step = step };
        }

        var generated = response.GeneratedImages;
        var image = generated[0];
        record.Outputs.Add(await run.Folder.WriteAsync($"{step}{image.FileExtension}", image, cancellationToken));
        for (var i = generated.Count + (info?.IndexOfFirstImage ?? 0); i < response.Images.Count; i++)
        {
            var map = response.Images[i];
            record.Outputs.Add(await run.Folder.WriteAsync($"{step}-controlnet-{i - generated.Count}{map.FileExtension}", map, cancellationToken));
        }

        run.Current = image;
        run.Infotext = info?.Infotexts is { Count: > 0 } infotexts ? infotexts[0] : null;
        return response;
    }

    private async Task<T> WithProgressAsync<T>(string step, WebUiClient client, IProgress<PipelineProgress>? progress, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        if (progress is null)
        {
            return await call();
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var polling = PollProgressAsync(step, client, progress, stop.Token);
        try
        {
            return await call();
        }
        finally
        {
            await stop.CancelAsync();
            await polling;
        }
    }

    private async Task PollProgressAsync(string step, WebUiClient client, IProgress<PipelineProgress> progress, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(ProgressInterval, _time, cancellationToken);
                var state = await client.GetProgressAsync(skipCurrentImage: true, cancellationToken);
                if (state.State?.JobCount > 0)
                {
                    progress.Report(new PipelineProgress(step, state.Progress, state.EtaRelative > 0 ? TimeSpan.FromSeconds(state.EtaRelative) : null));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The call finished (or the run was cancelled).
        }
        catch (WebUiException e)
        {
            _logger.LogDebug("Progress of {Step} unavailable: {Error}", step, e.Message);
        }
    }

    /// <summary>Face-vs-neck ΔE of the current image, with the face found on the template.</summary>
    private static void Measure(RunState run, StepRecord record, string key)
    {
        if (run.Face is not { } face || run.Current is null)
        {
            return;
        }

        using var image = FaceImages.Load(run.Current);
        var scale = image.Width / (float)run.Pixels.Width;
        var scaled = scale == 1f ? face : Scale(face, scale);
        record.Data[key] = Math.Round(SkinTone.Measure(image, scaled).DeltaE, 2);
    }

    /// <summary>V3: the person's face swapped into the template locally (insightface inswapper on ONNX Runtime).</summary>
    private async Task FaceSwapAsync(RunState run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Request.Recipe.FaceSwap!;
        var models = run.Request.ModelsDirectory!;
        var paths = new FaceSwapModelPaths(
            Path.Combine(models, ModelRegistry.ArcFace.FileName),
            Path.Combine(models, ModelRegistry.Inswapper.FileName),
            settings.Detector == FaceSwapDetector.Scrfd ? Path.Combine(models, ModelRegistry.Det10g.FileName) : null);
        var notes = new JsonArray();
        var swapper = _swappers.Get(paths, ExecutionDevice.Parse(run.Request.Device), line =>
        {
            notes.Add(line);
            _logger.LogInformation("{Note}", line);
        });
        var facePhoto = await run.Folder.ReadVerifiedAsync(run.Manifest.Inputs.Face!, cancellationToken)
            ?? throw new PipelineException($"{run.Folder.File(FaceFileName)} is missing or changed.") { Step = "faceswap" };
        using var source = await FaceImages.LoadAsync(facePhoto, cancellationToken);
        var request = new FaceSwapRequest
        {
            SourceFaceIndex = settings.SourceFaceIndex,
            TargetFaceIndices = (run.Request.FaceIndex ?? settings.TargetFaceIndex) is { } index ? [index] : null,
        };
        FaceSwapResult swap;
        try
        {
            swap = swapper.Swap(source, run.Pixels, request, cancellationToken);
        }
        catch (FaceSelectionException e)
        {
            var which = e.Message.StartsWith("source", StringComparison.Ordinal) ? run.Request.FacePath ?? FaceFileName : run.Request.TemplatePath;
            throw new PipelineException($"{Path.GetFileName(which)}: {e.Message} Use a photo with one clearly visible frontal face, or choose one with faceswap.source_face_index / --face-index.", e) { Step = "faceswap" };
        }

        using (swap)
        {
            var target = swap.TargetFaces[swap.SwappedTargetIndices[0]];
            run.Face = ToDetectedFace(target);
            record.Data["detector"] = swapper.DetectorName;
            record.Data["device"] = run.Request.Device;
            record.Data["models"] = run.Request.StandInModels ? "stand-in models (tests/Miaoya.FaceSwap.Tests/StandInModels), not insightface's" : models;
            record.Data["notes"] = notes;
            record.Data["source_faces"] = swap.SourceFaces.Count;
            record.Data["faces_found"] = swap.TargetFaces.Count;
            record.Data["swapped"] = new JsonArray(swap.SwappedTargetIndices.Select(i => (JsonNode)i).ToArray());
            record.Data["face"] = FaceToJson(run.Face);
            record.Data["timings_ms"] = new JsonObject(swap.TimingsMs.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)Math.Round(t.Value, 1))));
            if (settings.ColourCorrection)
            {
                var correction = ColourTransfer.Apply(swap.Image, run.Pixels, run.Face);
                record.Data["colour_correction"] = new JsonObject
                {
                    ["swapped_mean_lab"] = new JsonArray(Math.Round(correction.SwappedMean.L, 2), Math.Round(correction.SwappedMean.A, 2), Math.Round(correction.SwappedMean.B, 2)),
                    ["template_mean_lab"] = new JsonArray(Math.Round(correction.TemplateMean.L, 2), Math.Round(correction.TemplateMean.A, 2), Math.Round(correction.TemplateMean.B, 2)),
                };
            }
            else
            {
                record.Data["colour_correction"] = false;
            }

            var image = EncodedImage.FromPng(swap.Image);
            record.Outputs.Add(await run.Folder.WriteAsync("faceswap.png", image, cancellationToken));
            run.Current = image;
            record.Data["delta_e"] = Math.Round(SkinTone.Measure(swap.Image, run.Face).DeltaE, 2);
        }
    }

    /// <summary>The five insightface points as the detector's six landmarks (ears at the box's sides, eye height).</summary>
    private static DetectedFace ToDetectedFace(SwapFace face)
    {
        var p = face.Points;
        var mouth = new PointF((p.ImageLeftMouth.X + p.ImageRightMouth.X) / 2, (p.ImageLeftMouth.Y + p.ImageRightMouth.Y) / 2);
        var eyeY = (p.ImageLeftEye.Y + p.ImageRightEye.Y) / 2;
        return new DetectedFace(
            face.Box,
            [p.ImageLeftEye, p.ImageRightEye, p.Nose, mouth, new PointF(face.Box.Left, eyeY), new PointF(face.Box.Right, eyeY)],
            face.Score);
    }

    private static async Task<EncodedImage> LoadFacePhotoAsync(RunRequest request, CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable(DisableInsightfaceVariable) is "1" or "true")
        {
            throw new PipelineException($"V3 is disabled on this deployment ({DisableInsightfaceVariable}={Environment.GetEnvironmentVariable(DisableInsightfaceVariable)}): insightface's models are for non-commercial research only. Use v1-face or v2.") { Step = "faceswap", InputField = "recipe" };
        }

        if (request.FacePath is null)
        {
            throw new PipelineException($"recipe {request.Recipe.Name} swaps a face: give the person's photo with --face.") { Step = "template", InputField = "face" };
        }

        if (request.ModelsDirectory is null)
        {
            throw new PipelineException($"recipe {request.Recipe.Name} needs insightface's models: give --models DIR (det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx).") { Step = "template", InputField = "models" };
        }

        var needed = new List<string> { ModelRegistry.ArcFace.FileName, ModelRegistry.Inswapper.FileName };
        if (request.Recipe.FaceSwap?.Detector == FaceSwapDetector.Scrfd)
        {
            needed.Insert(0, ModelRegistry.Det10g.FileName);
        }

        var missing = needed.Where(n => !File.Exists(Path.Combine(request.ModelsDirectory, n))).ToList();
        if (missing.Count > 0)
        {
            throw new PipelineException($"--models {request.ModelsDirectory}: missing {string.Join(", ", missing)} (insightface's file names; det_10g and w600k_r50 come from the buffalo_l pack).") { Step = "template", InputField = "models" };
        }

        var (face, pixels) = await LoadPhotoAsync(request.FacePath, "face", cancellationToken);
        pixels.Dispose();
        return face;
    }

    // ---- boxes -------------------------------------------------------------------------------------

    /// <summary>
    /// The box check before the first step: some box can run the whole recipe (each call is placed and checked again).
    /// The box that answered is recorded as the run's server.
    /// </summary>
    private async Task PreflightAsync(RunState run, CancellationToken cancellationToken)
    {
        var recipe = run.Request.Recipe;
        try
        {
            var box = await _boxes.RunAsync(
                new BoxNeeds { Purpose = recipe.Name, IsGeneration = false, Check = caps => Preflight.Check(recipe, caps, run.Request.Lora) },
                (box, _) => Task.FromResult(box),
                cancellationToken);
            RecordServer(run, box);
        }
        catch (WebUiBoxesException e)
        {
            // When the person's LoRA is all that some box lacks, the input is at fault (--lora), not the boxes.
            var loraOnly = e.Problems.Values.Any(list => list.Count > 0 && list.All(p => p.StartsWith("--lora:", StringComparison.Ordinal)));
            throw new PipelineException(e.Message, e) { Step = "preflight", InputField = loraOnly ? "lora" : null };
        }
    }

    /// <summary>What a step's call needs from a box: the recipe's models for that step (Preflight), and its checkpoint when it renders.</summary>
    private static BoxNeeds Needs(RunState run, string step, bool generation) => new()
    {
        Purpose = step,
        IsGeneration = generation,
        Checkpoint = generation ? run.Request.Recipe.BaseModel : null,
        Check = caps => Preflight.Check(run.Request.Recipe, caps, run.Request.Lora, step),
    };

    /// <summary>One remote call of a step, on whichever box the boxes pick; the box is recorded in the step's data.</summary>
    private async Task<T> OnBoxAsync<T>(RunState run, StepRecord record, BoxNeeds needs, Func<WebUiBox, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await _boxes.RunAsync(needs, (box, ct) =>
            {
                record.Data["box"] = box.Name;
                RecordServer(run, box);
                run.Progress?.Report(new PipelineProgress(needs.Purpose, 0, null, $"on {box.Name}", box.Name));

                return call(box, ct);
            }, cancellationToken);
        }
        catch (WebUiBoxesException e)
        {
            throw new PipelineException(e.Message, e) { Step = needs.Purpose };
        }
    }

    private static void RecordServer(RunState run, WebUiBox box)
    {
        var caps = box.Capabilities;
        run.Manifest.Server ??= new ManifestServer(caps.BaseUrl.ToString(), caps.WebUiVersion, caps.SamplerDialect.ToString(), caps.ControlNetApiVersion, caps.TaggerFlavor.ToString());
    }

    // ---- resume ------------------------------------------------------------------------------------

    private async Task<bool> TryRestoreAsync(RunState run, string step, CancellationToken cancellationToken)
    {
        if (run.Manifest.Step(step) is not { Status: StepStatus.Succeeded or StepStatus.Skipped } record)
        {
            return false;
        }

        var files = new List<EncodedImage>();
        foreach (var output in record.Outputs)
        {
            if (await run.Folder.ReadVerifiedAsync(output, cancellationToken) is not { } file)
            {
                _logger.LogWarning("Step {Step}: {File} is missing or changed; running the step again", step, output.File);
                return false;
            }

            files.Add(file);
        }

        switch (step)
        {
            case "interrogate":
                run.Prompt = new ComposedPrompt(
                    record.Data["prompt"]!.GetValue<string>(),
                    record.Data["negative_prompt"]!.GetValue<string>(),
                    record.Data["kept_tags"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray(),
                    record.Data["dropped_tags"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());
                break;
            case "mask":
                run.Mask = files[0];
                run.Face = record.Data["face"] is JsonObject face ? FaceFromJson(face) : null;
                break;
            case "faceswap":
                run.Current = files[0];
                run.Face = record.Data["face"] is JsonObject swapped ? FaceFromJson(swapped) : null;
                break;
            case "inpaint" or "img2img" when record.Status == StepStatus.Succeeded:
                run.Current = files[0];
                run.Seed = record.Response?["seed"]?.GetValue<long>();
                run.Infotext = record.Response?["infotext"]?.GetValue<string>();
                break;
        }

        return true;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /// <summary>
    /// A photo (the template, or V3's face photo: <paramref name="field"/>) as sent to the box, and its decoded upright
    /// RGB pixels (the caller disposes them). Everything wrong with the file is bad input naming the field: missing, not
    /// PNG/JPEG/WebP, cut short, too large (bytes, sides, pixels), or not decoding.
    /// </summary>
    private static async Task<(EncodedImage Encoded, Image<Rgb24> Pixels)> LoadPhotoAsync(string path, string field, CancellationToken cancellationToken)
    {
        var label = field == "face" ? "face photo" : "template";
        PipelineException Bad(string message) => new($"{label} {path}: {message}") { Step = "template", InputField = field };
        var limits = Limits.InputLimits.Images;
        EncodedImage encoded;
        int width, height;
        try
        {
            encoded = await EncodedImage.ReadFileAsync(path, cancellationToken);
            (width, height) = encoded.Check();
        }
        catch (InvalidImageDataException e)
        {
            throw Bad(e.Message.Replace(path + ": ", "", StringComparison.Ordinal) + (e.Message.Contains("PNG, JPEG or WebP", StringComparison.Ordinal) ? " Give a PNG, JPEG or WebP photo." : ""));
        }

        if (Math.Max(width, height) > limits.MaxTemplateSide || Math.Min(width, height) < limits.MinTemplateSide)
        {
            throw Bad($"{width}×{height} px is outside {limits.MinTemplateSide}..{limits.MaxTemplateSide} px per side; scale it (SD 1.5 works best near 512–1024 px).");
        }

        // EXIF rotation applied, greyscale/CMYK/alpha turned into RGB, sent to the box as PNG. A plain 8-bit RGB PNG
        // already is what the box and the detector see, and is sent as it is.
        Image<Rgb24> rgb;
        try
        {
            rgb = await FaceImages.LoadAsync(encoded, cancellationToken);
        }
        catch (InvalidImageDataException e)
        {
            throw Bad(e.Message);
        }

        try
        {
            return (IsPlainRgb(encoded) ? encoded : EncodedImage.FromPng(rgb), rgb);
        }
        catch
        {
            rgb.Dispose();
            throw;
        }
    }

    private static bool IsPlainRgb(EncodedImage image)
    {
        if (image.Format != ImageFileFormat.Png)
        {
            return false;
        }

        using var stream = image.OpenRead();
        var info = Image.Identify(ImageMemory.Decoding, stream);
        var png = info?.Metadata.GetPngMetadata();
        var orientation = info?.Metadata.ExifProfile?.GetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation)?.Value ?? 1;
        return png is { ColorType: SixLabors.ImageSharp.Formats.Png.PngColorType.Rgb, BitDepth: SixLabors.ImageSharp.Formats.Png.PngBitDepth.Bit8 } && orientation == 1;
    }

    private static async Task<EncodedImage> LoadMaskFileAsync(string path, int width, int height, CancellationToken cancellationToken)
    {
        Image<Rgba32> image;
        try
        {
            var encoded = await EncodedImage.ReadFileAsync(path, cancellationToken);
            var (w, h) = encoded.Check();
            if (w != width || h != height)
            {
                throw new PipelineException($"mask file {path}: {w}×{h} px, but the template is {width}×{height} px; they must match.") { Step = "mask", InputField = "mask" };
            }

            image = await encoded.DecodeAsync(cancellationToken);
        }
        catch (InvalidImageDataException e)
        {
            throw new PipelineException($"mask file {path}: {e.Message.Replace(path + ": ", "", StringComparison.Ordinal)}", e) { Step = "mask", InputField = "mask" };
        }

        using var decoded = image;

        using var grey = decoded.CloneAs<L8>();
        return EncodedImage.FromPng(grey);
    }

    /// <summary>
    /// The recipe's <c>finish</c>: the final image made into an ID photo (Miaoya.IdPhoto: geometry, rembg background, DPI,
    /// size target, sheet) with its compliance verdict, all written into the run folder; the verdict is recorded in the
    /// step's data and marks the photo as AI-generated. A failing verdict does not fail the run (the files are there to
    /// inspect); no face or an unusable spec does.
    /// </summary>
    private async Task FinishAsync(RunState run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Request.Recipe.Finish!;
        FinishResult result;
        try
        {
            var options = new FinishOptions
            {
                Spec = IdSpecs.Find(settings.Spec),
                Background = BackgroundFill.Parse(settings.Background),
                Dpi = settings.Dpi,
                MaxKb = settings.Kb,
                Format = settings.Format switch { FinishFormat.Png => PhotoFormat.Png, FinishFormat.Jpeg => PhotoFormat.Jpeg, _ => null },
                Sheet = settings.Sheet switch { FinishSheet.SixInch => SheetSize.SixInch, FinishSheet.A4 => SheetSize.A4, _ => null },
                Generated = true,
            };
            using var pixels = await FaceImages.LoadAsync(run.Current ?? run.Template, cancellationToken);
            result = !options.Background.Keep
                ? await OnBoxAsync(run, record, Needs(run, StepName.Finish, generation: false), (box, ct) => IdPhotoFinisher.FinishAsync(pixels, options, _detector, box.Client, ct), cancellationToken)
                : await IdPhotoFinisher.FinishAsync(pixels, options, _detector, null, cancellationToken);
        }
        catch (Exception e) when (e is IdPhotoException or IdSpecException or FormatException or ArgumentException)
        {
            throw new PipelineException($"step finish: {e.Message}", e) { Step = StepName.Finish };
        }

        record.Outputs.Add(await run.Folder.WriteAsync(result.FileName, result.Photo.Bytes, cancellationToken));
        if (result.Mask is { } mask)
        {
            record.Outputs.Add(await run.Folder.WriteAsync("idphoto-mask.png", mask, cancellationToken));
        }

        if (result.Sheet is { } sheet)
        {
            record.Outputs.Add(await run.Folder.WriteAsync($"sheet-{EnumName(settings.Sheet)}.jpg", sheet, cancellationToken));
        }

        record.Outputs.Add(await run.Folder.WriteTextAsync("verdict.json", result.Verdict.ToJson(), cancellationToken));
        record.Data["spec"] = settings.Spec;
        record.Data["dpi"] = result.Dpi;
        record.Data["background"] = settings.Background;
        record.Data["kb"] = Math.Round(result.Photo.Kilobytes, 1);
        record.Data["size_note"] = result.Photo.SizeNote;
        record.Data["passed"] = result.Verdict.Passed;
        record.Data["failed_rules"] = new JsonArray(result.Verdict.Rules.Where(r => !r.Passed).Select(r => (JsonNode)JsonValue.Create(r.Id)!).ToArray());
        record.Data["warnings"] = new JsonArray(result.Warnings.Select(w => (JsonNode)JsonValue.Create(w)!).ToArray());
        record.Data["generated"] = true;
        record.Data["note"] = ComplianceReport.AuthorityNote;
        if (!result.Verdict.Passed)
        {
            _logger.LogWarning("Finish of {Recipe}: the ID photo fails {Rules} of {Spec}", run.Request.Recipe.Name, string.Join(", ", result.Verdict.Rules.Where(r => !r.Passed).Select(r => r.Id)), settings.Spec);
        }
    }

    private static string EnumName(FinishSheet sheet) => sheet == FinishSheet.A4 ? "a4" : "6inch";

    /// <summary>The last image as PNG, carrying the box's infotext as the WebUI's "parameters" chunk.</summary>
    private static EncodedImage FinalImage(RunState run)
    {
        var current = run.Current ?? run.Template;
        if (current.Format != ImageFileFormat.Png)
        {
            using var decoded = current.Decode();
            current = EncodedImage.FromPng(decoded);
        }

        return run.Infotext is { } text ? PngText.With(current, PngText.ParametersKeyword, text) : current;
    }

    /// <summary>The request as JSON with every image replaced by the run file it came from.</summary>
    private static JsonNode ManifestRequest(RunState run, Img2ImgRequest request)
    {
        var known = run.Manifest.Steps.SelectMany(s => s.Outputs).Append(run.Manifest.Inputs.Template)
            .GroupBy(f => f.Sha256).ToDictionary(g => g.Key, g => g.First());
        JsonNode Ref(EncodedImage image)
        {
            var sha = RunFolder.Sha256(image.Bytes.Span);
            return known.TryGetValue(sha, out var file) ? Reference(file) : new JsonObject { ["file"] = null, ["sha256"] = sha, ["bytes"] = image.Length };
        }

        // Serialise without the image bytes, then put references where the images go.
        var empty = new EncodedImage(ReadOnlyMemory<byte>.Empty);
        var units = request.AlwaysOnScripts?.ControlNet?.Args ?? [];
        var light = request with
        {
            InitImages = request.InitImages.Select(_ => empty).ToArray(),
            Mask = request.Mask is null ? null : empty,
            AlwaysOnScripts = request.AlwaysOnScripts is null ? null : request.AlwaysOnScripts with
            {
                ControlNet = new ControlNetScriptArgs(units.Select(u => u with { Image = u.Image is null ? null : empty, Mask = u.Mask is null ? null : empty }).ToArray()),
            },
        };
        var json = WebUiPayload.ToJsonNode(light);
        var init = json["init_images"]!.AsArray();
        for (var i = 0; i < request.InitImages.Count; i++)
        {
            init[i] = Ref(request.InitImages[i]);
        }

        if (request.Mask is { } mask)
        {
            json["mask"] = Ref(mask);
        }

        for (var i = 0; i < units.Count; i++)
        {
            var unit = json["alwayson_scripts"]!["controlnet"]!["args"]![i]!;
            if (units[i].Image is { } image)
            {
                unit["image"] = Ref(image);
            }

            if (units[i].Mask is { } unitMask)
            {
                unit["mask"] = Ref(unitMask);
            }
        }

        return json;
    }

    private static JsonObject Reference(FileRecord file) => new() { ["file"] = file.File, ["sha256"] = file.Sha256 };

    private static JsonObject ToJson(IReadOnlyDictionary<string, double> scores)
    {
        var json = new JsonObject();
        foreach (var (key, value) in scores.OrderByDescending(p => p.Value))
        {
            json[key] = Math.Round(value, 4);
        }

        return json;
    }

    private static JsonObject FaceToJson(DetectedFace face) => new()
    {
        ["box"] = new JsonArray(Round(face.Box.X), Round(face.Box.Y), Round(face.Box.Width), Round(face.Box.Height)),
        ["landmarks"] = new JsonArray(face.Landmarks.Select(p => (JsonNode)new JsonArray(Round(p.X), Round(p.Y))).ToArray()),
        ["score"] = Math.Round(face.Score, 3),
    };

    private static DetectedFace FaceFromJson(JsonObject json)
    {
        var box = json["box"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        var landmarks = json["landmarks"]!.AsArray().Select(p => new PointF(p![0]!.GetValue<float>(), p[1]!.GetValue<float>())).ToArray();
        return new DetectedFace(new RectangleF(box[0], box[1], box[2], box[3]), landmarks, json["score"]!.GetValue<float>());
    }

    private static DetectedFace Scale(DetectedFace face, float s) => new(
        new RectangleF(face.Box.X * s, face.Box.Y * s, face.Box.Width * s, face.Box.Height * s),
        face.Landmarks.Select(p => new PointF(p.X * s, p.Y * s)).ToArray(),
        face.Score);

    private static float Round(float value) => MathF.Round(value, 1);

    /// <summary>What one run carries from step to step.</summary>
    private sealed class RunState(RunRequest request, RunFolder folder, RunManifest manifest, EncodedImage template, Image<Rgb24> pixels)
    {
        /// <summary>The template's upright RGB pixels, decoded once.</summary>
        public Image<Rgb24> Pixels { get; } = pixels;

        public RunRequest Request { get; } = request;

        public RunFolder Folder { get; } = folder;

        public RunManifest Manifest { get; } = manifest;

        public EncodedImage Template { get; } = template;

        /// <summary>Where the run's progress goes (null: nowhere).</summary>
        public IProgress<PipelineProgress>? Progress { get; set; }

        public ComposedPrompt? Prompt { get; set; }

        public EncodedImage? Mask { get; set; }

        public DetectedFace? Face { get; set; }

        public EncodedImage? Current { get; set; }

        public long? Seed { get; set; }

        public string? Infotext { get; set; }
    }
}
