using System.Numerics;
using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Training;

/// <summary>Head pose estimated from BlazeFace's landmarks (no 3D model: ratios of 2D distances).</summary>
/// <param name="Yaw">Nose offset along the eye line, in eye distances: 0 frontal, ±0.5 and beyond a near profile.</param>
/// <param name="RollDegrees">Angle of the eye line to the horizontal.</param>
/// <param name="EyesToMouth">Eye-line-to-mouth distance in eye distances: ≈1 frontal, small when the head tilts far up or down.</param>
/// <param name="EyeSpan">Eye distance over the face size: small in a profile.</param>
public readonly record struct HeadPose(double Yaw, double RollDegrees, double EyesToMouth, double EyeSpan);

/// <summary>Image measures for photo QA: sharpness, perceptual hash, head pose.</summary>
public static class PhotoMetrics
{
    /// <summary>Side of the square the face is resized to before measuring sharpness (<see cref="Faces.FaceSharpness.Size"/>).</summary>
    public const int SharpnessSize = Faces.FaceSharpness.Size;

    /// <summary>Variance of the Laplacian of the face box (<see cref="Faces.FaceSharpness.Measure"/>); low means blurry.</summary>
    public static double FaceSharpness(Image<Rgb24> image, DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(face);
        return Faces.FaceSharpness.Measure(image, face.Box);
    }

    /// <summary>64-bit difference hash (dHash) of the whole photo: 9×8 grey, one bit per horizontal neighbour comparison.</summary>
    public static ulong DifferenceHash(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var small = image.Clone(c => c.Resize(9, 8, KnownResamplers.Triangle));
        var grey = Grey(small);
        ulong hash = 0;
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 8; x++)
            {
                hash <<= 1;
                if (grey[(y * 9) + x] < grey[(y * 9) + x + 1])
                {
                    hash |= 1;
                }
            }
        }

        return hash;
    }

    /// <summary>Number of differing bits.</summary>
    public static int HammingDistance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    /// <summary>Pose ratios from the six landmarks, see <see cref="HeadPose"/>.</summary>
    public static HeadPose Pose(DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(face);
        var e0 = V(face.RightEye);
        var e1 = V(face.LeftEye);
        var eyes = (e0 + e1) / 2;
        var eyeLine = e1 - e0;
        var eyeDistance = eyeLine.Length();
        if (eyeDistance < 1e-3f)
        {
            return new HeadPose(double.PositiveInfinity, 0, 0, 0);
        }

        var across = eyeLine / eyeDistance;
        var down = new Vector2(-across.Y, across.X);
        var nose = V(face.NoseTip) - eyes;
        var mouth = V(face.Mouth) - eyes;
        var roll = Math.Atan2(eyeLine.Y, eyeLine.X) * 180 / Math.PI;
        return new HeadPose(
            Vector2.Dot(nose, across) / eyeDistance,
            roll,
            Math.Abs(Vector2.Dot(mouth, down)) / eyeDistance,
            eyeDistance / Math.Max(1e-3f, face.Size));
    }

    private static Vector2 V(PointF p) => new(p.X, p.Y);

    private static float[] Grey(Image<Rgb24> image)
    {
        var grey = new float[image.Width * image.Height];
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    grey[(y * rows.Width) + x] = (0.299f * row[x].R) + (0.587f * row[x].G) + (0.114f * row[x].B);
                }
            }
        });
        return grey;
    }
}
