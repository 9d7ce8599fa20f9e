using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Faces.Tests;

public class MaskTests
{
    private static readonly DetectedFace Face = TestFaces.Upright(256, 200, 100);

    private static byte At(Image<L8> mask, float x, float y) => mask[(int)x, (int)y].PackedValue;

    private static int CountWhite(Image<L8> mask)
    {
        var count = 0;
        mask.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                foreach (var p in rows.GetRowSpan(y))
                {
                    count += p.PackedValue >= 128 ? 1 : 0;
                }
            }
        });
        return count;
    }

    [Fact]
    public void FaceMask_WhiteCentre_BlackCornersAndBelowChin_FeatheredEdge()
    {
        using var mask = FaceMasks.Build(512, 512, Face, new FaceMaskOptions());
        var frame = FaceFrame.From(Face);

        Assert.Equal(255, At(mask, Face.Centre.X, Face.Centre.Y));
        Assert.Equal(255, At(mask, Face.NoseTip.X, Face.NoseTip.Y));
        Assert.Equal(0, At(mask, 0, 0));
        Assert.Equal(0, At(mask, 511, 511));
        Assert.Equal(0, At(mask, 0, 511));
        Assert.Equal(0, At(mask, frame.Chin.X, frame.Chin.Y + (0.6f * frame.FaceHeight)));

        // Walk right from the centre: full, then a soft ramp of several values, then nothing.
        var values = Enumerable.Range((int)Face.Centre.X, 200).Select(x => At(mask, x, Face.Centre.Y + 0.5f)).ToArray();
        Assert.Equal(255, values[0]);
        Assert.Equal(0, values[^1]);
        Assert.True(values.Count(v => v is > 10 and < 245) >= 4, "feathered edge");
        Assert.True(values.Zip(values.Skip(1)).All(p => p.First >= p.Second), "monotone towards the edge");
    }

    [Fact]
    public void FaceAndNeck_CoversNeckBelowChin_FaceMaskDoesNot()
    {
        using var face = FaceMasks.Build(512, 512, Face, new FaceMaskOptions());
        using var neck = FaceMasks.Build(512, 512, Face, new FaceMaskOptions { Kind = FaceMaskKind.FaceAndNeck });
        var frame = FaceFrame.From(Face);
        var point = frame.Chin + (frame.Down * (0.6f * frame.FaceHeight));

        Assert.Equal(0, At(face, point.X, point.Y));
        Assert.Equal(255, At(neck, point.X, point.Y));
        Assert.Equal(255, At(neck, Face.Centre.X, Face.Centre.Y));

        // Neck no wider than the face; nothing beside the neck, nothing far below the collar.
        Assert.Equal(0, At(neck, point.X + (1.0f * Face.Size), point.Y));
        Assert.Equal(0, At(neck, frame.Chin.X, frame.Chin.Y + (1.5f * frame.FaceHeight)));
        Assert.True(CountWhite(neck) > CountWhite(face) * 1.5);
    }

    [Fact]
    public void Masks_ScaleWithFaceSize()
    {
        var big = TestFaces.Scaled(Face, 2f);
        using var small = FaceMasks.Build(1024, 1024, Face, new FaceMaskOptions());
        using var large = FaceMasks.Build(1024, 1024, big, new FaceMaskOptions());

        var ratio = (double)CountWhite(large) / CountWhite(small);
        Assert.InRange(ratio, 3.8, 4.2);
    }

    [Fact]
    public void TiltedFace_MaskRotatesWithEyeLine()
    {
        // Face turned 90° clockwise in the image: "down" (towards the chin) now points to image-left.
        var turned = Face with { Landmarks = [.. Face.Landmarks.Select(p => new PointF(256 - (p.Y - 200), 200 + (p.X - 256)))] };
        using var neck = FaceMasks.Build(512, 512, turned, new FaceMaskOptions { Kind = FaceMaskKind.FaceAndNeck });
        var frame = FaceFrame.From(turned);
        Assert.True(frame.Down.X < -0.99f);
        var point = frame.Chin + (frame.Down * (0.6f * frame.FaceHeight));
        Assert.Equal(255, At(neck, point.X, point.Y));
        Assert.Equal(0, At(neck, 256, 200 + (0.6f * frame.FaceHeight) + 100));
    }

    [Fact]
    public void BuildPng_IsGreyscalePngOfRequestedSize()
    {
        var png = FaceMasks.BuildPng(300, 200, TestFaces.Upright(150, 100, 60), new FaceMaskOptions());
        Assert.Equal(ImageFileFormat.Png, png.Format);
        Assert.Equal((300, 200), png.ReadSize());
    }

    [Fact]
    public void HardEdge_WhenNoFeather()
    {
        using var mask = FaceMasks.Build(512, 512, Face, new FaceMaskOptions { FeatherFraction = 0 });
        var values = Enumerable.Range(0, 512).Select(x => At(mask, x, Face.Centre.Y)).Distinct().Order().ToArray();
        Assert.Equal([0, 255], values);
    }
}
