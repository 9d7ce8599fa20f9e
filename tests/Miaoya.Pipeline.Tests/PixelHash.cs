using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline.Tests;

/// <summary>Pixel comparisons for tests.</summary>
internal static class PixelHash
{
    /// <summary>A hash of the image's pixels (not its file bytes, which carry text chunks).</summary>
    public static string GetPixelMemoryGroupHash(this Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));
    }
}
