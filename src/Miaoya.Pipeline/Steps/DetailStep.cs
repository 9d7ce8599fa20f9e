using System.Globalization;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>detail</c>: a small face is re-rendered at the model's native size. The face's square region is cut out of the
/// current image (and of the template, for units that look at it), scaled up to <c>detail.size</c>, inpainted there under a
/// face mask with the section's ControlNet units and the identity units, and pasted back through the same mask, so every
/// pixel outside the face is the current image's own. ADetailer does the same crop-and-inpaint but cannot carry our
/// identity units, which is why it is done here. Skipped when the face covers more of the image than
/// <c>skip_if_face_above</c>. With several people each person's face gets its own pass, with their prompt (their LoRA
/// alone) and their identity unit, one after another on the same image.
/// </summary>
internal sealed class DetailStep : IPortraitStep
{
    public string Name => StepName.Detail;

    public StepBoxUse BoxUse => StepBoxUse.Renders;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Detail!;
        var current = run.Current ?? run.Template;
        var (width, height) = current.ReadSize();
        using var image = await FaceImages.LoadAsync(current, cancellationToken);
        DetailResult result;
        if (run.HasPeople)
        {
            var people = await FinishingPass.PerPersonAsync(
                run,
                record,
                person => OneFaceAsync(run, record, image, FaceRegion.In(run, person.Face!, width, height), $"{Name}-{person.Tag}", person.Prompt!, person.IdentityImages, cancellationToken),
                (one, faceIndex) => one with { FaceIndex = faceIndex },
                one => one.SkippedBecause is not null);
            result = new DetailResult(null, settings.SkipIfFaceAbove, People: people, SkippedBecause: people.All(p => p.SkippedBecause is not null) ? FinishingPass.EveryFaceSkipped : null);
        }
        else if (FaceRegion.In(run, width, height) is not { } face)
        {
            result = new DetailResult(null, settings.SkipIfFaceAbove, SkippedBecause: FaceRegion.NoFace);
        }
        else
        {
            result = await OneFaceAsync(run, record, image, face, Name, run.Prompt!, run.IdentityImages, cancellationToken);
        }

        await FinishingPass.EndAsync(run, record, image, "detail.png", result, result.SkippedBecause is not null, cancellationToken);
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs) => FinishingPass.RestoreCurrent(run, record, outputs);

    /// <summary>
    /// One face's pass on <paramref name="image"/> (changed in place inside the face's mask): its files are named
    /// <paramref name="prefix"/>-input.png, -template.png, -mask.png, -rendered.png; skipped (nothing sent) when the face is large enough.
    /// </summary>
    private async Task<DetailResult> OneFaceAsync(
        RunContext run, StepRecord record, Image<Rgb24> image, DetectedFace face, string prefix, ComposedPrompt prompt, IReadOnlyList<EncodedImage>? identity, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Detail!;
        var (width, height) = (image.Width, image.Height);
        var fraction = Math.Round(face.Box.Width * face.Box.Height / ((double)width * height), 4);
        if (fraction > settings.SkipIfFaceAbove)
        {
            return new DetailResult(fraction, settings.SkipIfFaceAbove, SkippedBecause: string.Create(
                CultureInfo.InvariantCulture, $"the face covers {fraction * 100:0.#}% of the image, more than skip_if_face_above {settings.SkipIfFaceAbove * 100:0.#}%: it is rendered at enough pixels already"));
        }

        var size = settings.Size ?? (run.Recipe.ModelFamily == ModelFamily.Sdxl ? 1024 : 512);
        var region = FaceRegion.SquareAround(face.Box, settings.Padding, width, height);
        var inCrop = FaceRegion.InRegion(face, region, size);
        var maskOptions = new FaceMaskOptions
        {
            Kind = FaceMaskKind.Face,
            Grow = (float)(run.Recipe.Mask?.Grow ?? 0.15),
            FeatherFraction = (float)settings.Feather,
        };

        var currentCrop = Crop(image, region, size);
        var template = await run.PixelsAsync(cancellationToken); // the run's, disposed with it
        var (tw, th) = run.TemplateSize;
        var templateCrop = Crop(template, tw == width && th == height ? region : ScaleRegion(region, tw / (double)width, th / (double)height, tw, th), size);

        var mask = FaceMasks.BuildPng(size, size, inCrop, maskOptions);
        var inputs = new[]
        {
            await run.Folder.WriteAsync($"{prefix}-input.png", currentCrop, cancellationToken),
            await run.Folder.WriteAsync($"{prefix}-template.png", templateCrop, cancellationToken),
            await run.Folder.WriteAsync($"{prefix}-mask.png", mask, cancellationToken),
        };
        record.Outputs.AddRange(inputs);
        var seed = run.Seed ?? run.Request.Seed;
        var response = await GenerationStep.RenderAsync(
            run,
            record,
            Name,
            box => PayloadBuilder.Detail(run.Recipe, box, templateCrop, currentCrop, mask, prompt, seed, size, identity),
            cancellationToken);
        var rendered = response.GeneratedImages[0];
        record.Outputs.Add(await run.Folder.WriteAsync($"{prefix}-rendered{rendered.FileExtension}", rendered, cancellationToken));
        for (var i = response.GeneratedImages.Count + (response.Info?.IndexOfFirstImage ?? 0); i < response.Images.Count; i++)
        {
            var map = response.Images[i];
            record.Outputs.Add(await run.Folder.WriteAsync($"{prefix}-controlnet-{i - response.GeneratedImages.Count}{map.FileExtension}", map, cancellationToken));
        }

        // Pasted back through the face mask at the region's own size: outside the face the image keeps its own pixels.
        using (var patch = await FaceImages.LoadAsync(rendered, cancellationToken))
        using (var pasteMask = FaceMasks.Build(region.Width, region.Height, FaceRegion.InRegion(face, region, region.Width), maskOptions))
        {
            FaceRegion.BlendInto(image, patch, region, pasteMask, 1.0);
        }

        return new DetailResult(fraction, settings.SkipIfFaceAbove, [region.X, region.Y, region.Width, region.Height], size);
    }

    private static EncodedImage Crop(Image<Rgb24> image, Rectangle region, int size)
    {
        using var crop = image.Clone(c => c.Crop(region).Resize(size, size, KnownResamplers.Lanczos3));
        return EncodedImage.FromPng(crop);
    }

    private static Rectangle ScaleRegion(Rectangle r, double sx, double sy, int width, int height)
    {
        var x = (int)Math.Round(r.X * sx);
        var y = (int)Math.Round(r.Y * sy);
        return Rectangle.Intersect(new Rectangle(x, y, Math.Max(1, (int)Math.Round(r.Width * sx)), Math.Max(1, (int)Math.Round(r.Height * sy))), new Rectangle(0, 0, width, height));
    }
}
