using System.Globalization;
using System.Text.Json;
using Miaoya.Faces;
using Miaoya.IdPhoto;
using Miaoya.Imaging;
using Miaoya.Limits;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Pipeline;

/// <summary>
/// An ID photo of an uploaded photo (<c>POST /v1/idphoto</c>), as a run folder of the step engine whose only step is
/// <c>finish</c>: the same step that ends a portrait recipe with a finish section, here on the photo itself and
/// document-safe (nothing generative runs). The folder holds the photo (<see cref="PhotoFileName"/>), the finish settings
/// (<see cref="SettingsFileName"/>, whose sha256 the manifest records where a portrait run records its recipe's) and the
/// manifest; <see cref="PortraitPipeline.RunStepAsync(string, string, IProgress{PipelineProgress}?, CancellationToken)"/>
/// runs it like any job step, and the finish step writes the photo, the matte, the sheet and <c>verdict.json</c>.
/// </summary>
public static class IdPhotoRun
{
    /// <summary>The job kind, and what the manifest names as the run's recipe and pipeline.</summary>
    public const string Kind = "idphoto";

    /// <summary>The finish settings in the run folder.</summary>
    public const string SettingsFileName = "idphoto.json";

    /// <summary>The uploaded photo as used (upright RGB PNG) in the run folder.</summary>
    public const string PhotoFileName = "photo.png";

    /// <summary>The one thing an ID-photo run needs of a box: rembg, when the background is replaced.</summary>
    private static readonly Requirement Rembg = new(RequirementKind.Rembg, "rembg", "background", [StepName.Finish]);

    /// <summary>Whether <paramref name="manifest"/> is an ID-photo run's.</summary>
    public static bool Is(RunManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Recipe.Pipeline == Kind;
    }

    /// <summary>
    /// The settings of an ID photo, checked as the CLI's <c>miaoya idphoto</c> checks them, before any photo is read: a
    /// built-in spec (no files: the name comes from a request), a background the spec allows, a supported DPI, a size
    /// target above 0. Bad input throws <see cref="PipelineException"/> with <see cref="PipelineException.InputField"/>.
    /// </summary>
    public static FinishSettings Settings(IdPhotoRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var spec = BuiltInSpec(request.Spec);
        var text = request.Background ?? spec.Backgrounds[0];
        BackgroundFill fill;
        try
        {
            fill = BackgroundFill.Parse(text);
        }
        catch (FormatException e)
        {
            throw Bad("background", e.Message);
        }

        if (spec.BackgroundProblem(fill) is { } forbidden)
        {
            throw Bad("background", forbidden);
        }

        var dpi = request.Dpi ?? spec.Dpi;
        if (!IdSpec.SupportedDpis.Contains(dpi))
        {
            throw Bad("dpi", string.Create(CultureInfo.InvariantCulture, $"{dpi} dpi is not supported; use {string.Join(", ", IdSpec.SupportedDpis)}."));
        }

        if (request.Kb is <= 0)
        {
            throw Bad("kb", "give a file size above 0 KB.");
        }

        return new FinishSettings(spec.Name, fill.Keep ? "keep" : text.Trim(), dpi, request.Kb, request.Sheet, request.Format);
    }

    /// <summary>The built-in spec named <paramref name="name"/> (any case); else bad input listing the known ones.</summary>
    public static IdSpec BuiltInSpec(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw Bad("spec", $"give an ID-photo spec: {string.Join(", ", IdSpecs.BuiltInNames)}.");
        }

        return IdSpecs.BuiltIn.FirstOrDefault(s => string.Equals(s.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw Bad("spec", $"unknown ID-photo spec '{UserText.Quote(name)}'; the specs are {string.Join(", ", IdSpecs.BuiltInNames)}.");
    }

    /// <summary>
    /// Writes a new ID-photo run folder (the photo, the settings, the manifest) without calling any box; its one step then
    /// runs with <see cref="PortraitPipeline.RunStepAsync(string, string, IProgress{PipelineProgress}?, CancellationToken)"/>.
    /// The settings and the photo (PNG, JPEG or WebP within the template limits; with a <paramref name="detector"/>,
    /// exactly one face) are checked first: bad input throws <see cref="PipelineException"/> naming the field, and
    /// nothing is written.
    /// </summary>
    public static async Task<RunManifest> PrepareAsync(IdPhotoRequest request, IFaceDetector? detector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = Settings(request);
        var folder = new RunFolder(request.OutputDirectory);
        if (folder.HasManifest)
        {
            throw new PipelineException($"{folder.Path} already holds a run.") { InputField = "out" };
        }

        var (photo, pixels) = await InputFiles.LoadPhotoAsync(request.PhotoPath, "photo", cancellationToken);
        using (pixels)
        {
            if (detector is not null && detector.Detect(pixels, cancellationToken) is { Count: not 1 } faces)
            {
                // IdPhotoFinisher refuses the same photo at its first line; here it is a 400 before anything is queued.
                throw Bad("photo", faces.Count == 0
                    ? "no face found: an ID photo needs one clearly visible frontal face (eyes open, not covered)."
                    : $"{faces.Count} faces found; an ID photo shows one person: crop the photo to that person first.");
            }
        }

        PrivateFiles.CreateDirectory(folder.Path);
        var photoRecord = await folder.WriteAsync(PhotoFileName, photo, cancellationToken);
        var settingsRecord = await folder.WriteAsync(SettingsFileName, JsonSerializer.SerializeToUtf8Bytes(settings, RunManifest.Json), cancellationToken);
        var manifest = new RunManifest
        {
            Recipe = new ManifestRecipe(Kind, SettingsFileName, settingsRecord.Sha256, [], Kind),
            Inputs = new ManifestInputs(photoRecord, Path.GetFullPath(request.PhotoPath), null, [], -1, null, null),
        };
        await folder.SaveManifestAsync(manifest, cancellationToken);
        return manifest;
    }

    /// <summary>The plan of an ID-photo run folder, from its settings file (which must be the one the manifest recorded).</summary>
    internal static async Task<RunPlan> LoadPlanAsync(RunFolder folder, RunManifest manifest, CancellationToken cancellationToken)
    {
        var path = folder.File(SettingsFileName);
        var bytes = File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken) : null;
        if (bytes is null || RunFolder.Sha256(bytes) != manifest.Recipe.Sha256)
        {
            throw new PipelineException($"{path} is missing or changed since this ID photo was queued; submit the photo again.");
        }

        var settings = JsonSerializer.Deserialize<FinishSettings>(bytes, RunManifest.Json)
            ?? throw new PipelineException($"{path} holds no settings; submit the photo again.");
        return RunPlan.IdPhoto(settings);
    }

    /// <summary>What <paramref name="box"/> lacks for an ID-photo run's call (rembg): the same check a recipe's finish gets.</summary>
    internal static IReadOnlyList<PreflightProblem> Check(WebUiCapabilities box) =>
        Preflight.Problem(Rembg, box) is { } problem ? [new PreflightProblem(Rembg, problem)] : [];

    private static PipelineException Bad(string field, string message) => new(message) { InputField = field };
}

/// <summary>An ID photo to make of an uploaded photo (see <see cref="IdPhotoRun"/>).</summary>
public sealed record IdPhotoRequest
{
    /// <summary>The photo on this machine (PNG, JPEG or WebP; one person, frontal); it is copied into the run folder.</summary>
    public required string PhotoPath { get; init; }

    /// <summary>The run folder to create.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>A built-in spec name (<c>recipes/id-specs/</c>), e.g. <c>cn-1inch</c>.</summary>
    public required string Spec { get; init; }

    /// <summary><c>keep</c>, a colour name, <c>#RRGGBB</c> or <c>gradient:TOP:BOTTOM</c>, among those the spec allows; null: the spec's first colour.</summary>
    public string? Background { get; init; }

    /// <summary>300, 254 or 350; null: the spec's.</summary>
    public int? Dpi { get; init; }

    /// <summary>Largest file size in KB; null: the spec's limit, if any.</summary>
    public int? Kb { get; init; }

    public FinishSheet Sheet { get; init; } = FinishSheet.None;

    /// <summary>null: the spec's first format.</summary>
    public FinishFormat? Format { get; init; }
}
