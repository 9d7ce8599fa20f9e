using System.Numerics;
using Miaoya.Faces;

namespace Miaoya.IdPhoto;

/// <summary>
/// Where the head is, estimated from one BlazeFace detection. BlazeFace gives no crown or chin point, so both are
/// placed along the face's own vertical axis from the eye line, in units of the eye-to-mouth distance d:
/// chin = eyes + 1.68 d, crown = eyes − 1.55 d (head height 3.23 d, the eye line 0.48 of the way down). The ratios are
/// average adult proportions (pupil–stomion ≈ 0.31, pupil–menton ≈ 0.52 of the vertex–menton head height); the crown is
/// the top of the skull, not of the hair.
/// </summary>
internal readonly record struct HeadGeometry(Vector2 Eyes, Vector2 Crown, Vector2 Chin, Vector2 Down, double RollDegrees)
{
    /// <summary>Eyes to chin in eye–mouth distances.</summary>
    public const float ChinRatio = 1.68f;

    /// <summary>Crown to eyes in eye–mouth distances.</summary>
    public const float CrownRatio = 1.55f;

    /// <summary>Where the eye line falls between crown (0) and chin (1).</summary>
    public const double EyeFraction = CrownRatio / (CrownRatio + ChinRatio);

    /// <summary>Crown to chin, pixels.</summary>
    public float HeadHeight => Vector2.Distance(Crown, Chin);

    /// <summary>This head (measured in a rendered frame) carried back into the source photo through <paramref name="plan"/>.</summary>
    public HeadGeometry ToSource(CropPlan plan)
    {
        var r = plan.RollDegrees * Math.PI / 180;
        var (sin, cos) = ((float)Math.Sin(r), (float)Math.Cos(r));
        var down = new Vector2((Down.X * cos) - (Down.Y * sin), (Down.X * sin) + (Down.Y * cos));
        return new HeadGeometry(plan.ToSource(Eyes), plan.ToSource(Crown), plan.ToSource(Chin), down, RollDegrees + plan.RollDegrees);
    }

    public static HeadGeometry From(DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(face);
        var e0 = new Vector2(face.RightEye.X, face.RightEye.Y);
        var e1 = new Vector2(face.LeftEye.X, face.LeftEye.Y);
        var mouth = new Vector2(face.Mouth.X, face.Mouth.Y);
        var eyes = (e0 + e1) / 2;
        var across = e1 - e0;
        if (across.X < 0)
        {
            across = -across; // mirrored landmarks: the roll is measured image-left to image-right either way
        }

        across = across.LengthSquared() > 1e-6f ? Vector2.Normalize(across) : Vector2.UnitX;
        var down = new Vector2(-across.Y, across.X);
        if (Vector2.Dot(down, mouth - eyes) < 0)
        {
            down = -down;
        }

        var d = Vector2.Dot(mouth - eyes, down);
        if (d < face.Box.Height * 0.15f)
        {
            d = face.Box.Height * 0.3f; // implausible landmarks: fall back to the box (BlazeFace's box runs about brows to chin)
        }

        var roll = Math.Atan2(across.Y, across.X) * 180 / Math.PI;
        return new HeadGeometry(eyes, eyes - (down * (CrownRatio * d)), eyes + (down * (ChinRatio * d)), down, roll);
    }
}
