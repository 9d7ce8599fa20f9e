using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Faces.Tests;

/// <summary>Test images (Fixtures/README.md) and one shared detector.</summary>
internal static class Fixtures
{
    private static readonly Lazy<BlazeFaceDetector> SharedDetector = new(() => BlazeFaceDetector.CreateDefault());

    /// <summary>One detector for the whole run (sessions are expensive; Run is thread-safe).</summary>
    public static BlazeFaceDetector Detector => SharedDetector.Value;

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static Image<Rgb24> Load(string name) => Image.Load<Rgb24>(PathOf(name));

    public static EncodedImage Encoded(string name) => new(File.ReadAllBytes(PathOf(name)));
}
