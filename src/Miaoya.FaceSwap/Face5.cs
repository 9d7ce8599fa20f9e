using Miaoya.Faces;
using SixLabors.ImageSharp;

namespace Miaoya.FaceSwap;

/// <summary>
/// The five key points insightface works with, in insightface's order (the order of <c>arcface_dst</c>,
/// deepinsight/insightface v0.7 python-package/insightface/utils/face_align.py:6-9): 0 the eye on the image-left (the
/// subject's right eye in an unmirrored photo), 1 the image-right eye, 2 the nose tip, 3 the image-left mouth corner, 4
/// the image-right mouth corner. Pixels of the source image.
/// </summary>
public readonly record struct Face5(PointF ImageLeftEye, PointF ImageRightEye, PointF Nose, PointF ImageLeftMouth, PointF ImageRightMouth)
{
    /// <summary>Number of points.</summary>
    public const int Count = 5;

    /// <summary>The ratio mouth width / eye distance of <c>arcface_dst</c>: (70.7299 − 41.5493) / (73.5318 − 38.2946).</summary>
    internal const float TemplateMouthToEyeRatio = (70.7299f - 41.5493f) / (73.5318f - 38.2946f);

    /// <summary>The points in insightface order.</summary>
    public PointF[] ToArray() => [ImageLeftEye, ImageRightEye, Nose, ImageLeftMouth, ImageRightMouth];

    /// <summary>From five points in insightface order.</summary>
    public static Face5 FromPoints(ReadOnlySpan<PointF> points)
    {
        if (points.Length != Count)
        {
            throw new ArgumentException($"expected {Count} points, got {points.Length}.", nameof(points));
        }

        return new Face5(points[0], points[1], points[2], points[3], points[4]);
    }

    /// <summary>
    /// Approximates the five points from BlazeFace's six. BlazeFace's landmark 0 (subject's right eye) is the image-left
    /// eye, landmark 1 the image-right eye, landmark 2 the nose tip (MediaPipe FaceKeyPoint, google/mediapipe
    /// mediapipe/python/solutions/face_detection.py:46-53). BlazeFace has only a mouth
    /// centre, so the corners are estimated: the mouth centre ∓ half a mouth width along the eye line, the mouth width
    /// being the eye distance × <see cref="TemplateMouthToEyeRatio"/> (≈0.83, from arcface_dst). This is coarser than
    /// SCRFD: the mouth corners do not follow a smile or an open mouth.
    /// </summary>
    public static Face5 FromBlazeFace(DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(face);
        var left = face.RightEye;
        var right = face.LeftEye;
        var halfX = (right.X - left.X) * TemplateMouthToEyeRatio / 2;
        var halfY = (right.Y - left.Y) * TemplateMouthToEyeRatio / 2;
        var mouth = face.Mouth;
        return new Face5(left, right, face.NoseTip, new PointF(mouth.X - halfX, mouth.Y - halfY), new PointF(mouth.X + halfX, mouth.Y + halfY));
    }
}

/// <summary>A face found for swapping: its box, its five key points and the detector's score, in source pixels.</summary>
public sealed record SwapFace(RectangleF Box, Face5 Points, float Score)
{
    /// <summary>The larger side of the box.</summary>
    public float Size => MathF.Max(Box.Width, Box.Height);
}
