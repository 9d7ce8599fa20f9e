using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Training;

/// <summary>
/// Upper-body framing around a detected face: the crop is a fixed number of face sizes tall (head, shoulders and chest),
/// has the training resolution's aspect, is centred on the face across, and puts the face centre at a fixed height. When
/// the photo is too small for that, the crop shrinks (keeping the aspect) and shifts to stay inside the photo.
/// </summary>
public static class UpperBodyCrop
{
    /// <summary>Crop height in face sizes for a portrait (2:3) resolution.</summary>
    public const double PortraitHeightInFaces = 3.6;

    /// <summary>Crop height in face sizes for a square or landscape resolution.</summary>
    public const double SquareHeightInFaces = 3.0;

    /// <summary>The crop rectangle in source pixels.</summary>
    public static Rectangle Frame(Size image, DetectedFace face, TrainingResolution resolution)
    {
        ArgumentNullException.ThrowIfNull(face);
        var aspect = (double)resolution.Width / resolution.Height;
        var portrait = aspect < 0.95;
        var height = face.Size * (portrait ? PortraitHeightInFaces : SquareHeightInFaces);
        var width = height * aspect;
        var shrink = Math.Min(1, Math.Min(image.Width / width, image.Height / height));
        width *= shrink;
        height *= shrink;
        var centre = face.Centre;
        var left = centre.X - (width / 2);
        var top = centre.Y - (height * (portrait ? 0.30 : 0.34));
        left = Math.Clamp(left, 0, image.Width - width);
        top = Math.Clamp(top, 0, image.Height - height);
        var w = Math.Max(1, (int)Math.Floor(width));
        var h = Math.Max(1, (int)Math.Floor(height));
        return new Rectangle(Math.Clamp((int)Math.Round(left), 0, image.Width - w), Math.Clamp((int)Math.Round(top), 0, image.Height - h), w, h);
    }

    /// <summary>The framed crop resized to the training resolution.</summary>
    public static Image<Rgb24> Crop(Image<Rgb24> image, DetectedFace face, TrainingResolution resolution)
    {
        ArgumentNullException.ThrowIfNull(image);
        var frame = Frame(image.Size(), face, resolution);
        return image.Clone(c => c.Crop(frame).Resize(resolution.Width, resolution.Height, KnownResamplers.Lanczos3));
    }
}
