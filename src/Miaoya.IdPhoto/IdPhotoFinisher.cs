using System.Globalization;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.IdPhoto;

/// <summary>What to make: the spec, background, DPI, format, optional size target and print sheet.</summary>
public sealed record FinishOptions
{
    /// <summary>The spec.</summary>
    public required IdSpec Spec { get; init; }

    /// <summary>The background; <see cref="BackgroundFill.KeepOriginal"/> needs no WebUI.</summary>
    public BackgroundFill Background { get; init; } = BackgroundFill.KeepOriginal;

    /// <summary>DPI (300, 254 or 350); null = the spec's.</summary>
    public int? Dpi { get; init; }

    /// <summary>File format; null = the spec's first allowed format.</summary>
    public PhotoFormat? Format { get; init; }

    /// <summary>Largest file size in KB; null = the spec's max_kb, if any.</summary>
    public int? MaxKb { get; init; }

    /// <summary>Also lay the photo out on this print sheet.</summary>
    public SheetSize? Sheet { get; init; }

    /// <summary>Whether a generative step produced the input (the verdict says so).</summary>
    public bool Generated { get; init; }

    /// <summary>
    /// Which face of a photo with several, counted from 0 left to right by the face box's left edge (as ReActor counts);
    /// null: the photo must show one face.
    /// </summary>
    public int? FaceIndex { get; init; }

    /// <summary>rembg model for the separation (a human segmentation model).</summary>
    public string RembgModel { get; init; } = "u2net_human_seg";
}

/// <summary>A finished ID photo: the file, the person matte used, the sheet, the verdict and any warnings.</summary>
public sealed record FinishResult(EncodedPhoto Photo, string FileName, byte[]? Mask, byte[]? Sheet, SheetLayout? Layout, ComplianceReport Verdict, IReadOnlyList<string> Warnings, int Dpi)
{
    /// <summary>
    /// Writes <see cref="FileName"/>, <c>mask.png</c> (when the background was replaced), <c>sheet-NAME.jpg</c> and
    /// <c>verdict.json</c> into <paramref name="folder"/>, each atomically. Returns the photo's path.
    /// </summary>
    public async Task<string> WriteToAsync(string folder, string? sheetName, CancellationToken cancellationToken = default)
    {
        PrivateFiles.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        await AtomicFile.WriteAllBytesAsync(path, Photo.Bytes, cancellationToken);
        if (Mask is not null)
        {
            await AtomicFile.WriteAllBytesAsync(Path.Combine(folder, "mask.png"), Mask, cancellationToken);
        }

        if (Sheet is not null)
        {
            await AtomicFile.WriteAllBytesAsync(Path.Combine(folder, $"sheet-{sheetName}.jpg"), Sheet, cancellationToken);
        }

        await AtomicFile.WriteAllBytesAsync(Path.Combine(folder, "verdict.json"), System.Text.Encoding.UTF8.GetBytes(Verdict.ToJson()), cancellationToken);
        return path;
    }
}

/// <summary>A photo that cannot be finished (no face, several faces); the message says why and what to do.</summary>
public sealed class IdPhotoException : Exception
{
    /// <inheritdoc />
    public IdPhotoException()
    {
    }

    /// <inheritdoc />
    public IdPhotoException(string message)
        : base(message)
    {
    }

    /// <inheritdoc />
    public IdPhotoException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// ID-photo finishing: geometry from the face detector (eyes levelled, head height and top margin inside the spec, head
/// centred), background separation through the WebUI box's rembg extension and replacement, encoding with the DPI in the
/// file and an optional size target, an optional print sheet, and the compliance verdict on the file written. Nothing
/// generative runs here.
/// </summary>
public static class IdPhotoFinisher
{
    /// <summary>Finishes <paramref name="photo"/> (upright RGB, see <see cref="FaceImages.Load"/>).</summary>
    /// <param name="photo">The photo.</param>
    /// <param name="options">What to make.</param>
    /// <param name="detector">The face detector.</param>
    /// <param name="webUi">The box for rembg; required unless the background is kept.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <exception cref="IdPhotoException">Not exactly one face.</exception>
    /// <exception cref="ArgumentException">The spec does not allow the background, the background needs a WebUI and none was given, or the DPI is not supported (all before any image work).</exception>
    public static async Task<FinishResult> FinishAsync(Image<Rgb24> photo, FinishOptions options, IFaceDetector detector, WebUiClient? webUi, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(detector);
        var spec = options.Spec;
        var dpi = options.Dpi ?? spec.Dpi;
        IdSpec.CheckDpi(dpi);
        if (spec.BackgroundProblem(options.Background) is { } forbidden)
        {
            throw new ArgumentException(forbidden);
        }

        if (!options.Background.Keep && webUi is null)
        {
            throw new ArgumentException("replacing the background needs a WebUI box with the rembg extension (--webui URL); or keep the photo's background (--background keep).");
        }

        var format = options.Format ?? (spec.Formats.Contains("jpeg") ? PhotoFormat.Jpeg : PhotoFormat.Png);
        var warnings = new List<string>();
        if (!spec.Formats.Contains(format == PhotoFormat.Jpeg ? "jpeg" : "png", StringComparer.Ordinal))
        {
            warnings.Add($"{spec.Name} asks for {string.Join(" or ", spec.Formats)}; writing {format.ToString().ToLowerInvariant()} as asked, so the format rule fails.");
        }

        var faces = detector.Detect(photo, cancellationToken);
        if (faces.Count == 0)
        {
            throw new IdPhotoException("no face found: an ID photo needs one clearly visible frontal face (eyes open, not covered).");
        }

        DetectedFace chosen;
        if (options.FaceIndex is { } index)
        {
            try
            {
                chosen = FaceSelection.SelectLeftToRight(faces, index, "the photo", "--face-index");
            }
            catch (FaceSelectionException e)
            {
                throw new IdPhotoException(e.Message, e);
            }
        }
        else if (faces.Count > 1)
        {
            throw new IdPhotoException($"{faces.Count} faces found, counted from 0 left to right: {FaceSelection.Describe(FaceSelection.OrderLeftToRight(faces))}; an ID photo shows one person: choose one with --face-index N, or crop the photo to that person first.");
        }
        else
        {
            chosen = faces[0];
        }

        var head = HeadGeometry.From(chosen);
        var (width, height) = spec.PixelSize(dpi);
        var plan = CropPlan.For(head, spec, width, height);
        if (Math.Abs(head.RollDegrees) > 0.5)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"the head was tilted {head.RollDegrees:0.0}°; eyes levelled."));
        }

        if (plan.Scale > 2)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"the face is small in the photo: enlarged {plan.Scale:0.0}×, so the result is soft; use a closer or larger photo."));
        }

        var framed = plan.Render(photo, out var outside);
        try
        {
            (framed, plan, outside) = Refine(photo, framed, plan, outside, spec, detector, cancellationToken);
        }
        catch
        {
            framed.Dispose();
            throw;
        }

        using var _ = framed;
        if (outside > 0.02)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{outside:P0} of the frame lies outside the photo (edges repeated{(options.Background.Keep ? string.Empty : ", then covered by the background where rembg sees no person")}); use a photo with more room around the head and shoulders."));
        }

        byte[]? maskPng = null;
        Image<Rgb24> finished;
        RefinedMatte? refined = null;
        if (options.Background.Keep)
        {
            finished = framed.Clone();
        }
        else
        {
            using var mask = await PersonMaskAsync(webUi!, framed, options.RembgModel, cancellationToken);
            refined = Matting.Refine(framed, mask, ProtectedEllipse.Head(plan));
            finished = BackgroundCompositor.Composite(refined.Person, refined.Matte, options.Background);
            maskPng = PhotoEncoder.Save(refined.Matte, PhotoFormat.Png, 0);
            if (refined.RemovedPixels > framed.Width * framed.Height / 200)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"rembg's matte kept {refined.RemovedPixels} pixels of the old backdrop around the person ({(double)refined.RemovedPixels / (framed.Width * framed.Height):P1} of the photo); they were matched to the backdrop's colour and replaced. Look at the edge of the hair and shoulders."));
            }
        }

        using (refined)
        using (finished)
        {
            var encoded = PhotoEncoder.Encode(finished, format, dpi, options.MaxKb ?? spec.MaxKb);
            if (!encoded.SizeTargetMet)
            {
                warnings.Add($"file size target not met: {encoded.SizeNote}");
            }

            var fileName = string.Create(CultureInfo.InvariantCulture, $"{spec.Name}-{dpi}dpi.{(format == PhotoFormat.Jpeg ? "jpg" : "png")}");
            byte[]? sheet = null;
            SheetLayout? layout = null;
            if (options.Sheet is { } sheetSize)
            {
                layout = SheetLayout.For(sheetSize, width, height, dpi);
                using var sheetImage = SheetRenderer.Render(finished, layout);
                PhotoEncoder.SetDpi(sheetImage.Metadata, dpi);
                sheet = PhotoEncoder.Save(sheetImage, PhotoFormat.Jpeg, PhotoEncoder.DefaultQuality);
            }

            var verdict = ComplianceChecker.Check(encoded.Bytes, fileName, spec, detector, dpi, options.Generated, options.MaxKb, refined?.Matte, refined is null ? null : "the refined rembg matte", cancellationToken);
            return new FinishResult(encoded, fileName, maskPng, sheet, layout, verdict, warnings, dpi);
        }
    }

    /// <summary>
    /// Closed loop: the detector is run again on the rendered frame (where the face is large and level, so its landmarks are
    /// steadier than on the source), the head found there is carried back into the source and the frame is planned and
    /// rendered again, up to <see cref="RefinePasses"/> times; the frame whose measurement is closest to the plan's targets
    /// is kept. This is what makes the verdict (which measures the written file the same way) agree with the plan.
    /// </summary>
    private static (Image<Rgb24> Frame, CropPlan Plan, double Outside) Refine(
        Image<Rgb24> photo, Image<Rgb24> framed, CropPlan plan, double outside, IdSpec spec, IFaceDetector detector, CancellationToken cancellationToken)
    {
        var best = (Frame: framed, Plan: plan, Outside: outside, Error: FrameError(framed, plan, detector, cancellationToken, out var measured));
        for (var pass = 0; pass < RefinePasses && measured is { } head && best.Error > 0.01; pass++)
        {
            var next = CropPlan.For(head.ToSource(best.Plan), spec, plan.Width, plan.Height);
            var frame = next.Render(photo, out var nextOutside);
            var error = FrameError(frame, next, detector, cancellationToken, out measured);
            if (error < best.Error)
            {
                best.Frame.Dispose();
                best = (frame, next, nextOutside, error);
            }
            else
            {
                frame.Dispose();
            }
        }

        return (best.Frame, best.Plan, best.Outside);
    }

    private const int RefinePasses = 2;

    /// <summary>How far the frame's measured head is from the plan (fractions; roll in hundredths of a degree); infinite without exactly one face.</summary>
    private static double FrameError(Image<Rgb24> frame, CropPlan plan, IFaceDetector detector, CancellationToken cancellationToken, out HeadGeometry? head)
    {
        var faces = detector.Detect(frame, cancellationToken);
        if (faces.Count == 0)
        {
            head = null;
            return double.PositiveInfinity;
        }

        // With --face-index others may show at the frame's edges: the chosen face is the one the plan centred.
        var centred = faces.MinBy(f => Math.Abs(f.Box.X + (f.Box.Width / 2) - (plan.Width / 2f)))!;
        var h = HeadGeometry.From(centred);
        head = h;
        var headError = Math.Abs((h.HeadHeight / plan.Height) - plan.HeadFraction);
        var topError = Math.Abs((Math.Min(h.Crown.Y, h.Chin.Y) / plan.Height) - plan.TopFraction);
        var centreError = Math.Abs((h.Eyes.X / plan.Width) - 0.5);
        return headError + topError + centreError + (Math.Abs(h.RollDegrees) / 100);
    }

    /// <summary>
    /// The person matte of <paramref name="image"/> from the box's rembg extension (<c>POST /rembg</c> with
    /// <c>return_mask: true</c> and a human segmentation model): 255 = person, soft values at edges and hair. A cut-out
    /// (transparent background) answer is read by its alpha; a grey mask by its luminance. Resized to the image when the
    /// box answers another size.
    /// </summary>
    internal static async Task<Image<L8>> PersonMaskAsync(WebUiClient webUi, Image<Rgb24> image, string model, CancellationToken cancellationToken)
    {
        var request = new RembgRequest(EncodedImage.FromPng(image)) { Model = model, ReturnMask = true };
        var response = await webUi.RembgAsync(request, cancellationToken);
        using var rgba = await response.Image.DecodeAsync(cancellationToken);
        var mask = PersonMattes.FromImage(rgba);
        if (mask.Width != image.Width || mask.Height != image.Height)
        {
            mask.Mutate(c => c.Resize(image.Width, image.Height));
        }

        return mask;
    }
}
