using SixLabors.ImageSharp;

namespace Miaoya.Faces.Tests;

/// <summary>Synthetic detections laid out like an upright BlazeFace result (proportions taken from the astronaut).</summary>
internal static class TestFaces
{
    public static DetectedFace Upright(float cx, float cy, float size, float score = 0.9f)
    {
        PointF P(float dx, float dy) => new(cx + (dx * size), cy + (dy * size));
        return new DetectedFace(
            new RectangleF(cx - (size / 2), cy - (size / 2), size, size),
            [P(-0.22f, -0.22f), P(0.22f, -0.22f), P(0, -0.02f), P(0, 0.2f), P(-0.5f, -0.12f), P(0.5f, -0.12f)],
            score);
    }

    public static DetectedFace Scaled(DetectedFace face, float factor) => new(
        new RectangleF(face.Box.X * factor, face.Box.Y * factor, face.Box.Width * factor, face.Box.Height * factor),
        [.. face.Landmarks.Select(p => new PointF(p.X * factor, p.Y * factor))],
        face.Score);
}
