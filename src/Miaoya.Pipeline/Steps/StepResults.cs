using System.Text.Json.Serialization;
using Miaoya.Faces;
using SixLabors.ImageSharp;

namespace Miaoya.Pipeline;

/// <summary>A face as the manifest records it: box (x, y, width, height), the detector's landmarks, its score; pixels, rounded to 0.1.</summary>
public sealed record FaceRecord(
    [property: JsonPropertyName("box")] IReadOnlyList<float> Box,
    [property: JsonPropertyName("landmarks")] IReadOnlyList<IReadOnlyList<float>> Landmarks,
    [property: JsonPropertyName("score")] float Score)
{
    public static FaceRecord From(DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(face);
        return new FaceRecord(
            [Round(face.Box.X), Round(face.Box.Y), Round(face.Box.Width), Round(face.Box.Height)],
            face.Landmarks.Select(p => (IReadOnlyList<float>)[Round(p.X), Round(p.Y)]).ToArray(),
            MathF.Round(face.Score, 3));
    }

    public DetectedFace ToDetectedFace() =>
        new(new RectangleF(Box[0], Box[1], Box[2], Box[3]), Landmarks.Select(p => new PointF(p[0], p[1])).ToArray(), Score);

    private static float Round(float value) => MathF.Round(value, 1);
}

/// <summary>
/// <c>interrogate</c>: the composed prompt and which tagger tags were kept and dropped; with several people the prompt
/// carries no LoRA and <see cref="People"/> holds each person's prompt with their LoRA alone.
/// </summary>
public sealed record InterrogateResult(
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("negative_prompt")] string NegativePrompt,
    [property: JsonPropertyName("kept_tags")] IReadOnlyList<string> KeptTags,
    [property: JsonPropertyName("dropped_tags")] IReadOnlyList<string> DroppedTags,
    [property: JsonPropertyName("people")] IReadOnlyList<PersonPrompt>? People = null);

/// <summary>One person's prompt of a several-person run: the face (from 0, left to right) and the prompt with their LoRA.</summary>
public sealed record PersonPrompt(
    [property: JsonPropertyName("face_index")] int FaceIndex,
    [property: JsonPropertyName("prompt")] string Prompt);

/// <summary>
/// One person's face of a several-person run as a step found or worked on it: the face index (from 0, left to right),
/// the face on the template, the step's file for it, and the face-vs-neck ΔE where the step measured one.
/// </summary>
public sealed record PersonFace(
    [property: JsonPropertyName("face_index")] int FaceIndex,
    [property: JsonPropertyName("face")] FaceRecord? Face,
    [property: JsonPropertyName("file")] string? File = null,
    [property: JsonPropertyName("delta_e")] double? DeltaE = null);

/// <summary><c>mask</c>: where the face came from, how many were found, the one masked, and the template's face-vs-neck ΔE.</summary>
public sealed record MaskResult(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("faces_found")] int FacesFound,
    [property: JsonPropertyName("face")] FaceRecord? Face,
    [property: JsonPropertyName("delta_e_template")] double? DeltaETemplate,
    [property: JsonPropertyName("people")] IReadOnlyList<PersonFace>? People = null);

/// <summary>
/// <c>inpaint</c> and <c>img2img</c>: the face-vs-neck colour difference (ΔE 2000) of the result (inpaint), before and
/// after (img2img), and why the pass was skipped when it was.
/// </summary>
public sealed record GenerationResult(
    [property: JsonPropertyName("delta_e")] double? DeltaE = null,
    [property: JsonPropertyName("delta_e_before")] double? DeltaEBefore = null,
    [property: JsonPropertyName("delta_e_after")] double? DeltaEAfter = null,
    [property: JsonPropertyName("skipped_because")] string? SkippedBecause = null,
    [property: JsonPropertyName("people")] IReadOnlyList<PersonFace>? People = null,
    [property: JsonPropertyName("note")] string? Note = null);

/// <summary>Colour correction of a V3 swap: the mean Lab colour of the swapped face and of the template's.</summary>
public sealed record ColourCorrectionRecord(
    [property: JsonPropertyName("swapped_mean_lab")] IReadOnlyList<double> SwappedMeanLab,
    [property: JsonPropertyName("template_mean_lab")] IReadOnlyList<double> TemplateMeanLab);

/// <summary><c>faceswap</c> (V3): how the local swap ran and what it found.</summary>
public sealed record FaceSwapStepResult(
    [property: JsonPropertyName("detector")] string Detector,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("models")] string Models,
    [property: JsonPropertyName("notes")] IReadOnlyList<string> Notes,
    [property: JsonPropertyName("source_faces")] int SourceFaces,
    [property: JsonPropertyName("faces_found")] int FacesFound,
    [property: JsonPropertyName("swapped")] IReadOnlyList<int> Swapped,
    [property: JsonPropertyName("face")] FaceRecord Face,
    [property: JsonPropertyName("timings_ms")] IReadOnlyDictionary<string, double> TimingsMs,
    [property: JsonPropertyName("colour_correction")] ColourCorrectionRecord? ColourCorrection,
    [property: JsonPropertyName("delta_e")] double DeltaE,
    [property: JsonPropertyName("people")] IReadOnlyList<PersonFace>? People = null);

/// <summary><c>finish</c>: the ID photo made of the result and its compliance verdict.</summary>
public sealed record FinishStepResult(
    [property: JsonPropertyName("spec")] string Spec,
    [property: JsonPropertyName("dpi")] int Dpi,
    [property: JsonPropertyName("background")] string Background,
    [property: JsonPropertyName("kb")] double Kb,
    [property: JsonPropertyName("size_note")] string? SizeNote,
    [property: JsonPropertyName("passed")] bool Passed,
    [property: JsonPropertyName("failed_rules")] IReadOnlyList<string> FailedRules,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string> Warnings,
    [property: JsonPropertyName("generated")] bool Generated,
    [property: JsonPropertyName("note")] string Note);

/// <summary>
/// <c>detail</c>: how much of the image the face covers (the skip rule's measure), the region cut out (x, y, side, in the
/// image's pixels) and the size it was rendered at, or why the pass was skipped.
/// </summary>
public sealed record DetailResult(
    [property: JsonPropertyName("face_area_fraction")] double? FaceAreaFraction,
    [property: JsonPropertyName("skip_if_face_above")] double SkipIfFaceAbove,
    [property: JsonPropertyName("region")] IReadOnlyList<int>? Region = null,
    [property: JsonPropertyName("rendered_size")] int? RenderedSize = null,
    [property: JsonPropertyName("skipped_because")] string? SkippedBecause = null,
    [property: JsonPropertyName("face_index")] int? FaceIndex = null,
    [property: JsonPropertyName("people")] IReadOnlyList<DetailResult>? People = null);

/// <summary>
/// <c>restore</c>: the face's sharpness (variance of the Laplacian) against the template face's, before and after, the
/// restorer and how it was blended, or why the pass was skipped.
/// </summary>
public sealed record RestoreResult(
    [property: JsonPropertyName("restorer")] string Restorer,
    [property: JsonPropertyName("sharpness_template")] double? SharpnessTemplate,
    [property: JsonPropertyName("sharpness_before")] double? SharpnessBefore,
    [property: JsonPropertyName("sharpness_ratio")] double? SharpnessRatio,
    [property: JsonPropertyName("skip_if_sharpness_above")] double? SkipIfSharpnessAbove,
    [property: JsonPropertyName("sharpness_after")] double? SharpnessAfter = null,
    [property: JsonPropertyName("strength")] double? Strength = null,
    [property: JsonPropertyName("region")] IReadOnlyList<int>? Region = null,
    [property: JsonPropertyName("skipped_because")] string? SkippedBecause = null,
    [property: JsonPropertyName("face_index")] int? FaceIndex = null,
    [property: JsonPropertyName("people")] IReadOnlyList<RestoreResult>? People = null);

/// <summary><c>upscale</c>: the upscaler, the size before and after, or why the pass was skipped.</summary>
public sealed record UpscaleResult(
    [property: JsonPropertyName("upscaler")] string Upscaler,
    [property: JsonPropertyName("size_before")] IReadOnlyList<int> SizeBefore,
    [property: JsonPropertyName("long_side")] int LongSide,
    [property: JsonPropertyName("size_after")] IReadOnlyList<int>? SizeAfter = null,
    [property: JsonPropertyName("scale")] double? Scale = null,
    [property: JsonPropertyName("skipped_because")] string? SkippedBecause = null);
