using System.Text.Json.Serialization;

namespace Miaoya.WebUi.ControlNet;

/// <summary>
/// One element of <c>poses</c> from <c>/controlnet/detect</c> (CN annotator/openpose/__init__.py:136-175).
/// Coordinates are flat (x, y, confidence) triplets normalised by the <em>padded</em> canvas: the input's short
/// side is scaled to the processor resolution and the canvas is padded bottom/right to a multiple of 64
/// (CN processor.py:34-51), so <see cref="OpenPoseCoordinates.ToSourcePixels"/> undoes both.
/// </summary>
public sealed record OpenPoseDocument(IReadOnlyList<OpenPosePerson> People, int CanvasWidth, int CanvasHeight);

public sealed record OpenPosePerson(
    [property: JsonPropertyName("pose_keypoints_2d")] IReadOnlyList<double>? PoseKeypoints2d,
    [property: JsonPropertyName("face_keypoints_2d")] IReadOnlyList<double>? FaceKeypoints2d,
    [property: JsonPropertyName("hand_left_keypoints_2d")] IReadOnlyList<double>? HandLeftKeypoints2d,
    [property: JsonPropertyName("hand_right_keypoints_2d")] IReadOnlyList<double>? HandRightKeypoints2d)
{
    /// <summary>Face points with confidence &gt; 0, in the padded canvas' normalised coordinates.</summary>
    public IEnumerable<(double X, double Y, double Confidence)> FacePoints() => Triplets(FaceKeypoints2d);

    /// <summary>Body points with confidence &gt; 0.</summary>
    public IEnumerable<(double X, double Y, double Confidence)> BodyPoints() => Triplets(PoseKeypoints2d);

    private static IEnumerable<(double, double, double)> Triplets(IReadOnlyList<double>? flat)
    {
        if (flat is null)
        {
            yield break;
        }

        for (var i = 0; i + 2 < flat.Count; i += 3)
        {
            if (flat[i + 2] > 0)
            {
                yield return (flat[i], flat[i + 1], flat[i + 2]);
            }
        }
    }
}

/// <summary>Conversion of openpose coordinates back to the source image.</summary>
public static class OpenPoseCoordinates
{
    /// <summary>
    /// Maps a normalised canvas point to pixels of the image sent to detect. The canvas scale k is
    /// processorRes / min(sourceWidth, sourceHeight) (CN processor.py resize_image_with_pad).
    /// </summary>
    public static (double X, double Y) ToSourcePixels(
        this OpenPoseDocument document, double x, double y, int sourceWidth, int sourceHeight, int processorRes = 512)
    {
        ArgumentNullException.ThrowIfNull(document);
        var k = (double)processorRes / Math.Min(sourceWidth, sourceHeight);
        return (x * document.CanvasWidth / k, y * document.CanvasHeight / k);
    }
}
