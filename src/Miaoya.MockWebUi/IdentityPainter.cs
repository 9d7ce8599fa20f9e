using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi;

/// <summary>
/// The mock's stand-in for what an applied identity unit (FaceID, InstantID, PuLID) does to a render: the unit's reference
/// face (its image, or the average of its images) is blended into the face area, slightly moved, scaled and turned by the
/// seed and as strong as the unit's weight. So two seeds give two candidates, a face scorer finds the render nearer the
/// reference than a run without the unit, and the face stays a face. Renders without such a unit are not touched.
/// </summary>
internal static class IdentityPainter
{
    /// <summary>The reference square's side per face width: an aligned crop is the face ±15 % and some hair (EasyPhoto's).</summary>
    private const float Margin = 1.5f;

    /// <summary>
    /// Blends each applied identity unit's reference into <paramref name="output"/>. <paramref name="face"/> is the face box
    /// located before the repaint; with an inpaint <paramref name="mask"/> only masked pixels change, and the box is the
    /// face inside the mask's box (else the mask's box itself).
    /// </summary>
    public static void Apply(Image<Rgba32> output, RectangleF face, bool[]? mask, IEnumerable<ResolvedControl> controls, long seed)
    {
        var identities = controls.Where(c => IdentityCatalog.CarriesIdentity(c.Unit.Module.Name)).ToList();
        if (identities.Count == 0)
        {
            return;
        }

        var target = Target(face, mask, output.Width, output.Height);
        for (var i = 0; i < identities.Count; i++)
        {
            using var reference = Average(identities[i].Inputs);
            Blend(output, reference, target, mask, seed, i, identities[i].Unit.Weight);
        }
    }

    /// <summary>The square the reference goes into: centred on the face (within the mask's box when there is a mask).</summary>
    private static RectangleF Target(RectangleF face, bool[]? mask, int width, int height)
    {
        // a skin box taller than a face took in light hair above it (the astronaut's): the face ends at its bottom, the chin
        var centreY = face.Height > face.Width * 1.3f ? face.Bottom - (face.Width * 0.65f) : face.Y + (face.Height / 2);
        var centre = new PointF(face.X + (face.Width / 2), centreY);
        var side = face.Width * Margin;
        if (mask is not null && MaskBox(mask, width, height) is { } box && !box.Contains(centre))
        {
            centre = new PointF(box.X + (box.Width / 2), box.Y + (box.Height / 2));
            side = Math.Min(box.Width, box.Height);
        }

        return new RectangleF(centre.X - (side / 2), centre.Y - (side / 2), side, side);
    }

    private static RectangleF? MaskBox(bool[] mask, int width, int height)
    {
        int x0 = width, y0 = height, x1 = -1, y1 = -1;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if (mask[(y * width) + x])
                {
                    (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x), Math.Max(y1, y));
                }
            }
        }

        return x1 < 0 ? null : new RectangleF(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    }

    /// <summary>The pixel mean of the images, each resized to the first one's size (CN averages the embeddings, ImageEmbed.average_of).</summary>
    private static Image<Rgba32> Average(IReadOnlyList<Image<Rgba32>> images)
    {
        var first = images[0];
        if (images.Count == 1)
        {
            return first.Clone();
        }

        int w = first.Width, h = first.Height;
        var sum = new int[w * h * 3];
        foreach (var image in images)
        {
            using var sized = image.Width == w && image.Height == h ? image.Clone() : image.Clone(x => x.Resize(w, h));
            sized.ProcessPixelRows(acc =>
            {
                for (var y = 0; y < h; y++)
                {
                    var row = acc.GetRowSpan(y);
                    for (var x = 0; x < w; x++)
                    {
                        var k = ((y * w) + x) * 3;
                        sum[k] += row[x].R;
                        sum[k + 1] += row[x].G;
                        sum[k + 2] += row[x].B;
                    }
                }
            });
        }

        var n = images.Count;
        var result = new Image<Rgba32>(w, h);
        result.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = acc.GetRowSpan(y);
                for (var x = 0; x < w; x++)
                {
                    var k = ((y * w) + x) * 3;
                    row[x] = new Rgba32((byte)(sum[k] / n), (byte)(sum[k + 1] / n), (byte)(sum[k + 2] / n), 255);
                }
            }
        });
        return result;
    }

    /// <summary>
    /// Draws <paramref name="reference"/> into <paramref name="target"/> turned by up to ±6°, scaled by 0.92–1.08 and moved by up to
    /// ±4 % of the square (all from the seed), with an elliptical feathered edge; strength = weight × (0.8–1.05), at most 0.95.
    /// </summary>
    private static void Blend(Image<Rgba32> output, Image<Rgba32> reference, RectangleF target, bool[]? mask, long seed, int unitIndex, double weight)
    {
        var h = Painter.Hash("identity", ((ulong)seed * 0x9E3779B97F4A7C15UL) + (ulong)unitIndex);
        double U(int shift) => ((h >> shift) & 0xFFFF) / 65535.0;
        var angle = (U(0) - 0.5) * 12 * Math.PI / 180;
        var scale = 0.92 + (0.16 * U(16));
        var side = target.Width * scale;
        var cx = target.X + (target.Width / 2) + ((U(32) - 0.5) * 0.08 * target.Width);
        var cy = target.Y + (target.Height / 2) + ((U(48) - 0.5) * 0.08 * target.Height);
        var strength = Math.Clamp(weight * (0.8 + (0.25 * ((Painter.Hash("strength", h) & 0xFFFF) / 65535.0))), 0, 0.95);
        if (strength <= 0 || side < 2)
        {
            return;
        }

        var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
        var refPixels = new Rgba32[reference.Width * reference.Height];
        reference.CopyPixelDataTo(refPixels);
        int rw = reference.Width, rh = reference.Height, w = output.Width;
        var reach = side * 0.75;
        int y0 = Math.Max(0, (int)(cy - reach)), y1 = Math.Min(output.Height - 1, (int)(cy + reach));
        int x0 = Math.Max(0, (int)(cx - reach)), x1 = Math.Min(w - 1, (int)(cx + reach));
        output.ProcessPixelRows(acc =>
        {
            for (var y = y0; y <= y1; y++)
            {
                var row = acc.GetRowSpan(y);
                for (var x = x0; x <= x1; x++)
                {
                    if (mask is not null && !mask[(y * w) + x])
                    {
                        continue;
                    }

                    // output pixel → the reference square's unit coordinates (-0.5..0.5), turned back by the angle
                    var dx = (x + 0.5 - cx) / side;
                    var dy = (y + 0.5 - cy) / side;
                    var u = (dx * cos) + (dy * sin);
                    var v = (-dx * sin) + (dy * cos);
                    var e = Math.Sqrt((u * u / (0.46 * 0.46)) + (v * v / (0.5 * 0.5)));
                    if (e >= 1)
                    {
                        continue;
                    }

                    var a = strength * Math.Clamp((1 - e) / 0.3, 0, 1);
                    var sample = Bilinear(refPixels, rw, rh, (u + 0.5) * rw, (v + 0.5) * rh);
                    ref var p = ref row[x];
                    p = new Rgba32(Mix(p.R, sample.R, a), Mix(p.G, sample.G, a), Mix(p.B, sample.B, a), p.A);
                }
            }
        });
    }

    private static byte Mix(byte under, double over, double a) => (byte)Math.Clamp(Math.Round((under * (1 - a)) + (over * a)), 0, 255);

    private static (double R, double G, double B) Bilinear(Rgba32[] pixels, int w, int h, double fx, double fy)
    {
        fx = Math.Clamp(fx - 0.5, 0, w - 1);
        fy = Math.Clamp(fy - 0.5, 0, h - 1);
        int ix = (int)fx, iy = (int)fy;
        int jx = Math.Min(ix + 1, w - 1), jy = Math.Min(iy + 1, h - 1);
        double tx = fx - ix, ty = fy - iy;
        Rgba32 a = pixels[(iy * w) + ix], b = pixels[(iy * w) + jx], c = pixels[(jy * w) + ix], d = pixels[(jy * w) + jx];
        double L(byte p, byte q, byte r, byte s) => ((p * (1 - tx)) + (q * tx)) * (1 - ty) + (((r * (1 - tx)) + (s * tx)) * ty);
        return (L(a.R, b.R, c.R, d.R), L(a.G, b.G, c.G, d.G), L(a.B, b.B, c.B, d.B));
    }
}
