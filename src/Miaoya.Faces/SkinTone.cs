using System.Numerics;
using Miaoya.Imaging;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp;

namespace Miaoya.Faces;

/// <summary>Mean face-skin and neck-skin colours and their CIEDE2000 difference.</summary>
/// <param name="Face">Mean CIELAB over both cheek patches.</param>
/// <param name="Neck">Mean CIELAB over the neck patch.</param>
/// <param name="DeltaE">CIEDE2000 (k = 1) between <paramref name="Face"/> and <paramref name="Neck"/>.</param>
public sealed record SkinToneMeasurement(Lab Face, Lab Neck, double DeltaE);

/// <summary>Does the face's skin match the body's? (the V2 "new face matches the body" check)</summary>
public static class SkinTone
{
    /// <summary>Patch half-size, in face sizes (a patch is 0.12 face sizes square).</summary>
    internal const float PatchHalf = 0.06f;

    /// <summary>Neck patch centre below the chin, in face sizes.</summary>
    internal const float NeckBelowChin = 0.3f;

    /// <summary>Minimum pixels a patch needs inside the image.</summary>
    private const int MinPixels = 4;

    /// <summary>
    /// Mean CIELAB (sRGB, D65; the mean of per-pixel Lab values) over two cheek patches — below each eye, 55 % of the
    /// way down to the mouth, clear of eyes and nose — and over a neck patch 0.3 face sizes below the chin (patches rotate
    /// with the eye line), and ΔE as CIEDE2000 (<see cref="Lab.DeltaE2000"/>). Throws <see cref="ArgumentException"/>
    /// when a patch lies outside the image (e.g. the neck is cut off).
    /// </summary>
    public static SkinToneMeasurement Measure(Image<Rgb24> image, DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(image);
        var frame = FaceFrame.From(face);
        var (cheek0, cheek1, neck) = Patches(face, frame);
        var half = PatchHalf * frame.Size;

        var cheeks = default(LabSum);
        cheeks.Add(SamplePatch(image, frame, cheek0, half, half));
        cheeks.Add(SamplePatch(image, frame, cheek1, half, half));
        var neckSum = SamplePatch(image, frame, neck, 2 * half, half);
        if (cheeks.Count < 2 * MinPixels)
        {
            throw new ArgumentException($"the cheeks of the face at {face.Box} lie outside the {image.Width}×{image.Height} image.", nameof(face));
        }

        if (neckSum.Count < MinPixels)
        {
            throw new ArgumentException($"the neck below the face at {face.Box} lies outside the {image.Width}×{image.Height} image.", nameof(face));
        }

        var faceLab = cheeks.Mean;
        var neckLab = neckSum.Mean;
        return new SkinToneMeasurement(faceLab, neckLab, Lab.DeltaE2000(faceLab, neckLab));
    }

    /// <summary>Centres of the right-cheek, left-cheek and neck patches, in image pixels.</summary>
    internal static (Vector2 Cheek0, Vector2 Cheek1, Vector2 Neck) Patches(DetectedFace face, FaceFrame frame)
    {
        var e0 = FaceFrame.V(face.RightEye);
        var e1 = FaceFrame.V(face.LeftEye);
        var eyesToMouth = frame.ToFace(FaceFrame.V(face.Mouth)).Y - frame.ToFace((e0 + e1) / 2).Y;
        var drop = frame.Down * (0.55f * eyesToMouth);
        return (e0 + drop, e1 + drop, frame.Chin + (frame.Down * (NeckBelowChin * frame.Size)));
    }

    private static LabSum SamplePatch(Image<Rgb24> image, FaceFrame frame, Vector2 centre, float halfAcross, float halfDown)
    {
        // Bounding box of the rotated patch, clipped to the image; pixels whose centres fall inside the patch count.
        var extentX = (MathF.Abs(frame.Across.X) * halfAcross) + (MathF.Abs(frame.Down.X) * halfDown);
        var extentY = (MathF.Abs(frame.Across.Y) * halfAcross) + (MathF.Abs(frame.Down.Y) * halfDown);
        var x0 = Math.Max(0, (int)MathF.Floor(centre.X - extentX));
        var x1 = Math.Min(image.Width - 1, (int)MathF.Ceiling(centre.X + extentX));
        var y0 = Math.Max(0, (int)MathF.Floor(centre.Y - extentY));
        var y1 = Math.Min(image.Height - 1, (int)MathF.Ceiling(centre.Y + extentY));
        var sum = default(LabSum);
        if (x0 > x1 || y0 > y1)
        {
            return sum;
        }

        image.ProcessPixelRows(rows =>
        {
            for (var y = y0; y <= y1; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = x0; x <= x1; x++)
                {
                    var q = new Vector2(x + 0.5f, y + 0.5f) - centre;
                    if (MathF.Abs(Vector2.Dot(q, frame.Across)) > halfAcross || MathF.Abs(Vector2.Dot(q, frame.Down)) > halfDown)
                    {
                        continue;
                    }

                    var p = row[x];
                    sum.Add(Lab.FromRgb(p.R, p.G, p.B));
                }
            }
        });
        return sum;
    }

    private struct LabSum
    {
        private double _l, _a, _b;

        public int Count { get; private set; }

        public readonly Lab Mean => new(_l / Count, _a / Count, _b / Count);

        public void Add(Lab lab)
        {
            _l += lab.L;
            _a += lab.A;
            _b += lab.B;
            Count++;
        }

        public void Add(LabSum other)
        {
            _l += other._l;
            _a += other._a;
            _b += other._b;
            Count += other.Count;
        }
    }
}
