using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Imaging.Tests;

public sealed class FaceMaskTests
{
    [Fact]
    public void Ellipse_IsWhiteOnTheFaceBlackFarAwayAndFeatheredBetween()
    {
        var mask = FaceMask.Ellipse(200, 100, new RectangleF(80, 30, 40, 40), grow: 0.25f, featherPixels: 10);

        using var image = Image.Load<L8>(mask.Bytes.ToArray());
        Assert.Equal(ImageFileFormat.Png, mask.Format);
        Assert.Equal((200, 100), (image.Width, image.Height));
        Assert.Equal(255, image[100, 50].PackedValue);
        Assert.Equal(0, image[5, 5].PackedValue);
        Assert.Equal(0, image[195, 95].PackedValue);

        // Radius is 0.75 x 40 = 30 px: the rim at x = 130 is half-feathered.
        var rim = image[130, 50].PackedValue;
        Assert.InRange(rim, 90, 170);
    }

    [Fact]
    public void Ellipse_EmptyFace_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => FaceMask.Ellipse(10, 10, new RectangleF(1, 1, 0, 5)));
    }
}
