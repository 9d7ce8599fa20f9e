using Miaoya.Recipes;

namespace Miaoya.Pipeline;

/// <summary>One run of a recipe on one template for one person.</summary>
public sealed record RunRequest
{
    /// <summary>The most face photos a run takes (<see cref="FacePaths"/>).</summary>
    public const int MaxFacePhotos = 8;

    public required Recipe Recipe { get; init; }

    /// <summary>The <c>--set</c> overrides the recipe was loaded with (recorded for resume and replay).</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    public required string TemplatePath { get; init; }

    /// <summary>The person's face LoRA; null for a recipe whose identity section takes the person from face photos alone.</summary>
    public LoraChoice? Lora { get; init; }

    public IReadOnlyList<string> TriggerWords { get; init; } = [];

    /// <summary>-1 lets the box choose; the seed it chose is recorded.</summary>
    public long Seed { get; init; } = -1;

    public required string OutputDirectory { get; init; }

    /// <summary>Which face when there are several (0 = largest); null = the largest.</summary>
    public int? FaceIndex { get; init; }

    /// <summary>A mask file that replaces the recipe's mask source.</summary>
    public string? MaskFile { get; init; }

    /// <summary>
    /// The person's face photos (<c>--face</c>, one or several): V3 swaps the first into the template, an identity unit
    /// gets each as an aligned crop, and candidates are scored against them all.
    /// </summary>
    public IReadOnlyList<string> FacePaths { get; init; } = [];

    /// <summary>The first of <see cref="FacePaths"/> (V3's face photo); setting it sets <see cref="FacePaths"/> to that one photo.</summary>
    public string? FacePath
    {
        get => FacePaths.Count > 0 ? FacePaths[0] : null;
        init => FacePaths = value is null ? [] : [value];
    }

    /// <summary>
    /// Several people in one template: each person's face (counted from 0 left to right by the face box's left edge, as
    /// ReActor counts) with their LoRA and/or face photos. Empty: one person, from <see cref="Lora"/>, <see cref="FacePaths"/>
    /// and <see cref="FaceIndex"/> (which cannot be given with people).
    /// </summary>
    public IReadOnlyList<PersonRequest> People { get; init; } = [];

    /// <summary>V3: the folder with insightface's det_10g.onnx, w600k_r50.onnx and inswapper_128.onnx.</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>V3: cpu, cuda or cuda:N for the face models.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>V3: the models are the repository's tiny stand-ins (demo and tests); recorded so reports say so.</summary>
    public bool StandInModels { get; init; }
}

/// <summary>
/// One person of a several-person run: the face they take (counted from 0 left to right), their face LoRA, their face
/// photos (V3 swaps the first in; an identity unit gets each). At least one of the two is needed.
/// </summary>
public sealed record PersonRequest(int FaceIndex, LoraChoice? Lora, IReadOnlyList<string> FacePaths)
{
    /// <summary>Their LoRA's trigger words, in their prompt only (a LoRA trained by <c>lora train</c> has one).</summary>
    public IReadOnlyList<string> TriggerWords { get; init; } = [];

    /// <summary>The file of this person's face photo number <paramref name="index"/> (0-based) in a run folder.</summary>
    public static string FaceFile(int faceIndex, int index) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"person-{faceIndex}-face-{index + 1}.png");
}

/// <summary>Where a run got to; <see cref="Box"/> names the box a remote call was placed on (reported when the call starts).</summary>
public sealed record PipelineProgress(string Step, double Fraction, TimeSpan? Eta, string? Message = null, string? Box = null);

/// <summary>A finished run.</summary>
public sealed record RunResult(string Folder, RunManifest Manifest, string FinalImage);

/// <summary>One step run by <see cref="PortraitPipeline.RunStepAsync(string, string, IProgress{PipelineProgress}?, CancellationToken)"/>: its record, and <c>final.png</c> when the step finished the recipe.</summary>
public sealed record StepResult(StepRecord Record, FileRecord? Final);
