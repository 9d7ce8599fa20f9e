using System.Text.Json.Serialization;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>identity</c> (recipes with an <c>identity</c> section): each of the person's face photos as the square, aligned,
/// padded crop the identity unit gets (<see cref="IdentityCrop"/>), on this machine. A photo with no face or several is
/// refused naming it.
/// </summary>
internal sealed class IdentityStep : IPortraitStep
{
    public string Name => StepName.Identity;

    public StepBoxUse BoxUse => StepBoxUse.None;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Identity!;
        if (run.HasPeople)
        {
            // One identity unit per person, made of their photos only: each person's passes get their own crops.
            var people = new List<IdentityResult>();
            foreach (var person in run.People)
            {
                var read = await FacePhotos.ReadPersonAsync(run, person.FaceIndex, Name, cancellationToken);
                var (crops, result) = await CropAsync(run, record, settings, read, $"identity-{person.Tag}", cancellationToken);
                person.IdentityImages = crops.Take(result.PhotosSent).ToArray();
                people.Add(result with { FaceIndex = person.FaceIndex });
            }

            record.SetResult(new IdentityResult(
                RecipeYaml.Word(settings.Method), settings.Module, settings.Model, settings.Steps, [], 0,
                "several people: each person's identity unit carries only their own photos, and goes only to the passes on their face.",
                People: people));
            return;
        }

        var (all, single) = await CropAsync(run, record, settings, await FacePhotos.ReadAsync(run, Name, cancellationToken), "identity", cancellationToken);
        run.IdentityImages = all.Take(single.PhotosSent).ToArray();
        record.SetResult(single);
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        var result = record.ResultAs<IdentityResult>();
        if (run.HasPeople)
        {
            // The outputs are each person's crops in turn, in the order of the result's people.
            foreach (var person in run.People)
            {
                var mine = result?.People?.FirstOrDefault(p => p.FaceIndex == person.FaceIndex)
                    ?? throw new PipelineException($"step {Name}: the manifest holds no identity crops for face {person.FaceIndex}.") { Step = Name };
                var start = result!.People!.TakeWhile(p => p.FaceIndex != person.FaceIndex).Sum(p => p.Photos.Count);
                person.IdentityImages = outputs.Skip(start).Take(mine.PhotosSent).ToArray();
            }

            return;
        }

        var used = result?.PhotosSent ?? outputs.Count;
        run.IdentityImages = outputs.Take(used).ToArray();
    }

    /// <summary>Each photo's aligned crop, written as <paramref name="prefix"/>-N.png, and what the unit will take of them.</summary>
    private static async Task<(IReadOnlyList<EncodedImage> Crops, IdentityResult Result)> CropAsync(
        RunContext run, StepRecord record, IdentitySettings settings, IReadOnlyList<(string Name, EncodedImage Photo)> read, string prefix, CancellationToken cancellationToken)
    {
        var crops = new List<EncodedImage>();
        var photos = new List<IdentityPhoto>();
        for (var i = 0; i < read.Count; i++)
        {
            var (name, encoded) = read[i];
            using var pixels = await FaceImages.LoadAsync(encoded, cancellationToken);
            var detected = FacePhotos.SingleFace(pixels, run.Services.Detector, name, cancellationToken);
            using var crop = IdentityCrop.Make(pixels, detected, settings.CropPadding, settings.CropSize);
            var png = EncodedImage.FromPng(crop);
            crops.Add(png);
            record.Outputs.Add(await run.Folder.WriteAsync($"{prefix}-{i + 1}.png", png, cancellationToken));
            photos.Add(new IdentityPhoto(Path.GetFileName(name), FaceRecord.From(detected), Math.Round(IdentityCrop.Roll(detected) * 180 / MathF.PI, 1)));
        }

        var used = IdentityUnits.AcceptsSeveralImages(settings.Method) ? crops.Count : Math.Min(1, crops.Count);
        return (crops, new IdentityResult(
            Method: RecipeYaml.Word(settings.Method),
            Module: settings.Module,
            Model: settings.Model,
            Steps: settings.Steps,
            Photos: photos,
            PhotosSent: used,
            Note: used < crops.Count ? $"{RecipeYaml.Word(settings.Method)} takes one photo per unit; the first was used, the others only for scoring." : null));
    }
}

/// <summary>One face photo of the <c>identity</c> step: its name, the face found, the eye line's tilt that the crop levelled.</summary>
public sealed record IdentityPhoto(
    [property: JsonPropertyName("photo")] string Photo,
    [property: JsonPropertyName("face")] FaceRecord Face,
    [property: JsonPropertyName("roll_degrees")] double RollDegrees);

/// <summary><c>identity</c>: the method and unit, each photo's face, how many crops the unit got.</summary>
public sealed record IdentityResult(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("steps")] IReadOnlyList<string> Steps,
    [property: JsonPropertyName("photos")] IReadOnlyList<IdentityPhoto> Photos,
    [property: JsonPropertyName("photos_sent")] int PhotosSent,
    [property: JsonPropertyName("note")] string? Note,
    [property: JsonPropertyName("face_index")] int? FaceIndex = null,
    [property: JsonPropertyName("people")] IReadOnlyList<IdentityResult>? People = null);
