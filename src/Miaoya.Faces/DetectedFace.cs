using SixLabors.ImageSharp;

namespace Miaoya.Faces;

/// <summary>
/// One face found in an image, in pixels of the source image.
/// <para>
/// <see cref="Landmarks"/> holds BlazeFace's six key points in the model's order (MediaPipe <c>FaceKeyPoint</c>,
/// google/mediapipe mediapipe/python/solutions/face_detection.py:46-53): 0 right eye, 1 left eye, 2 nose tip, 3 mouth
/// centre, 4 right ear tragion, 5 left ear tragion. "Right" is the subject's right, i.e. the image-left side of an
/// unmirrored photo.
/// </para>
/// </summary>
/// <param name="Box">The face box (MediaPipe's: roughly brows to chin, cheek to cheek).</param>
/// <param name="Landmarks">Exactly six points, see the type's remarks.</param>
/// <param name="Score">Detector confidence in [0, 1].</param>
public sealed record DetectedFace(RectangleF Box, IReadOnlyList<PointF> Landmarks, float Score)
{
    /// <summary>The number of landmarks BlazeFace gives.</summary>
    public const int LandmarkCount = 6;

    /// <summary>Six landmarks, see the type's remarks.</summary>
    public IReadOnlyList<PointF> Landmarks { get; init; } = Landmarks is { Count: LandmarkCount }
        ? Landmarks
        : throw new ArgumentException($"a face needs {LandmarkCount} landmarks, got {Landmarks?.Count ?? 0}.", nameof(Landmarks));

    /// <summary>The larger side of <see cref="Box"/>, in pixels.</summary>
    public float Size => MathF.Max(Box.Width, Box.Height);

    /// <summary>Subject's right eye (image-left in an unmirrored photo); landmark 0.</summary>
    public PointF RightEye => Landmarks[0];

    /// <summary>Subject's left eye (image-right); landmark 1.</summary>
    public PointF LeftEye => Landmarks[1];

    /// <summary>Nose tip; landmark 2.</summary>
    public PointF NoseTip => Landmarks[2];

    /// <summary>Mouth centre; landmark 3.</summary>
    public PointF Mouth => Landmarks[3];

    /// <summary>Subject's right ear tragion (image-left); landmark 4.</summary>
    public PointF RightEar => Landmarks[4];

    /// <summary>Subject's left ear tragion (image-right); landmark 5.</summary>
    public PointF LeftEar => Landmarks[5];

    /// <summary>The centre of <see cref="Box"/>.</summary>
    public PointF Centre => new(Box.X + (Box.Width / 2), Box.Y + (Box.Height / 2));
}
