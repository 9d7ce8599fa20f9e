using System.Numerics;
using System.Runtime.InteropServices;
using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Likeness;

/// <summary>
/// Runs the face detector on a smaller copy of a large image. BlazeFace looks at the whole image through a 128×128 and a
/// 256×256 input, so a 1024×1536 candidate spent most of the detector's own time resizing 1.5 million pixels, twice. An
/// integer-factor box reduction to a long side of at most <see cref="MaxSide"/> reads the image once; the detector then
/// resamples the small copy into its inputs. The landmarks are
/// mapped back to full-resolution pixels, and the alignment warp samples the full-resolution image, so only the
/// detection sees the reduced copy.
/// </summary>
internal static class DetectionInput
{
    /// <summary>
    /// The long side the detector sees at most: the full-range model's input, so its whole-image pass (256×256) and the
    /// short-range one (128×128) see what they saw of the full image. The full-range model's tiles (only tried when the
    /// whole image shows no face) get no finer detail, so faces under about a tenth of the long side may be missed; a
    /// candidate portrait's face is far larger (bench <c>likeness</c>: 190 px of 1536).
    /// </summary>
    public const int MaxSide = 256;

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
    /// A copy with a long side of at most <see cref="MaxSide"/>, made in one box reduction by ⌈long side / MaxSide⌉, and
    /// that factor (1024×1536 → 171×256, factor 6); the image itself, factor 1, when it is no larger.
    /// </summary>
    internal static (Image<Rgb24> Image, int Factor) Shrink(Image<Rgb24> image)
    {
        var factor = Factor(image.Width, image.Height);
        return factor == 1 ? (image, 1) : (Reduce(image, factor), factor);
    }

    /// <summary>⌈long side / <see cref="MaxSide"/>⌉.</summary>
    internal static int Factor(int width, int height) => Math.Max(1, (Math.Max(width, height) + MaxSide - 1) / MaxSide);

    /// <summary>
    /// Each output pixel is the rounded mean of a <paramref name="factor"/>×<paramref name="factor"/> block (fewer pixels
    /// at the right and bottom edges). The block's rows are summed a vector of bytes at a time into 16-bit column sums,
    /// then each output pixel adds its columns.
    /// </summary>
    internal static Image<Rgb24> Reduce(Image<Rgb24> image, int factor)
    {
        // 16-bit column sums hold up to 257 rows of 255.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(factor, 257);
        var (width, height) = (image.Width, image.Height);
        var (outWidth, outHeight) = ((width + factor - 1) / factor, (height + factor - 1) / factor);
        var result = new Image<Rgb24>(outWidth, outHeight);
        try
        {
            var sums = new ushort[width * 3];
            image.ProcessPixelRows(result, (src, dst) =>
            {
                for (var oy = 0; oy < outHeight; oy++)
                {
                    Array.Clear(sums);
                    var y0 = oy * factor;
                    var rows = Math.Min(factor, height - y0);
                    for (var y = y0; y < y0 + rows; y++)
                    {
                        AddRow(MemoryMarshal.AsBytes(src.GetRowSpan(y)), sums);
                    }

                    var output = MemoryMarshal.AsBytes(dst.GetRowSpan(oy));
                    for (var ox = 0; ox < outWidth; ox++)
                    {
                        var (from, to) = (ox * factor * 3, Math.Min(((ox + 1) * factor), width) * 3);
                        int r = 0, g = 0, b = 0;
                        for (var i = from; i < to; i += 3)
                        {
                            r += sums[i];
                            g += sums[i + 1];
                            b += sums[i + 2];
                        }

                        var count = rows * ((to - from) / 3);
                        output[3 * ox] = RoundedMean(r, count);
                        output[(3 * ox) + 1] = RoundedMean(g, count);
                        output[(3 * ox) + 2] = RoundedMean(b, count);
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

    /// <summary><c>sums[i] += row[i]</c>, widening a vector of bytes at a time.</summary>
    private static void AddRow(ReadOnlySpan<byte> row, Span<ushort> sums)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var lanes = Vector<ushort>.Count;
            for (; i <= row.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                Vector.Widen(new Vector<byte>(row[i..]), out var low, out var high);
                (new Vector<ushort>(sums[i..]) + low).CopyTo(sums[i..]);
                (new Vector<ushort>(sums[(i + lanes)..]) + high).CopyTo(sums[(i + lanes)..]);
            }
        }

        for (; i < row.Length; i++)
        {
            sums[i] += row[i];
        }
    }

    /// <summary>round(sum / count), halves up, without an integer division per channel (a float estimate, corrected).</summary>
    private static byte RoundedMean(int sum, int count)
    {
        var n = sum + (count / 2);
        var q = (int)(n * (1f / count));
        if ((q + 1) * count <= n)
        {
            q++;
        }
        else if (q * count > n)
        {
            q--;
        }

        return (byte)q;
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
