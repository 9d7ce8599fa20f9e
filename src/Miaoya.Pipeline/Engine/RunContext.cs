using Microsoft.Extensions.Logging;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>What the steps of every run use: the boxes, the face detector, the face swappers, time, the log.</summary>
internal sealed class PipelineServices(IWebUiBoxes boxes, IFaceDetector detector, FaceSwapperCache swappers, TimeProvider time, ILogger logger)
{
    public IWebUiBoxes Boxes { get; } = boxes;

    public IFaceDetector Detector { get; } = detector;

    public FaceSwapperCache Swappers { get; } = swappers;

    /// <summary>The candidates' face scorers, one per model file and device, shared by every run of this pipeline.</summary>
    public FaceScorerCache Scorers { get; } = new();

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    /// <summary>How often progress is read from the box during a generation call.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// One run as its steps see it: the request, the run folder and manifest, the template (as sent and decoded), and the
/// state one step hands the next — typed, where it used to be keys of a shared JSON object. An ID-photo run has no
/// recipe and no request (its plan is the <c>finish</c> step alone, which reads neither).
/// </summary>
internal sealed class RunContext(RunRequest? request, RunPlan plan, RunFolder folder, RunManifest manifest, EncodedImage template, TemplatePixels pixels, PipelineServices services)
{
    /// <summary>A portrait recipe's run.</summary>
    public RunContext(RunRequest request, RunFolder folder, RunManifest manifest, EncodedImage template, TemplatePixels pixels, PipelineServices services)
        : this(request, RunPlan.Of(request.Recipe), folder, manifest, template, pixels, services)
    {
    }

    /// <summary>The portrait run's request; only the steps of a recipe read it (an ID-photo run has none).</summary>
    public RunRequest Request => request ?? throw new InvalidOperationException($"run {Folder.Path} is an ID-photo run: it has no recipe, and only the finish step runs in it.");

    /// <summary>Whether the run has a recipe (a portrait run) rather than being an ID-photo run.</summary>
    public bool HasRecipe => request is not null;

    public Recipe Recipe => Request.Recipe;

    /// <summary>What the run runs: its name, steps, final image step and finish settings.</summary>
    public RunPlan Plan { get; } = plan;

    /// <summary>The run in messages: <c>recipe NAME</c>, or <c>idphoto</c>.</summary>
    public string Label => HasRecipe ? $"recipe {Plan.Name}" : Plan.Name;

    public RunFolder Folder { get; } = folder;

    public RunManifest Manifest { get; } = manifest;

    /// <summary>The template as sent to the box.</summary>
    public EncodedImage Template { get; } = template;

    /// <summary>The template's upright size (its pixels' size), known without decoding it.</summary>
    public (int Width, int Height) TemplateSize => pixels.Size;

    /// <summary>The template's upright RGB pixels, decoded once, on first use.</summary>
    public Task<Image<Rgb24>> PixelsAsync(CancellationToken cancellationToken) => pixels.GetAsync(cancellationToken);

    public PipelineServices Services { get; } = services;

    /// <summary>Where the run's progress goes (null: nowhere).</summary>
    public IProgress<PipelineProgress>? Progress { get; init; }

    /// <summary>The box a job step was placed on: its generation calls go there only (<see cref="BoxNeeds.Box"/>); null: any box.</summary>
    public string? PlacedBox { get; init; }

    /// <summary>
    /// The people of a several-person run, in the order given (empty: one person). With people, <see cref="Prompt"/> carries
    /// no LoRA, and <see cref="Mask"/>, <see cref="Face"/> and <see cref="IdentityImages"/> stay null: each person's are here.
    /// </summary>
    public IReadOnlyList<PersonRun> People { get; } = PeopleOf(request);

    /// <summary>Whether this run puts several people (or one chosen face, counted left to right) into the template.</summary>
    public bool HasPeople => People.Count > 0;

    /// <summary>From <c>interrogate</c>.</summary>
    public ComposedPrompt? Prompt { get; set; }

    /// <summary>From <c>mask</c>.</summary>
    public EncodedImage? Mask { get; set; }

    /// <summary>From <c>identity</c>: the aligned square crop of each face photo, the identity unit's image(s).</summary>
    public IReadOnlyList<EncodedImage>? IdentityImages { get; set; }

    /// <summary>From the candidate step (with a <c>candidates</c> section): every candidate image and its seed, in render order.</summary>
    public IReadOnlyList<(EncodedImage Image, long Seed)>? Candidates { get; set; }

    /// <summary>The face being replaced, in template pixels (<c>mask</c> or <c>faceswap</c>).</summary>
    public DetectedFace? Face { get; set; }

    /// <summary>The latest image (<c>faceswap</c>, <c>inpaint</c>, <c>img2img</c>).</summary>
    public EncodedImage? Current { get; set; }

    /// <summary>The seed the box used for the latest generation.</summary>
    public long? Seed { get; set; }

    /// <summary>The box's infotext of the latest generation (written into final.png).</summary>
    public string? Infotext { get; set; }

    /// <summary>
    /// The people of <paramref name="request"/>; none without one (main's ID-photo runs build a context with no request,
    /// so this must not read through a null one).
    /// </summary>
    private static PersonRun[] PeopleOf(RunRequest? request) => request is null ? [] : [.. request.People.Select(p => new PersonRun(p))];

    /// <summary>The face-vs-neck ΔE of the manifest's step <paramref name="step"/>'s result, if it measured one.</summary>
    public double? DeltaEOf(string step) => Manifest.Step(step) switch
    {
        { Name: StepName.FaceSwap } s => s.ResultAs<FaceSwapStepResult>()?.DeltaE,
        { } s => s.ResultAs<GenerationResult>()?.DeltaE,
        null => null,
    };
}
