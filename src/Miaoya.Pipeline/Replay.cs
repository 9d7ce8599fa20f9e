using System.Text.Json.Nodes;
using Miaoya.WebUi;

namespace Miaoya.Pipeline;

/// <summary>One re-sent request and whether the box answered with the same image as the recorded run.</summary>
/// <param name="Step">The step that sent it.</param>
/// <param name="Output">The replayed image.</param>
/// <param name="SameAsRecorded">Whether it has the bytes of the image the call brought back in the run.</param>
/// <param name="FaceIndex">The person's face index, for one face's call of a several-person step; null for a one-call step.</param>
public sealed record ReplayedStep(string Step, string Output, bool SameAsRecorded, int? FaceIndex = null)
{
    /// <summary>"inpaint", or "inpaint face 1".</summary>
    public string Label => FaceIndex is { } face ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Step} face {face}") : Step;
}

/// <summary>
/// <c>miaoya replay manifest.json</c>: sends a run's recorded generation requests again, images taken from the run folder.
/// A several-person inpaint or detail recorded one request per face (<c>request.people</c>): each is sent again, in order.
/// </summary>
public static class Replay
{
    public static async Task<IReadOnlyList<ReplayedStep>> RunAsync(WebUiClient client, string manifestPath, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var source = new RunFolder(Path.GetDirectoryName(Path.GetFullPath(manifestPath))!);
        var manifest = await source.LoadManifestAsync(cancellationToken);
        var target = new RunFolder(outputDirectory);
        var results = new List<ReplayedStep>();
        foreach (var step in manifest.Steps)
        {
            foreach (var call in RecordedCall.Of(step).Where(c => c.IsGeneration))
            {
                var json = call.Request.DeepClone();
                var label = call.Label(step.Name);
                await InflateAsync(source, json, label, cancellationToken);

                // "-1" asked the box for a random seed; the replay asks for the one it chose.
                if (json["seed"]?.GetValue<long>() == -1 && call.Response?["seed"] is JsonValue chosen)
                {
                    json["seed"] = chosen.GetValue<long>();
                }

                var request = WebUiPayload.Img2ImgFromJson(json);
                var response = await client.Img2ImgAsync(request, cancellationToken);
                var image = response.GeneratedImages[0];
                var prefix = call.FilePrefix(step.Name);
                var output = await target.WriteAsync($"{prefix}{image.FileExtension}", image, cancellationToken);
                results.Add(new ReplayedStep(step.Name, target.File(output.File), call.Image(step)?.Sha256 == output.Sha256, call.FaceIndex));
            }
        }

        if (results.Count == 0)
        {
            throw new PipelineException($"{manifestPath}: no generation request was recorded (did the run reach its inpaint step?).");
        }

        return results;
    }

    /// <summary>Puts each referenced file's bytes (base64) back where the manifest names it.</summary>
    private static async Task InflateAsync(RunFolder folder, JsonNode node, string step, CancellationToken cancellationToken)
    {
        var children = node switch
        {
            JsonObject obj => obj.Select(p => (Key: (object)p.Key, p.Value)).ToList(),
            JsonArray array => array.Select((value, index) => (Key: (object)index, Value: value)).ToList(),
            _ => [],
        };
        foreach (var (key, value) in children)
        {
            if (value is JsonObject reference && reference.ContainsKey("sha256") && reference.Count <= 3)
            {
                var record = new FileRecord(reference["file"]?.GetValue<string>() ?? "", reference["sha256"]!.GetValue<string>());
                var image = await folder.ReadVerifiedAsync(record, cancellationToken)
                    ?? throw new PipelineException($"replay of {step}: {folder.File(record.File)} is missing or changed (sha256 {record.Sha256}).");
                JsonNode base64 = image.ToBase64();
                if (key is string name)
                {
                    node[name] = base64;
                }
                else
                {
                    node[(int)key] = base64;
                }
            }
            else if (value is not null)
            {
                await InflateAsync(folder, value, step, cancellationToken);
            }
        }
    }
}
