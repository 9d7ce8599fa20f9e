using System.Numerics;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>
/// The image an identity unit gets for one face photo: a square crop around the face, turned so the eyes are level,
/// with a margin, at a fixed size. sd-webui-controlnet's FaceID Plus squashes the whole unit image to 224×224 for its
/// CLIP branch without finding the face first (Mikubill/sd-webui-controlnet@56cec5b annotator/clipvision/__init__.py:131-148),
/// so a loose, tilted or off-centre photo weakens the likeness; EasyPhoto crops and aligns the same way before its
/// IP-Adapter unit (aigc-apps/sd-webui-EasyPhoto scripts/easyphoto_infer.py:1372-1404).
/// </summary>
internal static class IdentityCrop
{
    /// <summary>The crop of <paramref name="face"/>: side = the face's size × (1 + 2 × <paramref name="padding"/>), centred on the face box, eyes level.</summary>
    public static Image<Rgb24> Make(Image<Rgb24> photo, DetectedFace face, double padding, int size)
    {
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(face);
        return FaceAlignment.Warp(photo, Transform(face, padding, size), size);
    }

    /// <summary>The eye line's angle to the horizontal, radians (positive: the subject's left eye lower in the image).</summary>
    public static float Roll(DetectedFace face) => MathF.Atan2(face.LeftEye.Y - face.RightEye.Y, face.LeftEye.X - face.RightEye.X);

    /// <summary>Photo pixels → crop pixels: rotate about the face centre by minus the eye line's angle, scale, centre.</summary>
    public static Matrix3x2 Transform(DetectedFace face, double padding, int size)
    {
        var angle = Roll(face);
        var side = face.Size * (1 + (2 * (float)padding));
        var centre = face.Centre;
        return Matrix3x2.CreateTranslation(-centre.X, -centre.Y)
            * Matrix3x2.CreateRotation(-angle)
            * Matrix3x2.CreateScale(size / side)
            * Matrix3x2.CreateTranslation(size / 2f, size / 2f);
    }
}
