using System.Numerics;
using SixLabors.ImageSharp;

namespace Miaoya.Faces;

/// <summary>
/// A face's own frame, from its landmarks: <see cref="Across"/> runs along the eye line from landmark 0 to landmark 1
/// (image-left to image-right for an upright face), <see cref="Down"/> is perpendicular to it towards the mouth. Sizes are
/// in proportion to <see cref="DetectedFace.Size"/> (BlazeFace's box runs roughly brows to chin, so the face ellipse is
/// taller than the box, to cover the forehead).
/// </summary>
internal readonly record struct FaceFrame(Vector2 Centre, Vector2 Across, Vector2 Down, float HalfWidth, float HalfHeight, Vector2 Chin, float Size)
{
    /// <summary>Face ellipse half-width, in face sizes.</summary>
    internal const float HalfWidthRatio = 0.48f;

    /// <summary>Face ellipse half-height, in face sizes (forehead to chin ≈ 1.24 box sizes).</summary>
    internal const float HalfHeightRatio = 0.62f;

    /// <summary>Top-to-bottom height of the face ellipse before growing.</summary>
    public float FaceHeight => 2 * HalfHeight;

    /// <summary>The point <paramref name="across"/>, <paramref name="down"/> (pixels) from the centre, in the face frame.</summary>
    public Vector2 At(float across, float down) => Centre + (Across * across) + (Down * down);

    /// <summary>(across, down) coordinates of an image point relative to the centre.</summary>
    public Vector2 ToFace(Vector2 p)
    {
        var q = p - Centre;
        return new Vector2(Vector2.Dot(q, Across), Vector2.Dot(q, Down));
    }

    public static FaceFrame From(DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(face);
        var size = face.Size;
        if (!(size > 0))
        {
            throw new ArgumentException($"face box {face.Box} is empty.", nameof(face));
        }

        var e0 = V(face.RightEye);
        var e1 = V(face.LeftEye);
        var mouth = V(face.Mouth);
        var eyes = (e0 + e1) / 2;
        var across = e1 - e0;
        across = across.LengthSquared() > 1e-6f ? Vector2.Normalize(across) : Vector2.UnitX;
        var down = new Vector2(-across.Y, across.X);
        if (Vector2.Dot(down, mouth - eyes) < 0)
        {
            // Mirrored input (landmark 0 on the image-right): keep Down pointing at the mouth.
            down = -down;
        }

        // Centre slightly above the eyes–mouth midpoint so the ellipse reaches the forehead; chin ≈ 0.32 sizes below the mouth.
        var centre = ((eyes + mouth) / 2) - (down * (0.06f * size));
        var chin = mouth + (down * (0.32f * size));
        return new FaceFrame(centre, across, down, HalfWidthRatio * size, HalfHeightRatio * size, chin, size);
    }

    internal static Vector2 V(PointF p) => new(p.X, p.Y);
}
