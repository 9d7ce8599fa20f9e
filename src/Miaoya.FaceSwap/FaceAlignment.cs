using System.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.FaceSwap;

/// <summary>
/// insightface's face alignment (deepinsight/insightface v0.7 python-package/insightface/utils/face_align.py,
/// estimate_norm and norm_crop): a 4-DOF similarity (rotation, uniform scale, translation; no shear,
/// no reflection) from five key points to the ArcFace template, and the crop warp.
/// <para>
/// Matrix convention: a <see cref="Matrix3x2"/> maps IMAGE → CROP pixel coordinates with
/// <see cref="Vector2.Transform(Vector2, Matrix3x2)"/> (row vector). insightface's 2×3 <c>M = [[a,b,c],[d,e,f]]</c> is
/// <c>new Matrix3x2(a, d, b, e, c, f)</c>, because Vector2.Transform computes x' = x·M11 + y·M21 + M31 and
/// y' = x·M12 + y·M22 + M32. Pixel centres are at integer coordinates, as in OpenCV.
/// </para>
/// </summary>
public static class FaceAlignment
{
    /// <summary>ArcFace size.</summary>
    public const int ArcFaceSize = 112;

    /// <summary>inswapper crop size.</summary>
    public const int InswapperSize = 128;

    /// <summary><c>arcface_dst</c> for 112×112, insightface order (face_align.py:6-9).</summary>
    public static IReadOnlyList<PointF> ArcFaceTemplate112 { get; } =
    [
        new(38.2946f, 51.6963f), new(73.5318f, 51.5014f), new(56.0252f, 71.7366f), new(41.5493f, 92.3655f), new(70.7299f, 92.2041f),
    ];

    /// <summary>
    /// insightface's <c>estimate_norm</c> destination for a square crop of <paramref name="size"/>
    /// (face_align.py:11-21): multiples of 112 scale arcface_dst by size/112; otherwise multiples of 128 scale it by
    /// size/128 and shift it right by 8·size/128 — so 128 is arcface_dst + (8, 0), NOT a 128/112 rescale.
    /// </summary>
    public static PointF[] Template(int size)
    {
        float ratio, shift;
        if (size > 0 && size % 112 == 0)
        {
            (ratio, shift) = (size / 112f, 0f);
        }
        else if (size > 0 && size % 128 == 0)
        {
            (ratio, shift) = (size / 128f, 8f * (size / 128f));
        }
        else
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "crop size must be a multiple of 112 or 128 (insightface estimate_norm).");
        }

        return [.. ArcFaceTemplate112.Select(p => new PointF((p.X * ratio) + shift, p.Y * ratio))];
    }

    /// <summary>The image → crop similarity for a crop of <paramref name="size"/> (112 for ArcFace, 128 for inswapper).</summary>
    public static Matrix3x2 EstimateNorm(Face5 face, int size) => EstimateSimilarity(face.ToArray(), Template(size));

    /// <summary>
    /// Least-squares similarity (Umeyama with scaling, no reflection) mapping <paramref name="from"/> onto
    /// <paramref name="to"/>, in closed form (identical for non-degenerate input to skimage's
    /// SimilarityTransform.estimate, which face_align.py:22-24 calls: scikit-image skimage/transform/_geometric.py,
    /// _umeyama). Computed in double.
    /// </summary>
    public static Matrix3x2 EstimateSimilarity(ReadOnlySpan<PointF> from, ReadOnlySpan<PointF> to)
    {
        if (from.Length != to.Length || from.Length < 2)
        {
            throw new ArgumentException($"need the same number (≥ 2) of points, got {from.Length} and {to.Length}.", nameof(to));
        }

        double mpx = 0, mpy = 0, mqx = 0, mqy = 0;
        for (var i = 0; i < from.Length; i++)
        {
            mpx += from[i].X;
            mpy += from[i].Y;
            mqx += to[i].X;
            mqy += to[i].Y;
        }

        var n = from.Length;
        (mpx, mpy, mqx, mqy) = (mpx / n, mpy / n, mqx / n, mqy / n);
        double variance = 0, c = 0, s = 0;
        for (var i = 0; i < n; i++)
        {
            double ax = from[i].X - mpx, ay = from[i].Y - mpy, bx = to[i].X - mqx, by = to[i].Y - mqy;
            variance += (ax * ax) + (ay * ay);
            c += (ax * bx) + (ay * by);
            s += (ax * by) - (ay * bx);
        }

        if (variance < 1e-12)
        {
            throw new ArgumentException("the source points coincide; no similarity transform exists.", nameof(from));
        }

        double a = c / variance, b = s / variance;
        var tx = mqx - ((a * mpx) - (b * mpy));
        var ty = mqy - ((b * mpx) + (a * mpy));

        // M = [[a, −b, tx], [b, a, ty]] → Matrix3x2(M11=a, M12=b, M21=−b, M22=a, M31=tx, M32=ty).
        return new Matrix3x2((float)a, (float)b, (float)-b, (float)a, (float)tx, (float)ty);
    }

    /// <summary>The inverse transform (crop → image), like <c>cv2.invertAffineTransform</c>.</summary>
    public static Matrix3x2 Invert(Matrix3x2 matrix) =>
        Matrix3x2.Invert(matrix, out var inverse) ? inverse : throw new ArgumentException("the transform is singular.", nameof(matrix));

    /// <summary>Crop pixels per image pixel of a similarity (its uniform scale).</summary>
    public static float Scale(Matrix3x2 matrix) => MathF.Sqrt(MathF.Abs(matrix.GetDeterminant()));

    /// <summary>
    /// <c>cv2.warpAffine(image, M, (size, size), borderValue=0)</c> (face_align.py:27-35, norm_crop and norm_crop2):
    /// crop pixel (x, y) samples the image at M⁻¹·(x, y) bilinearly; taps outside the image count as black. Differences
    /// from OpenCV: float weights (OpenCV quantises them to 1/32 pixel) and rounding to nearest — at most about 1 LSB
    /// apart. Only the crop's pixels are computed, so the cost does not depend on the image size (ImageSharp's affine
    /// transform sizes its sampling radius from the whole source against the destination: SixLabors/ImageSharp v2.1.13
    /// src/ImageSharp/Processing/Processors/Transforms/Linear/LinearTransformUtility.cs:23, GetSamplingRadius).
    /// </summary>
    public static Image<Rgb24> Warp(Image<Rgb24> image, Matrix3x2 imageToCrop, int size)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        var inverse = Invert(imageToCrop);
        var crop = new Image<Rgb24>(size, size);
        try
        {
            image.ProcessPixelRows(crop, (src, dst) =>
            {
                for (var y = 0; y < size; y++)
                {
                    var row = dst.GetRowSpan(y);
                    for (var x = 0; x < size; x++)
                    {
                        var p = Vector2.Transform(new Vector2(x, y), inverse);
                        row[x] = SampleBilinear(src, p.X, p.Y);
                    }
                }
            });
            return crop;
        }
        catch
        {
            crop.Dispose();
            throw;
        }
    }

    /// <summary>Bilinear sample with a black border, rounded to nearest.</summary>
    internal static Rgb24 SampleBilinear(SixLabors.ImageSharp.PixelAccessor<Rgb24> src, float x, float y)
    {
        var x0 = (int)MathF.Floor(x);
        var y0 = (int)MathF.Floor(y);
        if (x0 < -1 || y0 < -1 || x0 >= src.Width || y0 >= src.Height)
        {
            return default;
        }

        float fx = x - x0, fy = y - y0;
        float r = 0, g = 0, b = 0;
        Accumulate(src, x0, y0, (1 - fx) * (1 - fy), ref r, ref g, ref b);
        Accumulate(src, x0 + 1, y0, fx * (1 - fy), ref r, ref g, ref b);
        Accumulate(src, x0, y0 + 1, (1 - fx) * fy, ref r, ref g, ref b);
        Accumulate(src, x0 + 1, y0 + 1, fx * fy, ref r, ref g, ref b);
        return new Rgb24(ToByte(r), ToByte(g), ToByte(b));

        static void Accumulate(SixLabors.ImageSharp.PixelAccessor<Rgb24> s, int px, int py, float w, ref float r, ref float g, ref float b)
        {
            if (w == 0 || px < 0 || py < 0 || px >= s.Width || py >= s.Height)
            {
                return;
            }

            var p = s.GetRowSpan(py)[px];
            r += w * p.R;
            g += w * p.G;
            b += w * p.B;
        }
    }

    internal static byte ToByte(float v) => (byte)Math.Clamp(v + 0.5f, 0f, 255f);
}
