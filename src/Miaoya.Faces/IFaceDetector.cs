using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Faces;

/// <summary>Finds faces in a decoded, upright image (see <see cref="FaceImages.Load"/> for EXIF orientation).</summary>
public interface IFaceDetector
{
    /// <summary>All faces found, in source-image pixels, highest score first. Empty when there is none.</summary>
    IReadOnlyList<DetectedFace> Detect(Image<Rgb24> image, CancellationToken cancellationToken = default);
}
