using Miaoya.Imaging;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp;

namespace Miaoya.Faces.Tests;

public class SkinToneTests
{
    // Sharma, Wu, Dalal (2005), Table 1: pairs 1, 2, 3, 7, 17, 25.
    [Theory]
    [InlineData(50, 2.6772, -79.7751, 50, 0, -82.7485, 2.0425)]
    [InlineData(50, 3.1571, -77.2803, 50, 0, -82.7485, 2.8615)]
    [InlineData(50, 2.8361, -74.0200, 50, 0, -82.7485, 3.4412)]
    [InlineData(50, 0, 0, 50, -1, 2, 2.3669)]
    [InlineData(50, 2.5, 0, 73, 25, -18, 27.1492)]
    [InlineData(60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644)]
    public void DeltaE2000_SharmaPairs(double l1, double a1, double b1, double l2, double a2, double b2, double expected)
    {
        var x = new Lab(l1, a1, b1);
        var y = new Lab(l2, a2, b2);
        Assert.Equal(expected, Lab.DeltaE2000(x, y), 4);
        Assert.Equal(expected, Lab.DeltaE2000(y, x), 4);
    }

    [Fact]
    public void FromRgb_KnownValues()
    {
        var white = Lab.FromRgb(255, 255, 255);
        Assert.Equal(100, white.L, 3);
        Assert.Equal(0, white.A, 3);
        Assert.Equal(0, white.B, 3);
        Assert.Equal(new Lab(0, 0, 0), Lab.FromRgb(0, 0, 0));

        // sRGB red, D65: (53.24, 80.09, 67.20).
        var red = Lab.FromRgb(255, 0, 0);
        Assert.Equal(53.24, red.L, 1);
        Assert.Equal(80.09, red.A, 1);
        Assert.Equal(67.20, red.B, 1);
    }

    [Fact]
    public void Measure_FaceAndNeckPatches_OfTwoColours()
    {
        var face = TestFaces.Upright(200, 150, 120);
        var frame = FaceFrame.From(face);
        var faceColour = new Rgb24(224, 172, 140);
        var neckColour = new Rgb24(170, 120, 90);
        using var image = new Image<Rgb24>(400, 500, neckColour);

        // Face colour down to the chin, neck colour below it.
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < (int)frame.Chin.Y; y++)
            {
                rows.GetRowSpan(y).Fill(faceColour);
            }
        });

        var m = SkinTone.Measure(image, face);

        var expectedFace = Lab.FromRgb(faceColour.R, faceColour.G, faceColour.B);
        var expectedNeck = Lab.FromRgb(neckColour.R, neckColour.G, neckColour.B);
        Assert.Equal(expectedFace.L, m.Face.L, 6);
        Assert.Equal(expectedNeck.B, m.Neck.B, 6);
        Assert.Equal(Lab.DeltaE2000(expectedFace, expectedNeck), m.DeltaE, 6);
        Assert.True(m.DeltaE > 10);
    }

    [Fact]
    public void Measure_SameColour_Zero()
    {
        using var image = new Image<Rgb24>(300, 400, new Rgb24(200, 150, 120));
        var m = SkinTone.Measure(image, TestFaces.Upright(150, 120, 100));
        Assert.Equal(0, m.DeltaE, 9);
    }

    [Fact]
    public void Measure_NeckOutsideImage_Throws()
    {
        using var image = new Image<Rgb24>(300, 200, new Rgb24(200, 150, 120));
        var e = Assert.Throws<ArgumentException>(() => SkinTone.Measure(image, TestFaces.Upright(150, 140, 100)));
        Assert.Contains("neck", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Measure_Astronaut_Runs()
    {
        using var image = Fixtures.Load("astronaut.png");
        var face = FaceSelection.Select(Fixtures.Detector.Detect(image), null, "astronaut.png");
        var m = SkinTone.Measure(image, face);
        Assert.InRange(m.Face.L, 30, 90);
        Assert.True(m.DeltaE is >= 0 and < 100);
    }
}
