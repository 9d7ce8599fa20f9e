using System.Runtime.InteropServices;
using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Likeness;

/// <summary>
/// Runs the face detector on a smaller copy of a large image. BlazeFace looks at the whole image through a 128×128 and a
/// 256×256 input (and 256×256 tiles of at least 384 px when it finds nothing), so a 1024×1536 candidate spends most of
/// the detector's own time in ImageSharp resizing 1.5 million pixels, twice. An integer-factor box reduction to a long
/// side of at most <see cref="MaxSide"/> reads the image once; the detector then resizes the small copy. The landmarks are
/// mapped back to full-resolution pixels, and the alignment warp samples the full-resolution image, so only the
/// detection sees the reduced copy.
/// </summary>
internal static class DetectionInput
{
    /// <summary>
    /// The long side the detector sees at most: twice the full-range model's input, so its whole-image passes (256×256 and
    /// 128×128) lose nothing. Faces smaller than about 8 % of the long side, which BlazeFace finds only in its tiles, may be
    /// missed; a candidate portrait's face is far larger.
    /// </summary>
    public const int MaxSide = 512;

    /// <summary>The faces of <paramref name="image"/> in its own pixels, detected on a box-reduced copy when it is larger than <see cref="MaxSide"/>.</summary>
    public static IReadOnlyList<DetectedFace> Detect(IFaceDetector detector, Image<Rgb24> image, CancellationToken cancellationToken)
    {
        if (Math.Max(image.Width, image.Height) <= MaxSide)
        {
            return detector.Detect(image, cancellationToken);
        }

        var (small, factor) = Shrink(image);
        using (small)
        {
            var faces = detector.Detect(small, cancellationToken);
            return [.. faces.Select(f => Scale(f, factor))];
        }
    }

    /// <summary>
    /// A copy with a long side of at most <see cref="MaxSide"/>, and the factor it was reduced by: halved while the sides
    /// are even (the common sizes: 1024×1536 → 512×768 → 256×384), otherwise one box reduction by ⌈long side / MaxSide⌉.
    /// </summary>
    internal static (Image<Rgb24> Image, int Factor) Shrink(Image<Rgb24> image)
    {
        var current = image;
        var factor = 1;
        try
        {
            while (Math.Max(current.Width, current.Height) > MaxSide)
            {
                var step = current.Width % 2 == 0 && current.Height % 2 == 0 ? 2 : Factor(current.Width, current.Height);
                var next = Reduce(current, step);
                if (!ReferenceEquals(current, image))
                {
                    current.Dispose();
                }

                current = next;
                factor *= step;
            }

            return (current, factor);
        }
        catch
        {
            if (!ReferenceEquals(current, image))
            {
                current.Dispose();
            }

            throw;
        }
    }

    /// <summary>⌈long side / <see cref="MaxSide"/>⌉.</summary>
    internal static int Factor(int width, int height) => Math.Max(1, (Math.Max(width, height) + MaxSide - 1) / MaxSide);

    /// <summary>
    /// Each output pixel is the rounded mean of a <paramref name="factor"/>×<paramref name="factor"/> block (fewer pixels
    /// at the right and bottom edges).
    /// </summary>
    internal static Image<Rgb24> Reduce(Image<Rgb24> image, int factor)
    {
        var (width, height) = (image.Width, image.Height);
        var (outWidth, outHeight) = ((width + factor - 1) / factor, (height + factor - 1) / factor);
        var result = new Image<Rgb24>(outWidth, outHeight);
        try
        {
            var sums = new int[outWidth * 3];
            image.ProcessPixelRows(result, (src, dst) =>
            {
                for (var oy = 0; oy < outHeight; oy++)
                {
                    if (factor == 2 && (2 * oy) + 1 < height && width % 2 == 0)
                    {
                        Halve(src.GetRowSpan(2 * oy), src.GetRowSpan((2 * oy) + 1), dst.GetRowSpan(oy));
                        continue;
                    }

                    Array.Clear(sums);
                    var y0 = oy * factor;
                    var rows = Math.Min(factor, height - y0);
                    for (var y = y0; y < y0 + rows; y++)
                    {
                        // Block by block over the row's bytes (R, G, B, R, …): no division per pixel.
                        var bytes = MemoryMarshal.AsBytes(src.GetRowSpan(y));
                        var start = 0;
                        for (var i = 0; i < sums.Length; i += 3)
                        {
                            var end = Math.Min(start + (3 * factor), bytes.Length);
                            int r = 0, g = 0, b = 0;
                            for (var j = start; j < end; j += 3)
                            {
                                r += bytes[j];
                                g += bytes[j + 1];
                                b += bytes[j + 2];
                            }

                            sums[i] += r;
                            sums[i + 1] += g;
                            sums[i + 2] += b;
                            start = end;
                        }
                    }

                    var output = dst.GetRowSpan(oy);
                    for (var ox = 0; ox < outWidth; ox++)
                    {
                        var count = rows * Math.Min(factor, width - (ox * factor));
                        var half = count / 2;
                        var i = ox * 3;
                        output[ox] = new Rgb24((byte)((sums[i] + half) / count), (byte)((sums[i + 1] + half) / count), (byte)((sums[i + 2] + half) / count));
                    }
                }
            });
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>The common case (a long side of 769–1536 px): two full rows into one, 2×2 means, no loops over the block.</summary>
    private static void Halve(ReadOnlySpan<Rgb24> top, ReadOnlySpan<Rgb24> bottom, Span<Rgb24> output)
    {
        var a = MemoryMarshal.AsBytes(top);
        var b = MemoryMarshal.AsBytes(bottom);
        var o = MemoryMarshal.AsBytes(output);
        for (int i = 0, j = 0; i < o.Length; i += 3, j += 6)
        {
            o[i] = (byte)((a[j] + a[j + 3] + b[j] + b[j + 3] + 2) >> 2);
            o[i + 1] = (byte)((a[j + 1] + a[j + 4] + b[j + 1] + b[j + 4] + 2) >> 2);
            o[i + 2] = (byte)((a[j + 2] + a[j + 5] + b[j + 2] + b[j + 5] + 2) >> 2);
        }
    }

    /// <summary>
    /// A face found on the reduced copy in full-resolution pixels: reduced pixel centre x covers source pixels
    /// [k·x, k·x + k), whose centre is k·x + (k − 1)/2.
    /// </summary>
    internal static DetectedFace Scale(DetectedFace face, int factor)
    {
        var shift = (factor - 1) / 2f;
        PointF P(PointF p) => new((p.X * factor) + shift, (p.Y * factor) + shift);
        var box = face.Box;
        return new DetectedFace(
            new RectangleF((box.X * factor) + shift, (box.Y * factor) + shift, box.Width * factor, box.Height * factor),
            [.. face.Landmarks.Select(P)],
            face.Score);
    }
}
