using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using Miaoya.Recipes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>
/// The files a run is given (template, face photo, mask file, V3's models), read and checked as untrusted input:
/// everything wrong is a <see cref="PipelineException"/> with <see cref="PipelineException.InputField"/> naming the input.
/// </summary>
internal static class InputFiles
{
    /// <summary>
    /// A photo (the template, or V3's face photo: <paramref name="field"/>) as sent to the box, and its decoded upright
    /// RGB pixels (the caller disposes them). Everything wrong with the file is bad input naming the field: missing, not
    /// PNG/JPEG/WebP, cut short, too large (bytes, sides, pixels), or not decoding.
    /// </summary>
    public static async Task<(EncodedImage Encoded, Image<Rgb24> Pixels)> LoadPhotoAsync(string path, string field, CancellationToken cancellationToken)
    {
        var label = field switch { "face" or "person" => "face photo", "photo" => "photo", _ => "template" };
        PipelineException Bad(string message) => new($"{label} {path}: {message}") { Step = "template", InputField = field };
        var limits = Limits.InputLimits.Images;
        EncodedImage encoded;
        int width, height;
        try
        {
            encoded = await EncodedImage.ReadFileAsync(path, cancellationToken);
            (width, height) = encoded.Check();
        }
        catch (InvalidImageDataException e)
        {
            throw Bad(e.Message.Replace(path + ": ", "", StringComparison.Ordinal) + (e.Message.Contains("PNG, JPEG or WebP", StringComparison.Ordinal) ? " Give a PNG, JPEG or WebP photo." : ""));
        }

        if (Math.Max(width, height) > limits.MaxTemplateSide || Math.Min(width, height) < limits.MinTemplateSide)
        {
            throw Bad($"{width}×{height} px is outside {limits.MinTemplateSide}..{limits.MaxTemplateSide} px per side; scale it (SD 1.5 works best near 512–1024 px).");
        }

        // EXIF rotation applied, greyscale/CMYK/alpha turned into RGB, sent to the box as PNG. A plain 8-bit RGB PNG
        // already is what the box and the detector see, and is sent as it is.
        Image<Rgb24> rgb;
        try
        {
            rgb = await FaceImages.LoadAsync(encoded, cancellationToken);
        }
        catch (InvalidImageDataException e)
        {
            throw Bad(e.Message);
        }

        try
        {
            return (IsPlainRgb(encoded) ? encoded : EncodedImage.FromPng(rgb), rgb);
        }
        catch
        {
            rgb.Dispose();
            throw;
        }
    }

    private static bool IsPlainRgb(EncodedImage image)
    {
        if (image.Format != ImageFileFormat.Png)
        {
            return false;
        }

        using var stream = image.OpenRead();
        var info = Image.Identify(ImageMemory.Decoding, stream);
        var png = info?.Metadata.GetPngMetadata();
        var orientation = info?.Metadata.ExifProfile?.GetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation)?.Value ?? 1;
        return png is { ColorType: SixLabors.ImageSharp.Formats.Png.PngColorType.Rgb, BitDepth: SixLabors.ImageSharp.Formats.Png.PngBitDepth.Bit8 } && orientation == 1;
    }

    /// <summary>A mask file, checked against the template's size, as an 8-bit grey PNG (white = repaint).</summary>
    public static async Task<EncodedImage> LoadMaskAsync(string path, int width, int height, CancellationToken cancellationToken)
    {
        Image<Rgba32> image;
        try
        {
            var encoded = await EncodedImage.ReadFileAsync(path, cancellationToken);
            var (w, h) = encoded.Check();
            if (w != width || h != height)
            {
                throw new PipelineException($"mask file {path}: {w}×{h} px, but the template is {width}×{height} px; they must match.") { Step = "mask", InputField = "mask" };
            }

            image = await encoded.DecodeAsync(cancellationToken);
        }
        catch (InvalidImageDataException e)
        {
            throw new PipelineException($"mask file {path}: {e.Message.Replace(path + ": ", "", StringComparison.Ordinal)}", e) { Step = "mask", InputField = "mask" };
        }

        using var decoded = image;

        using var grey = decoded.CloneAs<L8>();
        return EncodedImage.FromPng(grey);
    }

    /// <summary>
    /// The person's face photos the recipe uses (none when it uses none): V3's (after its licence gate and models are
    /// checked), an identity unit's and the candidates' scorer's. With a <paramref name="detector"/>, a photo for an
    /// identity unit or the scorer must show exactly one face (the extension takes the largest face with only a warning,
    /// so a group photo would silently condition on whoever is biggest).
    /// </summary>
    public static async Task<IReadOnlyList<EncodedImage>> LoadFacePhotosAsync(RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken)
    {
        var recipe = request.Recipe;
        if (request.People.Count > 0)
        {
            return [];
        }

        var oneFaceEach = recipe.Identity is not null || recipe.Candidates is not null;
        if (recipe.Pipeline != PipelineKind.V3 && !oneFaceEach)
        {
            return [];
        }

        if (recipe.Pipeline == PipelineKind.V3)
        {
            CheckFaceSwap(request);
        }

        var photos = new List<EncodedImage>();
        foreach (var path in request.FacePaths)
        {
            var (face, pixels) = await LoadPhotoAsync(path, "face", cancellationToken);
            using (pixels)
            {
                if (oneFaceEach && detector is not null)
                {
                    FacePhotos.SingleFace(pixels, detector, path, cancellationToken);
                }
            }

            photos.Add(face);
        }

        return photos;
    }

    /// <summary>
    /// Each person's face photos of a several-person run, in the order of <see cref="RunRequest.People"/>. With a
    /// <paramref name="detector"/> each must show exactly one face: the person's identity unit or V3's swap would
    /// otherwise take whoever is biggest in it.
    /// </summary>
    public static async Task<IReadOnlyList<IReadOnlyList<EncodedImage>>> LoadPeoplePhotosAsync(RunRequest request, IFaceDetector? detector, CancellationToken cancellationToken)
    {
        if (request.People.Count == 0)
        {
            return [];
        }

        if (request.Recipe.Pipeline == PipelineKind.V3)
        {
            CheckFaceSwap(request);
        }

        var people = new List<IReadOnlyList<EncodedImage>>();
        foreach (var person in request.People)
        {
            var photos = new List<EncodedImage>();
            foreach (var path in person.FacePaths)
            {
                var (face, pixels) = await LoadPhotoAsync(path, "person", cancellationToken);
                using (pixels)
                {
                    if (detector is not null)
                    {
                        FacePhotos.SingleFace(pixels, detector, path, cancellationToken);
                    }
                }

                photos.Add(face);
            }

            people.Add(photos);
        }

        return people;
    }

    /// <summary>V3's licence gate, face photo and models.</summary>
    private static void CheckFaceSwap(RunRequest request)
    {
        if (Environment.GetEnvironmentVariable(PortraitPipeline.DisableInsightfaceVariable) is "1" or "true")
        {
            throw new PipelineException($"V3 is disabled on this deployment ({PortraitPipeline.DisableInsightfaceVariable}={Environment.GetEnvironmentVariable(PortraitPipeline.DisableInsightfaceVariable)}): insightface's models are for non-commercial research only. Use v1-face or v2.") { Step = "faceswap", InputField = "recipe" };
        }

        if (request.FacePath is null && request.People.Count == 0)
        {
            throw new PipelineException($"recipe {request.Recipe.Name} swaps a face: give the person's photo with --face.") { Step = "template", InputField = "face" };
        }

        if (request.ModelsDirectory is null)
        {
            throw new PipelineException($"recipe {request.Recipe.Name} needs insightface's models: give --models DIR (det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx).") { Step = "template", InputField = "models" };
        }

        var needed = new List<string> { ModelRegistry.ArcFace.FileName, ModelRegistry.Inswapper.FileName };
        if (request.Recipe.FaceSwap?.Detector == FaceSwapDetector.Scrfd)
        {
            needed.Insert(0, ModelRegistry.Det10g.FileName);
        }

        var missing = needed.Where(n => !File.Exists(Path.Combine(request.ModelsDirectory, n))).ToList();
        if (missing.Count > 0)
        {
            throw new PipelineException($"--models {request.ModelsDirectory}: missing {string.Join(", ", missing)} (insightface's file names; det_10g and w600k_r50 come from the buffalo_l pack).") { Step = "template", InputField = "models" };
        }

    }
}
