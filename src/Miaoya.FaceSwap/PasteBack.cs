using System.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.FaceSwap;

/// <summary>
/// Puts a swapped crop back into the target as insightface does (deepinsight/insightface v0.7
/// python-package/insightface/model_zoo/inswapper.py:57-104, INSwapper.get with paste_back), but in aligned space: only
/// target pixels inside the bounding box of the projected crop square are visited (everything else is untouched); each
/// samples the crop bilinearly at M·p and blends with a mask = (crop square eroded) ⊛ Gaussian, with insightface's
/// constants converted from image to crop pixels: mask_size = int(√(h·w)) of the projected square's bounding box,
/// erosion k = max(mask_size/10, 10) (k/2 per side), blur K = 2·max(mask_size/20, 5) + 1 with OpenCV's automatic
/// σ = 0.3·((K−1)/2 − 1) + 0.8 and kernel radius (K−1)/2. Because the blur radius never exceeds the erosion, the mask is
/// exactly 0 at the crop border, so there is no seam there. Blend in float, truncate (astype(uint8)).
/// Differences from insightface: the separable analytic mask is evaluated at the exact crop coordinate instead of being
/// eroded/blurred on the warped image, and the mask is also faded where the image edge clips the crop (OpenCV's erode
/// does not erode at the frame border).
/// </summary>
public static class PasteBack
{
    /// <summary>Blends <paramref name="fake"/> (the crop-space result) into <paramref name="target"/>; returns the region visited.</summary>
    public static Rectangle Apply(Image<Rgb24> target, Image<Rgb24> fake, Matrix3x2 imageToCrop)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(fake);
        if (fake.Width != fake.Height)
        {
            throw new ArgumentException($"the crop must be square, got {fake.Width}×{fake.Height}.", nameof(fake));
        }

        var size = fake.Width;
        var mask = PasteMask.For(imageToCrop, size);
        var region = Region(imageToCrop, size, target.Width, target.Height);
        var pixels = new Rgb24[size * size];
        fake.CopyPixelDataTo(pixels);
        target.ProcessPixelRows(rows =>
        {
            for (var y = region.Top; y < region.Bottom; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = region.Left; x < region.Right; x++)
                {
                    var q = Vector2.Transform(new Vector2(x, y), imageToCrop);
                    var a = mask.At(q.X, q.Y);
                    if (a <= 0f)
                    {
                        continue;
                    }

                    var f = SampleClamped(pixels, size, q.X, q.Y);
                    ref var p = ref row[x];
                    var inv = 1f - a;
                    p = new Rgb24(
                        (byte)Math.Clamp((a * f.X) + (inv * p.R), 0f, 255f),
                        (byte)Math.Clamp((a * f.Y) + (inv * p.G), 0f, 255f),
                        (byte)Math.Clamp((a * f.Z) + (inv * p.B), 0f, 255f));
                }
            }
        });
        return region;
    }

    /// <summary>The bounding box, in target pixels and clamped to the image, of the crop square [−0.5, size − 0.5]² projected back.</summary>
    public static Rectangle Region(Matrix3x2 imageToCrop, int size, int width, int height)
    {
        var inverse = FaceAlignment.Invert(imageToCrop);
        float minX = float.MaxValue, minY = float.MaxValue, maxX = float.MinValue, maxY = float.MinValue;
        foreach (var c in Corners(size - 0.5f, -0.5f))
        {
            var p = Vector2.Transform(c, inverse);
            (minX, minY, maxX, maxY) = (MathF.Min(minX, p.X), MathF.Min(minY, p.Y), MathF.Max(maxX, p.X), MathF.Max(maxY, p.Y));
        }

        var left = Math.Clamp((int)MathF.Floor(minX), 0, width);
        var top = Math.Clamp((int)MathF.Floor(minY), 0, height);
        var right = Math.Clamp((int)MathF.Ceiling(maxX) + 1, 0, width);
        var bottom = Math.Clamp((int)MathF.Ceiling(maxY) + 1, 0, height);
        return Rectangle.FromLTRB(left, top, Math.Max(left, right), Math.Max(top, bottom));
    }

    /// <summary>The blend mask in crop space (size×size, 0–255), for --dump.</summary>
    public static Image<L8> RenderMask(Matrix3x2 imageToCrop, int size = FaceAlignment.InswapperSize)
    {
        var mask = PasteMask.For(imageToCrop, size);
        var pixels = new L8[size * size];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                pixels[(y * size) + x] = new L8((byte)Math.Clamp((255f * mask.At(x, y)) + 0.5f, 0f, 255f));
            }
        }

        return Image.LoadPixelData<L8>(pixels, size, size);
    }

    internal static Vector2[] Corners(float hi, float lo) => [new(lo, lo), new(hi, lo), new(lo, hi), new(hi, hi)];

    private static Vector3 SampleClamped(Rgb24[] pixels, int size, float x, float y)
    {
        x = Math.Clamp(x, 0f, size - 1);
        y = Math.Clamp(y, 0f, size - 1);
        var x0 = Math.Min((int)x, size - 2);
        var y0 = Math.Min((int)y, size - 2);
        float fx = x - x0, fy = y - y0;
        var p00 = pixels[(y0 * size) + x0];
        var p10 = pixels[(y0 * size) + x0 + 1];
        var p01 = pixels[((y0 + 1) * size) + x0];
        var p11 = pixels[((y0 + 1) * size) + x0 + 1];
        float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        return new Vector3(
            (w00 * p00.R) + (w10 * p10.R) + (w01 * p01.R) + (w11 * p11.R),
            (w00 * p00.G) + (w10 * p10.G) + (w01 * p01.G) + (w11 * p11.G),
            (w00 * p00.B) + (w10 * p10.B) + (w01 * p01.B) + (w11 * p11.B));
    }
}

/// <summary>
/// The separable paste mask in crop coordinates: f(u)·f(v), f = box [lo, hi] ⊛ truncated Gaussian (σ, radius), with
/// lo = −0.5 + erosion, hi = size − 0.5 − erosion (see <see cref="PasteBack"/>). Tabulated at 1/16 crop pixel.
/// </summary>
internal sealed class PasteMask
{
    private const int Steps = 16;
    private readonly float[] _profile;
    private readonly float _origin;

    private PasteMask(int size, float erosion, float sigma, float radius, int maskSize)
    {
        Size = size;
        Erosion = erosion;
        Sigma = sigma;
        Radius = radius;
        MaskSize = maskSize;
        _origin = -1f;
        var n = ((size + 2) * Steps) + 1;
        _profile = new float[n];
        float lo = -0.5f + erosion, hi = size - 0.5f - erosion;
        for (var i = 0; i < n; i++)
        {
            var t = _origin + ((float)i / Steps);
            _profile[i] = MathF.Max(0f, TruncatedCdf(t - lo) - TruncatedCdf(t - hi));
        }
    }

    public int Size { get; }

    /// <summary>Erosion per side, crop pixels.</summary>
    public float Erosion { get; }

    /// <summary>Gaussian σ, crop pixels.</summary>
    public float Sigma { get; }

    /// <summary>Gaussian kernel radius, crop pixels.</summary>
    public float Radius { get; }

    /// <summary>insightface's mask_size, image pixels.</summary>
    public int MaskSize { get; }

    public static PasteMask For(Matrix3x2 imageToCrop, int size)
    {
        // inswapper.py:77-80: mask_size from the bounding box of the projected square (pixel centres 0 … size−1).
        var inverse = FaceAlignment.Invert(imageToCrop);
        float minX = float.MaxValue, minY = float.MaxValue, maxX = float.MinValue, maxY = float.MinValue;
        foreach (var c in PasteBack.Corners(size - 1, 0))
        {
            var p = Vector2.Transform(c, inverse);
            (minX, minY, maxX, maxY) = (MathF.Min(minX, p.X), MathF.Min(minY, p.Y), MathF.Max(maxX, p.X), MathF.Max(maxY, p.Y));
        }

        var maskSize = (int)MathF.Sqrt((maxX - minX) * (maxY - minY));
        var k = Math.Max(maskSize / 10, 10); // inswapper.py:81
        var k2 = Math.Max(maskSize / 20, 5); // inswapper.py:88-93: K = 2·k2 + 1
        var sigma = (0.3f * (k2 - 1)) + 0.8f; // OpenCV's automatic σ for K = 2·k2 + 1
        var s = FaceAlignment.Scale(imageToCrop); // crop pixels per image pixel
        return new PasteMask(size, k / 2f * s, sigma * s, k2 * s, maskSize);
    }

    /// <summary>Mask value at crop coordinates (u, v); 0 outside the square.</summary>
    public float At(float u, float v) => Profile(u) * Profile(v);

    public float Profile(float t)
    {
        var f = (t - _origin) * Steps;
        if (f <= 0 || f >= _profile.Length - 1)
        {
            return 0f;
        }

        var i = (int)f;
        var w = f - i;
        return (_profile[i] * (1 - w)) + (_profile[i + 1] * w);
    }

    /// <summary>CDF of a Gaussian truncated to [−radius, radius] (the discrete kernel's support), 0 below, 1 above.</summary>
    private float TruncatedCdf(float x)
    {
        if (x <= -Radius)
        {
            return 0f;
        }

        if (x >= Radius)
        {
            return 1f;
        }

        var low = Phi(-Radius / Sigma);
        var high = Phi(Radius / Sigma);
        return (float)((Phi(x / Sigma) - low) / (high - low));
    }

    private static double Phi(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    /// <summary>Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e−7).</summary>
    private static double Erf(double x)
    {
        var sign = Math.Sign(x);
        x = Math.Abs(x);
        var t = 1 / (1 + (0.3275911 * x));
        var poly = ((((((((1.061405429 * t) - 1.453152027) * t) + 1.421413741) * t) - 0.284496736) * t) + 0.254829592) * t;
        var y = 1 - (poly * Math.Exp(-x * x));
        return sign * y;
    }
}
