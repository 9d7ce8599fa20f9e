using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.IdPhoto;

/// <summary>Output file format of a finished photo.</summary>
public enum PhotoFormat
{
    /// <summary>JPEG (JFIF with the DPI in its density fields).</summary>
    Jpeg,

    /// <summary>PNG (the DPI in a pHYs chunk, as pixels per metre).</summary>
    Png,
}

/// <summary>An encoded photo: the bytes, the JPEG quality used (null for PNG) and, when a size target was set, what came of it.</summary>
public sealed record EncodedPhoto(byte[] Bytes, PhotoFormat Format, int? Quality, string? SizeNote)
{
    /// <summary>Size in KB (1024 bytes).</summary>
    public double Kilobytes => Bytes.Length / 1024.0;

    /// <summary>Whether the target size was met (true when there was none).</summary>
    public bool SizeTargetMet { get; init; } = true;
}

/// <summary>Encodes photos with their DPI written into the file, and searches JPEG quality for a target file size.</summary>
public static class PhotoEncoder
{
    /// <summary>Quality used when no size target is set.</summary>
    public const int DefaultQuality = 95;

    /// <summary>Lowest quality the size search goes to; below it JPEG blocks show on a face.</summary>
    public const int MinQuality = 10;

    /// <summary>
    /// Encodes <paramref name="image"/> at <paramref name="dpi"/>. With <paramref name="maxKb"/>, JPEG quality is the
    /// highest (binary search over <see cref="MinQuality"/>..<see cref="DefaultQuality"/>) whose file is at most that many KB;
    /// when even the lowest quality is larger, or the format is PNG (lossless, no quality to trade), the result says so in
    /// <see cref="EncodedPhoto.SizeNote"/> and <see cref="EncodedPhoto.SizeTargetMet"/> is false.
    /// </summary>
    public static EncodedPhoto Encode(Image<Rgb24> image, PhotoFormat format, int dpi, int? maxKb = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        SetDpi(image.Metadata, dpi);
        if (format == PhotoFormat.Png)
        {
            var png = Save(image, PhotoFormat.Png, 0);
            if (maxKb is { } limit && png.Length > limit * 1024L)
            {
                return new EncodedPhoto(png, format, null, $"impossible: the PNG is {png.Length / 1024.0:0.0} KB and PNG is lossless, so it cannot be made smaller than {limit} KB; use --format jpeg") { SizeTargetMet = false };
            }

            return new EncodedPhoto(png, format, null, null);
        }

        if (maxKb is not { } kb)
        {
            return new EncodedPhoto(Save(image, format, DefaultQuality), format, DefaultQuality, null);
        }

        var limitBytes = kb * 1024L;
        var best = Save(image, format, DefaultQuality);
        if (best.Length <= limitBytes)
        {
            return new EncodedPhoto(best, format, DefaultQuality, $"{best.Length / 1024.0:0.0} KB at quality {DefaultQuality} (target {kb} KB)");
        }

        var lowest = Save(image, format, MinQuality);
        if (lowest.Length > limitBytes)
        {
            return new EncodedPhoto(lowest, format, MinQuality, $"impossible: even at JPEG quality {MinQuality} the photo is {lowest.Length / 1024.0:0.0} KB, above the {kb} KB target") { SizeTargetMet = false };
        }

        int lo = MinQuality, hi = DefaultQuality - 1; // lo fits; find the highest quality that fits
        best = lowest;
        var bestQuality = MinQuality;
        while (lo <= hi)
        {
            var q = (lo + hi + 1) / 2;
            var bytes = Save(image, format, q);
            if (bytes.Length <= limitBytes)
            {
                (best, bestQuality, lo) = (bytes, q, q + 1);
            }
            else
            {
                hi = q - 1;
            }
        }

        return new EncodedPhoto(best, format, bestQuality, $"{best.Length / 1024.0:0.0} KB at quality {bestQuality} (target {kb} KB)");
    }

    /// <summary>The DPI stored in an encoded image (JFIF density or pHYs), rounded to 0.01; null when it holds none.</summary>
    public static double? ReadDpi(byte[] bytes)
    {
        var info = Image.Identify(ImageMemory.Decoding, bytes, out _) ?? throw new InvalidDataException("not a PNG, JPEG or WebP image");
        var m = info.Metadata;
        var (h, v) = (m.HorizontalResolution, m.VerticalResolution);
        double? dpi = m.ResolutionUnits switch
        {
            PixelResolutionUnit.PixelsPerInch => h,
            PixelResolutionUnit.PixelsPerCentimeter => h * 2.54,
            PixelResolutionUnit.PixelsPerMeter => h * 0.0254,
            _ => null, // aspect ratio only
        };
        return dpi is { } d && h == v && d > 0 ? Math.Round(d, 2) : null;
    }

    internal static void SetDpi(ImageMetadata metadata, int dpi)
    {
        metadata.ResolutionUnits = PixelResolutionUnit.PixelsPerInch;
        metadata.HorizontalResolution = dpi;
        metadata.VerticalResolution = dpi;
    }

    internal static byte[] Save(Image image, PhotoFormat format, int quality)
    {
        using var stream = new MemoryStream();
        if (format == PhotoFormat.Png)
        {
            image.SaveAsPng(stream, new PngEncoder { ColorType = PngColorType.Rgb, CompressionLevel = PngCompressionLevel.BestCompression });
        }
        else
        {
            image.SaveAsJpeg(stream, new JpegEncoder { Quality = quality, ColorType = JpegColorType.YCbCrRatio420 });
        }

        return stream.ToArray();
    }
}
