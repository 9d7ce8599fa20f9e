using System.Globalization;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>restore</c>: CodeFormer or GFPGAN through the box's extras API on the face's region only (the restorer finds the face
/// in the region it is sent, and a region is a fraction of the bytes of the whole image), blended back through a soft face
/// mask with <c>restore.strength</c>. Skipped when the face is already at least <c>skip_if_sharpness_above</c> times as
/// sharp as the template's face (variance of the Laplacian at a fixed size). With several people each person's face is
/// measured, sent and blended back on its own (a region holding two faces would have the restorer work on both).
/// </summary>
internal sealed class RestoreStep : IPortraitStep
{
    public string Name => StepName.Restore;

    /// <summary>The extras call runs under A1111's queue lock like a render, but loads no checkpoint.</summary>
    public StepBoxUse BoxUse => StepBoxUse.Occupies;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Restore!;
        var restorer = RecipeRequirements.FaceRestorerName(settings.Model);
        var current = run.Current ?? run.Template;
        using var image = await FaceImages.LoadAsync(current, cancellationToken);
        RestoreResult result;
        if (run.HasPeople)
        {
            var people = await FinishingPass.PerPersonAsync(
                run,
                record,
                person => OneFaceAsync(run, record, image, person.Face!, $"{Name}-{person.Tag}", cancellationToken),
                (one, faceIndex) => one with { FaceIndex = faceIndex },
                one => one.SkippedBecause is not null);
            result = new RestoreResult(restorer, null, null, null, settings.SkipIfSharpnessAbove, Strength: settings.Strength, People: people,
                SkippedBecause: people.All(p => p.SkippedBecause is not null) ? FinishingPass.EveryFaceSkipped : null);
        }
        else if (run.Face is not { } face)
        {
            result = new RestoreResult(restorer, null, null, null, settings.SkipIfSharpnessAbove, SkippedBecause: FaceRegion.NoFace);
        }
        else
        {
            result = await OneFaceAsync(run, record, image, face, Name, cancellationToken);
        }

        await FinishingPass.EndAsync(run, record, image, "restore.png", result, result.SkippedBecause is not null, cancellationToken);
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs) => FinishingPass.RestoreCurrent(run, record, outputs);

    /// <summary>
    /// One face (<paramref name="templateFace"/>, template pixels) restored in <paramref name="image"/> in place; its files
    /// are <paramref name="prefix"/>-input.png and -face.png. Skipped (nothing sent) when it is sharp enough already.
    /// </summary>
    private async Task<RestoreResult> OneFaceAsync(RunContext run, StepRecord record, SixLabors.ImageSharp.Image<Rgb24> image, DetectedFace templateFace, string prefix, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Restore!;
        var restorer = RecipeRequirements.FaceRestorerName(settings.Model);
        var face = FaceRegion.In(run, templateFace, image.Width, image.Height);
        var template = await run.PixelsAsync(cancellationToken); // the run's, disposed with it
        var sharpTemplate = Math.Round(FaceSharpness.Measure(template, templateFace.Box), 1);
        var before = Math.Round(FaceSharpness.Measure(image, face.Box), 1);
        double? ratio = sharpTemplate > 0 ? Math.Round(before / sharpTemplate, 3) : null;
        if (settings.SkipIfSharpnessAbove is { } threshold && ratio is { } measured && measured >= threshold)
        {
            return new RestoreResult(restorer, sharpTemplate, before, ratio, threshold, SkippedBecause: string.Create(
                CultureInfo.InvariantCulture, $"the face is {measured:0.##} times as sharp as the template's face, at least skip_if_sharpness_above {threshold}"));
        }

        var region = FaceRegion.SquareAround(face.Box, settings.Padding, image.Width, image.Height);
        using var crop = image.Clone(c => c.Crop(region));
        var sent = EncodedImage.FromPng(crop);
        record.Outputs.Add(await run.Folder.WriteAsync($"{prefix}-input.png", sent, cancellationToken));
        var request = PayloadBuilder.Restore(settings, sent);
        record.Request = ManifestRequests.Of(run, request);
        var restored = await BoxCalls.RunAsync(run, record, BoxCalls.Needs(run, Name, generation: false), (box, ct) => box.Client.ExtraSingleImageAsync(request, ct), cancellationToken);
        record.Outputs.Add(await run.Folder.WriteAsync($"{prefix}-face{restored.FileExtension}", restored, cancellationToken));
        using (var patch = await FaceImages.LoadAsync(restored, cancellationToken))
        {
            if (patch.Width != region.Width || patch.Height != region.Height)
            {
                throw new PipelineException($"{record.Box} answered a {patch.Width}×{patch.Height} image for a {region.Width}×{region.Height} region with no upscaler asked; the restorer must keep the size.") { Step = Name };
            }

            using var mask = FaceMasks.Build(region.Width, region.Height, FaceRegion.InRegion(face, region, region.Width), new FaceMaskOptions
            {
                Kind = FaceMaskKind.Face,
                Grow = (float)(run.Recipe.Mask?.Grow ?? 0.15),
                FeatherFraction = 0.1f,
            });
            FaceRegion.BlendInto(image, patch, region, mask, settings.Strength);
        }

        return new RestoreResult(
            restorer, sharpTemplate, before, ratio, settings.SkipIfSharpnessAbove,
            SharpnessAfter: Math.Round(FaceSharpness.Measure(image, face.Box), 1),
            Strength: settings.Strength,
            Region: [region.X, region.Y, region.Width, region.Height]);
    }
}
