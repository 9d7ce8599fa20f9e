using Miaoya.Faces;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>The person's face photos as the identity step and the candidates' scorer read them.</summary>
internal static class FacePhotos
{
    /// <summary>
    /// The one face of a face photo. None, or more than one, is bad input naming the photo: the extension's insightface
    /// takes the largest face with only a warning (Mikubill/sd-webui-controlnet@56cec5b scripts/preprocessor/legacy/processor.py:647-700),
    /// so a group photo would condition the image on whoever is biggest.
    /// </summary>
    public static DetectedFace SingleFace(SixLabors.ImageSharp.Image<Rgb24> photo, IFaceDetector detector, string name, CancellationToken cancellationToken)
    {
        var faces = detector.Detect(photo, cancellationToken);
        return faces.Count switch
        {
            1 => faces[0],
            0 => throw new PipelineException($"face photo {name}: no face found; give a photo with the person's face clearly visible and frontal.") { Step = "template", InputField = "face" },
            _ => throw new PipelineException($"face photo {name}: {faces.Count} faces found; give a photo of the person alone (or crop it to their face).") { Step = "template", InputField = "face" },
        };
    }
}
