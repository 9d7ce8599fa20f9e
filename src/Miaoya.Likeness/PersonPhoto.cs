using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Likeness;

/// <summary>One reference photo of the person: upright RGB pixels, and the name errors show (the file name).</summary>
/// <param name="Name">Shown in errors, e.g. "face2.jpg".</param>
/// <param name="Image">The decoded, upright photo (see <c>FaceImages.Load</c>); the caller keeps ownership.</param>
public sealed record PersonPhoto(string Name, Image<Rgb24> Image);
