using System.Globalization;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi.Dto;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>restore</c>: CodeFormer or GFPGAN through the box's extras API on the face's region only (the restorer finds the face
/// in the region it is sent, and a region is a fraction of the bytes of the whole image), blended back through a soft face
/// mask with <c>restore.strength</c>. Skipped when the face is already at least <c>skip_if_sharpness_above</c> times as
/// sharp as the template's face (variance of the Laplacian at a fixed size).
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
        if (FaceRegion.In(run, image.Width, image.Height) is not { } face)
        {
            record.Skip();
            record.SetResult(new RestoreResult(restorer, null, null, null, settings.SkipIfSharpnessAbove, SkippedBecause: FaceRegion.NoFace));
            return;
        }

        var template = await run.PixelsAsync(cancellationToken); // the run's, disposed with it
        var sharpTemplate = Math.Round(FaceSharpness.Measure(template, run.Face!.Box), 1);
        var before = Math.Round(FaceSharpness.Measure(image, face.Box), 1);
        double? ratio = sharpTemplate > 0 ? Math.Round(before / sharpTemplate, 3) : null;
        if (settings.SkipIfSharpnessAbove is { } threshold && ratio is { } measured && measured >= threshold)
        {
            record.Skip();
            record.SetResult(new RestoreResult(restorer, sharpTemplate, before, ratio, threshold, SkippedBecause: string.Create(
                CultureInfo.InvariantCulture, $"the face is {measured:0.##} times as sharp as the template's face, at least skip_if_sharpness_above {threshold}")));
            return;
        }

        var region = FaceRegion.SquareAround(face.Box, settings.Padding, image.Width, image.Height);
        using var crop = image.Clone(c => c.Crop(region));
        var sent = EncodedImage.FromPng(crop);
        record.Outputs.Add(await run.Folder.WriteAsync("restore-input.png", sent, cancellationToken));
        var request = new ExtrasSingleImageRequest(sent)
        {
            GfpganVisibility = settings.Model == FaceRestorerKind.Gfpgan ? settings.Visibility : 0,
            CodeformerVisibility = settings.Model == FaceRestorerKind.CodeFormer ? settings.Visibility : 0,
            CodeformerWeight = settings.Model == FaceRestorerKind.CodeFormer ? settings.CodeFormerWeight : 0,
            UpscalingResize = 1,
            Upscaler1 = "None",
        };
        record.Request = ManifestRequests.Of(run, request);
        var restored = await BoxCalls.RunAsync(run, record, BoxCalls.Needs(run, Name, generation: false), (box, ct) => box.Client.ExtraSingleImageAsync(request, ct), cancellationToken);
        record.Outputs.Add(await run.Folder.WriteAsync($"restore-face{restored.FileExtension}", restored, cancellationToken));
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

        var result = EncodedImage.FromPng(image);
        record.Outputs.Insert(0, await run.Folder.WriteAsync("restore.png", result, cancellationToken));
        run.Current = result;
        record.SetResult(new RestoreResult(
            restorer, sharpTemplate, before, ratio, settings.SkipIfSharpnessAbove,
            SharpnessAfter: Math.Round(FaceSharpness.Measure(image, face.Box), 1),
            Strength: settings.Strength,
            Region: [region.X, region.Y, region.Width, region.Height]));
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        if (record.Status == StepStatus.Succeeded && outputs.Count > 0)
        {
            run.Current = outputs[0];
        }
    }
}
