using Miaoya.Imaging;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp;

namespace Miaoya.IdPhoto;

/// <summary>Person mattes as files hold them.</summary>
public static class PersonMattes
{
    /// <summary>
    /// The matte in <paramref name="image"/> (255 = person): a cut-out (any pixel not opaque) by its alpha, a grey mask
    /// (rembg's <c>return_mask</c>, idphoto's <c>mask.png</c>) by its luminance.
    /// </summary>
    public static Image<L8> FromImage(Image<Rgba32> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var hasAlpha = false;
        image.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height && !hasAlpha; y++)
            {
                foreach (var p in acc.GetRowSpan(y))
                {
                    if (p.A != 255)
                    {
                        hasAlpha = true;
                        break;
                    }
                }
            }
        });
        var mask = new Image<L8>(image.Width, image.Height);
        image.ProcessPixelRows(mask, (src, dst) =>
        {
            for (var y = 0; y < src.Height; y++)
            {
                var s = src.GetRowSpan(y);
                var d = dst.GetRowSpan(y);
                for (var x = 0; x < s.Length; x++)
                {
                    var p = s[x];
                    d[x] = new L8(hasAlpha ? p.A : (byte)(((p.R * 77) + (p.G * 150) + (p.B * 29)) >> 8));
                }
            }
        });
        return mask;
    }
}

/// <summary>A person matte refined against the photo, and the photo with the old backdrop taken out of its soft edges.</summary>
internal sealed class RefinedMatte(Image<L8> matte, Image<Rgb24> person, int removedPixels, int decontaminatedPixels) : IDisposable
{
    /// <summary>The matte (255 = person) after the refinement.</summary>
    public Image<L8> Matte { get; } = matte;

    /// <summary>The photo with each soft edge pixel's colour replaced by its estimated foreground colour.</summary>
    public Image<Rgb24> Person { get; } = person;

    /// <summary>How many pixels the refinement moved from person to background (old backdrop inside the matte).</summary>
    public int RemovedPixels { get; } = removedPixels;

    /// <summary>How many soft edge pixels had the old backdrop's colour taken out.</summary>
    public int DecontaminatedPixels { get; } = decontaminatedPixels;

    public void Dispose()
    {
        Matte.Dispose();
        Person.Dispose();
    }
}

/// <summary>An ellipse the refinement leaves alone: the head (skull and the hair close to it), centre and semi-axes in pixels.</summary>
internal readonly record struct ProtectedEllipse(float CentreX, float CentreY, float RadiusX, float RadiusY)
{
    /// <summary>The head of a frame planned with <paramref name="plan"/>: on the eyes' vertical, crown to chin as planned, 0.8 head heights wide at the temples.</summary>
    public static ProtectedEllipse Head(CropPlan plan)
    {
        var headHeight = (float)(plan.HeadFraction * plan.Height);
        var top = (float)(plan.TopFraction * plan.Height);
        return new ProtectedEllipse(plan.OutputEyes.X, top + (headHeight / 2), 0.4f * headHeight, headHeight / 2);
    }

    /// <summary>Whether (x, y) is inside; below the centre the ellipse narrows to 3/4 of its width (jaw and chin, not the neck's sides).</summary>
    public bool Contains(int x, int y)
    {
        float dx = (x - CentreX) / (y > CentreY ? 0.75f * RadiusX : RadiusX), dy = (y - CentreY) / RadiusY;
        return (dx * dx) + (dy * dy) < 1;
    }
}

/// <summary>
/// Local matte work done before compositing (the separation itself is rembg's, on the box): the matte's edge is refined
/// against the photo's own colours, and soft edge pixels are decontaminated, so that neither a rim of the old backdrop
/// inside the matte (a halo around the hair, a wedge at the shoulder) nor the old backdrop's tint in the hair's soft
/// edge ends up on the new background.
/// </summary>
internal static class Matting
{
    /// <summary>Matte values at or below this are background (about 5 %).</summary>
    private const byte Background = 12;

    /// <summary>Old backdrop whose colours spread more than this (RMS ΔE76) around a pixel is too busy to refine against.</summary>
    private const float MaxBackdropSpread = 10;

    /// <summary>
    /// Refines <paramref name="matte"/> (255 = person, from rembg) for <paramref name="photo"/>:
    /// <list type="number">
    /// <item>The old backdrop's colour near a pixel is the mean of the photo where the matte says background, in the
    /// smallest square window around the pixel that reaches the background and 1.5 % of the height beyond it, with its
    /// RMS spread (a busy backdrop, such as a flag or a shelf, is left alone).</item>
    /// <item>Matte pixels within 8 % of the height of the background whose colour matches that backdrop (ΔE76 within
    /// 6 + 1.5 × the spread) and that touch the background through such pixels are the old backdrop wrongly kept: they
    /// become background. Only connected pixels go, so a white collar inside the person stays; the head itself
    /// (<paramref name="protectedHead"/>) is never touched, so light hair on a light backdrop is not eaten.</item>
    /// <item>Pixels along the new edge get a soft value from how far their colour is from the backdrop, as a matting
    /// model would give.</item>
    /// <item>Every soft pixel (0 &lt; α &lt; 1) with a calm backdrop near it is decontaminated: its colour
    /// I = α·F + (1 − α)·B is solved for the foreground colour F, so the compositing blends the person's colour, not
    /// the old backdrop's, into the new one.</item>
    /// </list>
    /// </summary>
    public static RefinedMatte Refine(Image<Rgb24> photo, Image<L8> matte, ProtectedEllipse? protectedHead = null)
    {
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(matte);
        var (w, h) = (photo.Width, photo.Height);
        if (matte.Width != w || matte.Height != h)
        {
            throw new ArgumentException($"matte {matte.Width}×{matte.Height} does not match the photo {w}×{h}.", nameof(matte));
        }

        var n = w * h;
        var pixels = new Rgb24[n];
        photo.CopyPixelDataTo(pixels);
        var alpha = new byte[n];
        matte.CopyPixelDataTo(alpha);
        var lab = new float[n * 3];
        for (var i = 0; i < n; i++)
        {
            var c = Lab.FromRgb(pixels[i].R, pixels[i].G, pixels[i].B);
            (lab[i * 3], lab[(i * 3) + 1], lab[(i * 3) + 2]) = ((float)c.L, (float)c.A, (float)c.B);
        }

        var band = Math.Max(6, (int)Math.Round(h * 0.08));
        var margin = Math.Max(3, (int)Math.Round(h * 0.015));
        var distance = DistanceTo(alpha, w, h, a => a <= Background);
        var backdrop = new Backdrop(pixels, lab, alpha, w, h);
        Backdrop.Estimate Near(int i) => backdrop.Around(i % w, i / w, (int)MathF.Ceiling(Math.Min(distance[i], band)) + margin);

        bool LooksLikeBackdrop(int i, out Backdrop.Estimate estimate)
        {
            estimate = default;
            var (x, y) = (i % w, i / w);
            if (distance[i] > band || protectedHead is { } head && head.Contains(x, y))
            {
                return false;
            }

            estimate = Near(i);
            return estimate.Known && estimate.Spread <= MaxBackdropSpread && Delta76(lab, i, estimate) <= Tolerance(estimate);
        }

        // 1. Flood from the background into the matte through pixels that look like the backdrop near them.
        var removed = new bool[n];
        var queue = new Queue<int>();
        for (var i = 0; i < n; i++)
        {
            if (alpha[i] <= Background)
            {
                queue.Enqueue(i);
            }
        }

        var removedCount = 0;
        while (queue.Count > 0)
        {
            var i = queue.Dequeue();
            var (x, y) = (i % w, i / w);
            for (var dy = -1; dy <= 1; dy++)
            {
                for (var dx = -1; dx <= 1; dx++)
                {
                    int nx = x + dx, ny = y + dy;
                    if ((dx | dy) == 0 || nx < 0 || ny < 0 || nx >= w || ny >= h)
                    {
                        continue;
                    }

                    var j = (ny * w) + nx;
                    if (alpha[j] > Background && !removed[j] && LooksLikeBackdrop(j, out _))
                    {
                        removed[j] = true;
                        removedCount++;
                        queue.Enqueue(j);
                    }
                }
            }
        }

        // 2. The new alpha: removed pixels are background; pixels on the new edge get a soft value from their colour.
        var refined = new byte[n];
        for (var i = 0; i < n; i++)
        {
            if (removed[i])
            {
                continue;
            }

            var a = alpha[i];
            if (removedCount > 0 && a > Background && TouchesRemoved(removed, i, w, h) && Near(i) is { Known: true } near)
            {
                var t = Tolerance(near);
                var estimate = Math.Clamp((Delta76(lab, i, near) - (t / 2)) / (1.5f * t), 0f, 1f);
                a = (byte)Math.Min(a, (int)Math.Round(estimate * 255));
            }

            refined[i] = a;
        }

        // Islands the flood cut off from the person (a dark fleck of the old backdrop, a strand's end) go too.
        if (removedCount > 0)
        {
            removedCount += RemoveIslands(refined, w, h, minKeep: n / 100);
        }

        // 3. Decontaminate soft pixels: F = (I − (1 − α)·B) / α, with α held at 0.2 or more so noise is not amplified.
        var person = new Rgb24[n];
        Array.Copy(pixels, person, n);
        var decontaminated = 0;
        for (var i = 0; i < n; i++)
        {
            var a = refined[i];
            if (a is 0 or 255 || Near(i) is not { Known: true } near || near.Spread > 1.5f * MaxBackdropSpread)
            {
                continue;
            }

            var f = Math.Max(a / 255f, 0.2f);
            var p = pixels[i];
            person[i] = new Rgb24(Solve(p.R, near.R, f), Solve(p.G, near.G, f), Solve(p.B, near.Bl, f));
            decontaminated++;
        }

        return new RefinedMatte(Image.LoadPixelData<L8>(refined.Select(v => new L8(v)).ToArray(), w, h), Image.LoadPixelData<Rgb24>(person, w, h), removedCount, decontaminated);
    }

    /// <summary>
    /// Clears every 8-connected part of the matte (values above <see cref="Background"/>) but the largest and those of at
    /// least <paramref name="minKeep"/> pixels; returns how many pixels it cleared.
    /// </summary>
    private static int RemoveIslands(byte[] alpha, int w, int h, int minKeep)
    {
        var label = new int[alpha.Length];
        var sizes = new List<int> { 0 };
        var stack = new Stack<int>();
        for (var start = 0; start < alpha.Length; start++)
        {
            if (alpha[start] <= Background || label[start] != 0)
            {
                continue;
            }

            var id = sizes.Count;
            var size = 0;
            label[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var i = stack.Pop();
                size++;
                var (x, y) = (i % w, i / w);
                for (var dy = -1; dy <= 1; dy++)
                {
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx, ny = y + dy;
                        if (nx >= 0 && ny >= 0 && nx < w && ny < h && alpha[(ny * w) + nx] > Background && label[(ny * w) + nx] == 0)
                        {
                            label[(ny * w) + nx] = id;
                            stack.Push((ny * w) + nx);
                        }
                    }
                }
            }

            sizes.Add(size);
        }

        var largest = sizes.Max();
        var cleared = 0;
        for (var i = 0; i < alpha.Length; i++)
        {
            if (label[i] != 0 && sizes[label[i]] < largest && sizes[label[i]] < minKeep)
            {
                alpha[i] = 0;
                cleared++;
            }
        }

        return cleared;
    }

    private static float Tolerance(Backdrop.Estimate backdrop) => 6 + (1.5f * backdrop.Spread);

    /// <summary>
    /// The distance in pixels (3-4 chamfer, within 8 % of Euclidean) from every pixel to the nearest pixel whose matte value
    /// satisfies <paramref name="inside"/>; 0 on those pixels, <see cref="float.MaxValue"/> when there is none.
    /// </summary>
    public static float[] DistanceTo(byte[] alpha, int w, int h, Func<byte, bool> inside)
    {
        const int Far = int.MaxValue / 4;
        var d = new int[w * h];
        for (var i = 0; i < d.Length; i++)
        {
            d[i] = inside(alpha[i]) ? 0 : Far;
        }

        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var i = (y * w) + x;
                var v = d[i];
                if (x > 0) { v = Math.Min(v, d[i - 1] + 3); }
                if (y > 0)
                {
                    v = Math.Min(v, d[i - w] + 3);
                    if (x > 0) { v = Math.Min(v, d[i - w - 1] + 4); }
                    if (x < w - 1) { v = Math.Min(v, d[i - w + 1] + 4); }
                }

                d[i] = v;
            }
        }

        for (var y = h - 1; y >= 0; y--)
        {
            for (var x = w - 1; x >= 0; x--)
            {
                var i = (y * w) + x;
                var v = d[i];
                if (x < w - 1) { v = Math.Min(v, d[i + 1] + 3); }
                if (y < h - 1)
                {
                    v = Math.Min(v, d[i + w] + 3);
                    if (x < w - 1) { v = Math.Min(v, d[i + w + 1] + 4); }
                    if (x > 0) { v = Math.Min(v, d[i + w - 1] + 4); }
                }

                d[i] = v;
            }
        }

        var result = new float[d.Length];
        for (var i = 0; i < d.Length; i++)
        {
            result[i] = d[i] >= Far ? float.MaxValue : d[i] / 3f;
        }

        return result;
    }

    private static byte Solve(byte observed, float backdrop, float alpha) =>
        (byte)Math.Clamp((int)Math.Round((observed - ((1 - alpha) * backdrop)) / alpha), 0, 255);

    private static float Delta76(float[] lab, int i, Backdrop.Estimate backdrop)
    {
        float dl = lab[i * 3] - backdrop.L, da = lab[(i * 3) + 1] - backdrop.A, db = lab[(i * 3) + 2] - backdrop.B;
        return MathF.Sqrt((dl * dl) + (da * da) + (db * db));
    }

    private static bool TouchesRemoved(bool[] removed, int i, int w, int h)
    {
        var (x, y) = (i % w, i / w);
        for (var dy = -1; dy <= 1; dy++)
        {
            for (var dx = -1; dx <= 1; dx++)
            {
                int nx = x + dx, ny = y + dy;
                if (nx >= 0 && ny >= 0 && nx < w && ny < h && removed[(ny * w) + nx])
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Summed-area tables over the background pixels (count, L, a, b, L²+a²+b², R, G, B): any window's mean and spread in O(1).</summary>
    private sealed class Backdrop
    {
        private const int Channels = 8;
        private readonly double[] _sums;
        private readonly int _w;
        private readonly int _h;

        public Backdrop(Rgb24[] pixels, float[] lab, byte[] alpha, int w, int h)
        {
            (_w, _h) = (w, h);
            var stride = w + 1;
            _sums = new double[(h + 1) * stride * Channels];
            var rowTotals = new double[Channels];
            for (var y = 0; y < h; y++)
            {
                Array.Clear(rowTotals);
                for (var x = 0; x < w; x++)
                {
                    var i = (y * w) + x;
                    if (alpha[i] <= Background)
                    {
                        float l = lab[i * 3], a = lab[(i * 3) + 1], b = lab[(i * 3) + 2];
                        rowTotals[0] += 1;
                        rowTotals[1] += l;
                        rowTotals[2] += a;
                        rowTotals[3] += b;
                        rowTotals[4] += (l * l) + (a * a) + (b * b);
                        rowTotals[5] += pixels[i].R;
                        rowTotals[6] += pixels[i].G;
                        rowTotals[7] += pixels[i].B;
                    }

                    var at = (((y + 1) * stride) + x + 1) * Channels;
                    var above = ((y * stride) + x + 1) * Channels;
                    for (var c = 0; c < Channels; c++)
                    {
                        _sums[at + c] = _sums[above + c] + rowTotals[c];
                    }
                }
            }
        }

        /// <summary>The background pixels in the square of <paramref name="radius"/> around (x, y); unknown when fewer than 10.</summary>
        public Estimate Around(int x, int y, int radius)
        {
            int y0 = Math.Max(0, y - radius), y1 = Math.Min(_h, y + radius + 1), x0 = Math.Max(0, x - radius), x1 = Math.Min(_w, x + radius + 1);
            var stride = _w + 1;
            Span<double> window = stackalloc double[Channels];
            for (var c = 0; c < Channels; c++)
            {
                window[c] = _sums[(((y1 * stride) + x1) * Channels) + c] - _sums[(((y0 * stride) + x1) * Channels) + c]
                    - _sums[(((y1 * stride) + x0) * Channels) + c] + _sums[(((y0 * stride) + x0) * Channels) + c];
            }

            var count = window[0];
            if (count < 10)
            {
                return default;
            }

            double l = window[1] / count, a = window[2] / count, b = window[3] / count;
            var spread = Math.Sqrt(Math.Max(0, (window[4] / count) - ((l * l) + (a * a) + (b * b))));
            return new Estimate(true, (float)l, (float)a, (float)b, (float)(window[5] / count), (float)(window[6] / count), (float)(window[7] / count), (float)spread);
        }

        /// <summary>The backdrop near a pixel: mean Lab and RGB, and the RMS spread (ΔE76) of its colours.</summary>
        public readonly record struct Estimate(bool Known, float L, float A, float B, float R, float G, float Bl, float Spread);
    }
}
