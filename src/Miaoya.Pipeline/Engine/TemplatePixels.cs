using Miaoya.Faces;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>
/// The template's upright RGB pixels, decoded on first use: a job runs one step per load of its folder, and only the
/// steps that look at the pixels (mask, faceswap) pay for decoding a template; the others need its size, read from the
/// header. Disposed with the run.
/// </summary>
internal sealed class TemplatePixels(EncodedImage template, Image<Rgb24>? decoded = null) : IDisposable
{
    private Image<Rgb24>? _pixels = decoded;
    private (int Width, int Height)? _size;

    /// <summary>The upright size (the decoded pixels' size), without decoding: the header's, turned by its EXIF orientation.</summary>
    public (int Width, int Height) Size => _pixels is { } pixels ? (pixels.Width, pixels.Height) : _size ??= UprightSize(template);

    public async Task<Image<Rgb24>> GetAsync(CancellationToken cancellationToken) =>
        _pixels ??= await FaceImages.LoadAsync(template, cancellationToken);

    public void Dispose() => _pixels?.Dispose();

    private static (int Width, int Height) UprightSize(EncodedImage image)
    {
        using var stream = image.OpenRead();
        var info = Image.Identify(ImageMemory.Decoding, stream);
        if (info is null)
        {
            return image.ReadSize();
        }

        var orientation = info.Metadata.ExifProfile?.GetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation)?.Value ?? 1;
        // EXIF orientations 5 to 8 turn the image by a quarter (AutoOrient swaps its sides).
        return orientation is >= 5 and <= 8 ? (info.Height, info.Width) : (info.Width, info.Height);
    }
}
