using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline;

/// <summary>
/// The geometry the finishing passes share: the face of the run (found on the template) in another image's pixels, a
/// square region around it, and blending a processed region back through a soft face mask.
/// </summary>
internal static class FaceRegion
{
    /// <summary>Why a finishing pass is skipped when the run knows no face (a mask file on a template where no face was found).</summary>
    public const string NoFace = "no face is known for this run (the mask came from a file and no face was found on the template)";

    /// <summary>
    /// The run's face (template pixels) in an image of <paramref name="width"/> × <paramref name="height"/> made from the
    /// template; null when the run knows no face.
    /// </summary>
    public static DetectedFace? In(RunContext run, int width, int height) =>
        run.Face is { } face ? In(run, face, width, height) : null;

    /// <summary><paramref name="face"/> (template pixels, e.g. one person's) in an image of <paramref name="width"/> × <paramref name="height"/> made from the template.</summary>
    public static DetectedFace In(RunContext run, DetectedFace face, int width, int height)
    {
        var (tw, th) = run.TemplateSize;
        return Scale(face, width / (float)tw, height / (float)th);
    }

    /// <summary>
    /// A square around the face box, <paramref name="padding"/> of its longer side on each side, moved (not cut) to lie
    /// inside the image; as large as the image's shorter side at most.
    /// </summary>
    public static Rectangle SquareAround(RectangleF box, double padding, int width, int height)
    {
        var side = (int)Math.Round(Math.Max(box.Width, box.Height) * (1 + (2 * padding)));
        side = Math.Clamp(side, 8, Math.Min(width, height));
        var x = (int)Math.Round(box.X + (box.Width / 2) - (side / 2.0));
        var y = (int)Math.Round(box.Y + (box.Height / 2) - (side / 2.0));
        return new Rectangle(Math.Clamp(x, 0, width - side), Math.Clamp(y, 0, height - side), side, side);
    }

    /// <summary><paramref name="face"/> in the coordinates of <paramref name="region"/> scaled to <paramref name="side"/> pixels.</summary>
    public static DetectedFace InRegion(DetectedFace face, Rectangle region, int side)
    {
        var s = side / (float)region.Width;
        var moved = face with
        {
            Box = new RectangleF(face.Box.X - region.X, face.Box.Y - region.Y, face.Box.Width, face.Box.Height),
            Landmarks = face.Landmarks.Select(p => new PointF(p.X - region.X, p.Y - region.Y)).ToArray(),
        };
        return s == 1f ? moved : Scale(moved, s, s);
    }

    /// <summary>
    /// Blends <paramref name="patch"/> (any size; resized to <paramref name="region"/>) over <paramref name="image"/> at
    /// <paramref name="region"/>, weighted by <paramref name="mask"/> (the region's size, 255 = all patch) times <paramref name="strength"/>.
    /// </summary>
    public static void BlendInto(Image<Rgb24> image, Image<Rgb24> patch, Rectangle region, Image<L8> mask, double strength)
    {
        using var fitted = patch.Width == region.Width && patch.Height == region.Height
            ? patch.Clone()
            : patch.Clone(c => c.Resize(region.Width, region.Height, KnownResamplers.Lanczos3));
        var k = (float)Math.Clamp(strength, 0, 1) / 255f;
        image.ProcessPixelRows(fitted, (target, source) =>
        {
            for (var y = 0; y < region.Height; y++)
            {
                var t = target.GetRowSpan(region.Y + y).Slice(region.X, region.Width);
                var s = source.GetRowSpan(y);
                for (var x = 0; x < region.Width; x++)
                {
                    var a = mask[x, y].PackedValue * k;
                    if (a <= 0)
                    {
                        continue;
                    }

                    t[x] = new Rgb24(Mix(t[x].R, s[x].R, a), Mix(t[x].G, s[x].G, a), Mix(t[x].B, s[x].B, a));
                }
            }
        });
    }

    private static byte Mix(byte from, byte to, float a) => (byte)Math.Clamp(MathF.Round(from + ((to - from) * a)), 0, 255);

    private static DetectedFace Scale(DetectedFace face, float sx, float sy) => (sx == 1f && sy == 1f) ? face : face with
    {
        Box = new RectangleF(face.Box.X * sx, face.Box.Y * sy, face.Box.Width * sx, face.Box.Height * sy),
        Landmarks = face.Landmarks.Select(p => new PointF(p.X * sx, p.Y * sy)).ToArray(),
    };
}
