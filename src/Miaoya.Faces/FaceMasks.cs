using System.Numerics;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Faces;

/// <summary>What a face mask covers.</summary>
public enum FaceMaskKind
{
    /// <summary>An ellipse around the face, forehead to chin.</summary>
    Face,

    /// <summary>The face ellipse plus the neck below the jaw, down to the collar.</summary>
    FaceAndNeck,
}

/// <summary>Settings of <see cref="FaceMasks"/>. Lengths are fractions of <see cref="DetectedFace.Size"/>, so masks scale with the face.</summary>
public sealed record FaceMaskOptions
{
    /// <summary>What to cover.</summary>
    public FaceMaskKind Kind { get; init; } = FaceMaskKind.Face;

    /// <summary>Extra margin on each side, as a fraction of the face size.</summary>
    public float Grow { get; init; } = 0.15f;

    /// <summary>Width of the soft edge (linear ramp centred on the rim), as a fraction of the face size; 0 = hard edge.</summary>
    public float FeatherFraction { get; init; } = 0.08f;

    /// <summary>For <see cref="FaceMaskKind.FaceAndNeck"/>: how far the neck reaches below the chin, in face heights.</summary>
    public float NeckLength { get; init; } = 1.0f;

    internal void Validate()
    {
        if (!(Grow >= 0) || !(FeatherFraction >= 0) || !(NeckLength >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(FaceMaskOptions), this, "Grow, FeatherFraction and NeckLength must be ≥ 0.");
        }

        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(FaceMaskOptions), Kind, "unknown mask kind.");
        }
    }
}

/// <summary>Inpaint masks around a detected face. White (255) = repaint, black (0) = keep.</summary>
public static class FaceMasks
{
    /// <summary>Neck half-width as a fraction of the face ellipse's half-width (about the jaw's width).</summary>
    internal const float NeckWidthRatio = 0.72f;

    /// <summary>
    /// A greyscale mask of the given size. <see cref="FaceMaskKind.Face"/>: an ellipse centred between eyes and mouth,
    /// sized to cover forehead to chin, rotated with the eye line, grown by <see cref="FaceMaskOptions.Grow"/> and
    /// feathered. <see cref="FaceMaskKind.FaceAndNeck"/>: that ellipse united with a band as wide as the jaw from the face
    /// centre to <see cref="FaceMaskOptions.NeckLength"/> face heights below the chin, rotated and grown the same way.
    /// The caller disposes the image.
    /// </summary>
    public static Image<L8> Build(int width, int height, DetectedFace face, FaceMaskOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var frame = FaceFrame.From(face);
        var grow = options.Grow * frame.Size;
        var feather = options.FeatherFraction * frame.Size;
        var a = frame.HalfWidth + grow;
        var b = frame.HalfHeight + grow;
        var withNeck = options.Kind == FaceMaskKind.FaceAndNeck;

        // Neck band in face coordinates: across ±neckHalfWidth, down from 0 (the centre) to the collar.
        var neckHalfWidth = (NeckWidthRatio * frame.HalfWidth) + grow;
        var chinDown = frame.ToFace(frame.Chin).Y;
        var neckBottom = chinDown + (options.NeckLength * frame.FaceHeight) + grow;
        var neckHalfLength = neckBottom / 2;

        // Only pixels near the face (and neck) can be above 0: the rest is cleared, not computed. The distance above is at
        // least (k − 1)·min(a, b) at scale k of the ellipse, so nothing beyond scale 1 + feather / min(a, b) (twice what
        // the ramp needs) is lit; the neck band's distance is exact. Across and Down are orthonormal: a disc in the face
        // frame is the same disc in the image.
        var reach = MathF.Max(a, b) * (1 + (feather / MathF.Min(a, b)));
        var bounds = Disc(frame.Centre, reach);
        if (withNeck)
        {
            var margin = feather + 1;
            var neckReach = MathF.Sqrt(((neckHalfWidth + margin) * (neckHalfWidth + margin)) + ((MathF.Abs(neckHalfLength) + margin) * (MathF.Abs(neckHalfLength) + margin)));
            bounds = RectangleF.Union(bounds, Disc(frame.At(0, neckHalfLength), neckReach));
        }

        // Two pixels more on each side for rounding.
        var x0 = Math.Clamp((int)MathF.Floor(bounds.Left) - 2, 0, width);
        var x1 = Math.Clamp((int)MathF.Ceiling(bounds.Right) + 2, x0, width);
        var y0 = Math.Clamp((int)MathF.Floor(bounds.Top) - 2, 0, height);
        var y1 = Math.Clamp((int)MathF.Ceiling(bounds.Bottom) + 2, y0, height);
        if (!float.IsFinite(bounds.Width) || !float.IsFinite(bounds.Height))
        {
            (x0, x1, y0, y1) = (0, width, 0, height);
        }

        var mask = new Image<L8>(width, height);
        mask.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                if (y < y0 || y >= y1)
                {
                    row.Clear();
                    continue;
                }

                row[..x0].Clear();
                row[x1..].Clear();
                for (var x = x0; x < x1; x++)
                {
                    var q = frame.ToFace(new Vector2(x + 0.5f, y + 0.5f));
                    var distance = EllipseDistance(q, a, b);
                    if (withNeck)
                    {
                        distance = MathF.Min(distance, BoxDistance(new Vector2(q.X, q.Y - neckHalfLength), neckHalfWidth, neckHalfLength));
                    }

                    float value = feather > 0
                        ? Math.Clamp(0.5f - (distance / feather), 0f, 1f)
                        : (distance <= 0 ? 1f : 0f);
                    row[x] = new L8((byte)MathF.Round(value * 255f));
                }
            }
        });
        return mask;
    }

    private static RectangleF Disc(Vector2 centre, float radius) => new(centre.X - radius, centre.Y - radius, 2 * radius, 2 * radius);

    /// <summary>As <see cref="Build"/>, encoded as a greyscale PNG.</summary>
    public static EncodedImage BuildPng(int width, int height, DetectedFace face, FaceMaskOptions options)
    {
        using var mask = Build(width, height, face, options);
        return EncodedImage.FromPng(mask);
    }

    /// <summary>
    /// Signed distance (pixels, negative inside) to an axis-aligned ellipse with half-axes a, b, to first order:
    /// (k − 1)/|∇k| with k = √((x/a)² + (y/b)²). Exact on the axes' rim, close to it elsewhere.
    /// </summary>
    internal static float EllipseDistance(Vector2 q, float a, float b)
    {
        var nx = q.X / a;
        var ny = q.Y / b;
        var k = MathF.Sqrt((nx * nx) + (ny * ny));
        if (k < 1e-6f)
        {
            return -MathF.Min(a, b);
        }

        var gx = q.X / (a * a);
        var gy = q.Y / (b * b);
        var gradient = MathF.Sqrt((gx * gx) + (gy * gy)) / k;
        return (k - 1) / gradient;
    }

    /// <summary>Signed distance to a centred axis-aligned box with half extents hx, hy.</summary>
    internal static float BoxDistance(Vector2 q, float hx, float hy)
    {
        var dx = MathF.Abs(q.X) - hx;
        var dy = MathF.Abs(q.Y) - hy;
        var outside = new Vector2(MathF.Max(dx, 0), MathF.Max(dy, 0)).Length();
        return outside + MathF.Min(MathF.Max(dx, dy), 0);
    }
}
