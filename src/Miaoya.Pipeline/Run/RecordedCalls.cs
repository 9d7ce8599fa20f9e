using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.Pipeline;

/// <summary>
/// One call a step made to the box as its record holds it: the request (images as run-file references), what the box
/// answered when that was recorded, and the face it was for (null for a one-person step).
/// </summary>
/// <param name="FaceIndex">The person's face index of a several-person step's call; null for a one-call step.</param>
/// <param name="Request">The exact request, images replaced by <c>{file, sha256}</c> references.</param>
/// <param name="Response">The box's answer (seed, model, …) where the step recorded one for this call.</param>
internal sealed record RecordedCall(int? FaceIndex, JsonObject Request, JsonObject? Response)
{
    /// <summary>How the call's files begin: <c>STEP</c>, or <c>STEP-face-N</c> for one face's call (<see cref="PersonRun.Tag"/>).</summary>
    public string FilePrefix(string step) => FaceIndex is { } face ? string.Create(CultureInfo.InvariantCulture, $"{step}-face-{face}") : step;

    /// <summary>"inpaint", or "inpaint face 1".</summary>
    public string Label(string step) => FaceIndex is { } face ? string.Create(CultureInfo.InvariantCulture, $"{step} face {face}") : step;

    /// <summary>Whether it was an img2img call (inpaint, img2img, detail) rather than an extras one (restore, upscale).</summary>
    public bool IsGeneration => Request.ContainsKey("init_images");

    /// <summary>
    /// The image this call brought back, among <paramref name="step"/>'s outputs: <c>PREFIX-rendered.*</c> (detail: the
    /// step's own image is the render pasted back into the whole picture), <c>PREFIX-face.*</c> (restore: the restored
    /// region), else <c>PREFIX.*</c> (inpaint, img2img).
    /// </summary>
    public FileRecord? Image(StepRecord step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var prefix = FilePrefix(step.Name);
        return step.Outputs.FirstOrDefault(o => o.File.StartsWith(prefix + "-rendered.", StringComparison.Ordinal))
            ?? step.Outputs.FirstOrDefault(o => o.File.StartsWith(prefix + "-face.", StringComparison.Ordinal))
            ?? step.Outputs.FirstOrDefault(o => o.File.StartsWith(prefix + ".", StringComparison.Ordinal));
    }

    /// <summary>
    /// The calls <paramref name="step"/> recorded: its one request, or — a several-person inpaint, detail or restore —
    /// each face's from <c>request.people</c>, in the order they were sent, each with its face's answer from
    /// <c>response.people</c> where there is one. Empty when the step sent nothing.
    /// </summary>
    public static IReadOnlyList<RecordedCall> Of(StepRecord step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Request is not JsonObject request)
        {
            return [];
        }

        if (request["people"] is not JsonArray people)
        {
            return [new RecordedCall(null, request, step.Response)];
        }

        var answers = (step.Response?["people"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Where(a => a["face_index"] is JsonValue)
            .GroupBy(a => a["face_index"]!.GetValue<int>())
            .ToDictionary(g => g.Key, g => g.First()["response"] as JsonObject);
        return people
            .OfType<JsonObject>()
            .Where(p => p["face_index"] is JsonValue && p["request"] is JsonObject)
            .Select(p =>
            {
                var face = p["face_index"]!.GetValue<int>();
                return new RecordedCall(face, (JsonObject)p["request"]!, answers.GetValueOrDefault(face));
            })
            .ToList();
    }
}
