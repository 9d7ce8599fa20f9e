using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Faces.Tests;

public class FaceImagesTests
{
    [Fact]
    public void Load_Garbage_InvalidImageData()
    {
        Assert.Throws<InvalidImageDataException>(() => FaceImages.Load(new EncodedImage(new byte[] { 1, 2, 3, 4, 5 })));

        // A PNG signature followed by junk.
        byte[] junk = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 1, 2, 3];
        Assert.Throws<InvalidImageDataException>(() => FaceImages.Load(new EncodedImage(junk)));
    }

    [Fact]
    public void Load_Transparent_CompositedOverWhite()
    {
        using var rgba = new Image<Rgba32>(2, 1);
        rgba[0, 0] = new Rgba32(0, 0, 0, 0);
        rgba[1, 0] = new Rgba32(0, 0, 0, 128);

        using var rgb = FaceImages.Load(EncodedImage.FromPng(rgba));

        Assert.Equal(new Rgb24(255, 255, 255), rgb[0, 0]);
        Assert.Equal(new Rgb24(127, 127, 127), rgb[1, 0]);
    }
}
