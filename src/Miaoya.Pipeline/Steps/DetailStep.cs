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
/// <c>skip_if_face_above</c>.
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
        if (FaceRegion.In(run, width, height) is not { } face)
        {
            Skip(record, new DetailResult(null, settings.SkipIfFaceAbove, SkippedBecause: FaceRegion.NoFace));
            return;
        }

        var fraction = Math.Round(face.Box.Width * face.Box.Height / ((double)width * height), 4);
        if (fraction > settings.SkipIfFaceAbove)
        {
            Skip(record, new DetailResult(fraction, settings.SkipIfFaceAbove, SkippedBecause: string.Create(
                CultureInfo.InvariantCulture, $"the face covers {fraction * 100:0.#}% of the image, more than skip_if_face_above {settings.SkipIfFaceAbove * 100:0.#}%: it is rendered at enough pixels already")));
            return;
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

        using var image = await FaceImages.LoadAsync(current, cancellationToken);
        var currentCrop = Crop(image, region, size);
        var template = await run.PixelsAsync(cancellationToken); // the run's, disposed with it
        var (tw, th) = run.TemplateSize;
        var templateCrop = Crop(template, tw == width && th == height ? region : ScaleRegion(region, tw / (double)width, th / (double)height, tw, th), size);

        var mask = FaceMasks.BuildPng(size, size, inCrop, maskOptions);
        var inputs = new[]
        {
            await run.Folder.WriteAsync("detail-input.png", currentCrop, cancellationToken),
            await run.Folder.WriteAsync("detail-template.png", templateCrop, cancellationToken),
            await run.Folder.WriteAsync("detail-mask.png", mask, cancellationToken),
        };
        record.Outputs.AddRange(inputs);
        var seed = run.Seed ?? run.Request.Seed;
        var response = await GenerationStep.RenderAsync(
            run,
            record,
            Name,
            box => PayloadBuilder.Detail(run.Recipe, box, templateCrop, currentCrop, mask, run.Prompt!, seed, size, run.IdentityImages),
            cancellationToken);
        var rendered = response.GeneratedImages[0];
        record.Outputs.Add(await run.Folder.WriteAsync($"detail-rendered{rendered.FileExtension}", rendered, cancellationToken));
        for (var i = response.GeneratedImages.Count + (response.Info?.IndexOfFirstImage ?? 0); i < response.Images.Count; i++)
        {
            var map = response.Images[i];
            record.Outputs.Add(await run.Folder.WriteAsync($"{Name}-controlnet-{i - response.GeneratedImages.Count}{map.FileExtension}", map, cancellationToken));
        }

        // Pasted back through the face mask at the region's own size: outside the face the image keeps its own pixels.
        using (var patch = await FaceImages.LoadAsync(rendered, cancellationToken))
        using (var pasteMask = FaceMasks.Build(region.Width, region.Height, FaceRegion.InRegion(face, region, region.Width), maskOptions))
        {
            FaceRegion.BlendInto(image, patch, region, pasteMask, 1.0);
        }

        var result = EncodedImage.FromPng(image);
        record.Outputs.Insert(0, await run.Folder.WriteAsync("detail.png", result, cancellationToken));
        run.Current = result;
        record.SetResult(new DetailResult(fraction, settings.SkipIfFaceAbove, [region.X, region.Y, region.Width, region.Height], size));
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        if (record.Status == StepStatus.Succeeded && outputs.Count > 0)
        {
            run.Current = outputs[0];
        }
    }

    private static void Skip(StepRecord record, DetailResult result)
    {
        record.Skip();
        record.SetResult(result);
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
