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

    [Theory]
    [InlineData(256, 200, 100, 0, 0.15f, 0.08f, 1.0f)]
    [InlineData(300, 420, 180, 25, 0.15f, 0.08f, 1.0f)]
    [InlineData(60, 40, 150, -40, 0.3f, 0.2f, 2.5f)]
    [InlineData(500, 500, 90, 90, 0f, 0f, 0.5f)]
    [InlineData(380, 100, 260, 170, 0.05f, 0.5f, 1.5f)]
    public void Only_the_pixels_near_the_face_are_computed_and_the_mask_is_the_same_as_computing_every_pixel(
        float cx, float cy, float size, float degrees, float grow, float feather, float neck)
    {
        var face = Rotated(TestFaces.Upright(cx, cy, size), new PointF(cx, cy), degrees);
        foreach (var kind in new[] { FaceMaskKind.Face, FaceMaskKind.FaceAndNeck })
        {
            var options = new FaceMaskOptions { Kind = kind, Grow = grow, FeatherFraction = feather, NeckLength = neck };
            using var mask = FaceMasks.Build(512, 640, face, options);
            var expected = EveryPixel(512, 640, face, options);
            var actual = new byte[512 * 640];
            mask.CopyPixelDataTo(actual);
            Assert.Equal(expected, actual);
        }
    }

    private static DetectedFace Rotated(DetectedFace face, PointF centre, float degrees)
    {
        var r = degrees * MathF.PI / 180;
        PointF Turn(PointF p) => new(
            centre.X + ((p.X - centre.X) * MathF.Cos(r)) - ((p.Y - centre.Y) * MathF.Sin(r)),
            centre.Y + ((p.X - centre.X) * MathF.Sin(r)) + ((p.Y - centre.Y) * MathF.Cos(r)));
        return new DetectedFace(face.Box, [.. face.Landmarks.Select(Turn)], face.Score);
    }

    /// <summary>The mask as FaceMasks.Build computed it before it skipped the pixels far from the face: every pixel.</summary>
    private static byte[] EveryPixel(int width, int height, DetectedFace face, FaceMaskOptions options)
    {
        var frame = FaceFrame.From(face);
        var grow = options.Grow * frame.Size;
        var feather = options.FeatherFraction * frame.Size;
        var a = frame.HalfWidth + grow;
        var b = frame.HalfHeight + grow;
        var neckHalfWidth = (FaceMasks.NeckWidthRatio * frame.HalfWidth) + grow;
        var neckHalfLength = (frame.ToFace(frame.Chin).Y + (options.NeckLength * frame.FaceHeight) + grow) / 2;
        var pixels = new byte[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var q = frame.ToFace(new System.Numerics.Vector2(x + 0.5f, y + 0.5f));
                var distance = FaceMasks.EllipseDistance(q, a, b);
                if (options.Kind == FaceMaskKind.FaceAndNeck)
                {
                    distance = MathF.Min(distance, FaceMasks.BoxDistance(new System.Numerics.Vector2(q.X, q.Y - neckHalfLength), neckHalfWidth, neckHalfLength));
                }

                var value = feather > 0 ? Math.Clamp(0.5f - (distance / feather), 0f, 1f) : (distance <= 0 ? 1f : 0f);
                pixels[(y * width) + x] = (byte)MathF.Round(value * 255f);
            }
        }

        return pixels;
    }
}
