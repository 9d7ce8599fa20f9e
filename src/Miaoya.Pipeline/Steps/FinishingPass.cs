using System.Text.Json.Nodes;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>What the face passes (detail, restore) share: one pass per person's face, and how a pass ends.</summary>
internal static class FinishingPass
{
    /// <summary>Why a several-person pass is skipped: every face's own rule said so.</summary>
    public const string EveryFaceSkipped = "every person's face is skipped (see people)";

    /// <summary>
    /// <paramref name="one"/> for each person of the run, in order, on the same image: each result tagged with its face
    /// index, and the step's request made the list of the requests of the faces that ran (null when none did); where a
    /// face's call recorded an answer (detail's seed and model), the step's response is the last one with every face's
    /// under <c>people</c>, as a several-person inpaint records them, so <c>replay</c> and the report find each face's.
    /// </summary>
    public static async Task<IReadOnlyList<T>> PerPersonAsync<T>(
        RunContext run, StepRecord record, Func<PersonRun, Task<T>> one, Func<T, int, T> tagged, Func<T, bool> skipped)
    {
        var results = new List<T>();
        var requests = new JsonArray();
        var responses = new JsonArray();
        JsonObject? last = null;
        foreach (var person in run.People)
        {
            record.Response = null;
            var result = await one(person);
            results.Add(tagged(result, person.FaceIndex));
            if (!skipped(result))
            {
                requests.Add(new JsonObject { ["face_index"] = person.FaceIndex, ["request"] = record.Request!.DeepClone() });
                if (record.Response is JsonObject response)
                {
                    responses.Add(new JsonObject { ["face_index"] = person.FaceIndex, ["response"] = response.DeepClone() });
                    last = response;
                }
            }
        }

        record.Request = requests.Count > 0 ? new JsonObject { ["people"] = requests } : null;
        if (last is not null)
        {
            var response = (JsonObject)last.DeepClone();
            response["people"] = responses;
            record.Response = response;
        }

        return results;
    }

    /// <summary>
    /// The pass's end: skipped with its result when <paramref name="skipped"/>; otherwise <paramref name="image"/> written
    /// as the step's first output <paramref name="fileName"/> and made the image the next step starts from.
    /// </summary>
    public static async Task EndAsync<T>(RunContext run, StepRecord record, Image<Rgb24> image, string fileName, T result, bool skipped, CancellationToken cancellationToken)
        where T : class
    {
        if (skipped)
        {
            record.Skip();
            record.SetResult(result);
            return;
        }

        var encoded = EncodedImage.FromPng(image);
        record.Outputs.Insert(0, await run.Folder.WriteAsync(fileName, encoded, cancellationToken));
        run.Current = encoded;
        record.SetResult(result);
    }

    /// <summary>
    /// A finishing pass's <see cref="IPortraitStep.Restore"/>: when it ran (not skipped), its first output is the image the
    /// next step starts from.
    /// </summary>
    public static void RestoreCurrent(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        if (record.Status == StepStatus.Succeeded && outputs.Count > 0)
        {
            run.Current = outputs[0];
        }
    }
}
