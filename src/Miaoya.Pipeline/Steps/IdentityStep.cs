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
        var crops = new List<EncodedImage>();
        var photos = new List<IdentityPhoto>();
        var read = await FacePhotos.ReadAsync(run, Name, cancellationToken);
        for (var i = 0; i < read.Count; i++)
        {
            var (name, encoded) = read[i];
            using var pixels = await FaceImages.LoadAsync(encoded, cancellationToken);
            var detected = FacePhotos.SingleFace(pixels, run.Services.Detector, name, cancellationToken);
            using var crop = IdentityCrop.Make(pixels, detected, settings.CropPadding, settings.CropSize);
            var png = EncodedImage.FromPng(crop);
            crops.Add(png);
            record.Outputs.Add(await run.Folder.WriteAsync($"identity-{i + 1}.png", png, cancellationToken));
            photos.Add(new IdentityPhoto(Path.GetFileName(name), FaceRecord.From(detected), Math.Round(IdentityCrop.Roll(detected) * 180 / MathF.PI, 1)));
        }

        var used = IdentityUnits.AcceptsSeveralImages(settings.Method) ? crops.Count : Math.Min(1, crops.Count);
        run.IdentityImages = crops.Take(used).ToArray();
        record.SetResult(new IdentityResult(
            Method: RecipeYaml.Word(settings.Method),
            Module: settings.Module,
            Model: settings.Model,
            Steps: settings.Steps,
            Photos: photos,
            PhotosSent: used,
            Note: used < crops.Count ? $"{RecipeYaml.Word(settings.Method)} takes one photo per unit; the first was used, the others only for scoring." : null));
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        var used = record.ResultAs<IdentityResult>()?.PhotosSent ?? outputs.Count;
        run.IdentityImages = outputs.Take(used).ToArray();
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
    [property: JsonPropertyName("note")] string? Note);
