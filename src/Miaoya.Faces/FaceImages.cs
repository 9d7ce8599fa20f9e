using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Faces;

/// <summary>Turns an encoded photo into the upright RGB image the detector expects.</summary>
public static class FaceImages
{
    /// <summary>
    /// Decodes <paramref name="encoded"/>, applies its EXIF orientation (as OpenCV's imread does unless
    /// IMREAD_IGNORE_ORIENTATION, opencv/opencv modules/imgcodecs/include/opencv2/imgcodecs.hpp) and converts it to
    /// RGB: greyscale and CMYK become RGB through ImageSharp's decoders; transparent pixels are composited over white.
    /// Throws <see cref="InvalidImageDataException"/> when the bytes do not decode. The caller disposes the result.
    /// </summary>
    public static Image<Rgb24> Load(EncodedImage encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        using var rgba = DecodeRgba(encoded);
        return ToUprightRgb(rgba);
    }

    /// <summary>As <see cref="Load"/>, waiting for the process's decode budget without blocking a thread (the request path).</summary>
    public static async Task<Image<Rgb24>> LoadAsync(EncodedImage encoded, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        using var rgba = await encoded.DecodeAsync(cancellationToken);
        return ToUprightRgb(rgba);
    }

    private static Image<Rgb24> ToUprightRgb(Image<Rgba32> rgba)
    {
        rgba.Mutate(c => c.AutoOrient());
        var rgb = new Image<Rgb24>(rgba.Width, rgba.Height);
        try
        {
            rgba.ProcessPixelRows(rgb, static (source, target) =>
            {
                for (var y = 0; y < source.Height; y++)
                {
                    var src = source.GetRowSpan(y);
                    var dst = target.GetRowSpan(y);
                    for (var x = 0; x < src.Length; x++)
                    {
                        var p = src[x];
                        if (p.A == 255)
                        {
                            dst[x] = new Rgb24(p.R, p.G, p.B);
                        }
                        else
                        {
                            // Over white: c·a + 255·(1 − a), rounded.
                            var a = p.A;
                            var inv = 255 - a;
                            dst[x] = new Rgb24(
                                (byte)(((p.R * a) + (255 * inv) + 127) / 255),
                                (byte)(((p.G * a) + (255 * inv) + 127) / 255),
                                (byte)(((p.B * a) + (255 * inv) + 127) / 255));
                        }
                    }
                }
            });
            return rgb;
        }
        catch
        {
            rgb.Dispose();
            throw;
        }
    }

    private static Image<Rgba32> DecodeRgba(EncodedImage encoded) => encoded.Decode();
}
