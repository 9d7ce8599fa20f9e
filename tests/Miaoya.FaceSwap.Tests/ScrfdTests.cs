using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.FaceSwap.Tests;

/// <summary>
/// SCRFD decoding, insightface 0.7.x conventions (deepinsight/insightface v0.7
/// python-package/insightface/model_zoo/scrfd.py, SCRFD.detect, forward and nms): top-left letterbox with int() sizes
/// and det_scale = new_h / h, anchor centres (x·s, y·s) without +0.5, two consecutive anchors per cell, distances ×
/// stride, score ≥ 0.5, NMS 0.4 with +1 areas. The stand-in (make_stand_in_models.py) scores a white 2s×2s square
/// centred on a stride-s anchor point as a face whose box is exactly the square and whose key points sit where
/// arcface_dst puts them. Difference: the letterbox resize uses ImageSharp's Triangle, which filters when downscaling
/// (cv2.resize does not).
/// </summary>
public class ScrfdTests
{
    private static void AssertFace(SwapFace face, float left, float top, float side, float tol)
    {
        Assert.Equal(left, face.Box.X, tol);
        Assert.Equal(top, face.Box.Y, tol);
        Assert.Equal(side, face.Box.Width, tol);
        Assert.Equal(side, face.Box.Height, tol);
        var t = FaceAlignment.ArcFaceTemplate112;
        var p = face.Points.ToArray();
        for (var k = 0; k < 5; k++)
        {
            Assert.Equal(left + (t[k].X / 112f * side), p[k].X, tol + (side * 1e-4f));
            Assert.Equal(top + (t[k].Y / 112f * side), p[k].Y, tol + (side * 1e-4f));
        }
    }

    [Theory]
    [InlineData(288, 192, 64)] // stride 32, anchor (320, 224)
    [InlineData(96, 88, 16)] // stride 8, anchor (104, 96)
    [InlineData(480, 480, 32)] // stride 16, anchor (496, 496)
    public void Detect_SquareOnAnchor_GivesExactBoxAndKeyPoints(int left, int top, int side)
    {
        using var image = Scenes.Squares(640, 640, (left, top, side));
        var faces = StandIns.Scrfd.Detect(image);
        var face = Assert.Single(faces);
        Assert.True(face.Score > 0.8f, $"score {face.Score}");
        AssertFace(face, left, top, side, 1e-3f);
    }

    [Fact]
    public void Detect_TallImage_MapsBackThroughDetScale()
    {
        // 1280×1920: new_h 640, new_w 426, det_scale 1/3; a 192-px square at (864, 576) is 64 px at (288, 192).
        using var image = Scenes.Squares(1280, 1920, (864, 576, 192));
        var face = Assert.Single(StandIns.Scrfd.Detect(image));
        AssertFace(face, 864, 576, 192, 0.01f);
    }

    [Fact]
    public void Letterbox_MatchesInsightfaceIntegerSizes()
    {
        Assert.Equal(new ScrfdLetterbox(640, 426, 426.0 / 4000, 640), ScrfdLetterbox.For(6000, 4000, 640));
        Assert.Equal(new ScrfdLetterbox(426, 640, 640.0 / 1920, 640), ScrfdLetterbox.For(1280, 1920, 640));
        Assert.Equal(new ScrfdLetterbox(640, 640, 2.0, 640), ScrfdLetterbox.For(320, 320, 640));
    }

    [Fact]
    public void Decode_AnchorCentresWithoutHalfPixel_TwoAnchorsPerCell_DistancesTimesStride()
    {
        const int n = 80 * 80 * 2;
        var scores = new float[n];
        var boxes = new float[4 * n];
        var kps = new float[10 * n];
        var i = (2 * ((3 * 80) + 5)) + 1; // cell x=5, y=3, second anchor
        scores[i] = 0.5f; // ≥ threshold is kept
        scores[i - 1] = 0.4999f;
        boxes.AsSpan(4 * i, 4).SetValues(1, 2, 3, 4);
        kps.AsSpan(10 * i, 10).SetValues(1, -1, 0, 0, 0, 0, 0, 0, 0, 0);
        var found = new List<ScrfdCandidate>();
        ScrfdDecoder.Decode(scores, boxes, kps, 8, 640, 0.5f, 0.5, found, "test");
        var c = Assert.Single(found);
        // centre (40, 24); box (40−8, 24−16, 40+24, 24+32) / 0.5
        Assert.Equal([64f, 16f, 128f, 112f], new[] { c.X1, c.Y1, c.X2, c.Y2 });
        Assert.Equal(96f, c.Kps[0]);
        Assert.Equal(32f, c.Kps[1]);
    }

    [Fact]
    public void Nms_UsesPlusOneAreas_AndKeepsHighestScore()
    {
        // Boxes 0..9 and 6..15 (legacy +1: each 10×10 = 100, overlap 4×10 = 40 → IoU 40/160 = 0.25): both kept.
        // Boxes 0..9 and 3..12: overlap 7×10 = 70 → IoU 70/130 = 0.54 > 0.4: the lower score goes.
        var a = new ScrfdCandidate(0, 0, 9, 9, 0.95f, new float[10]);
        var far = new ScrfdCandidate(6, 0, 15, 9, 0.8f, new float[10]);
        var near = new ScrfdCandidate(3, 0, 12, 9, 0.9f, new float[10]);
        var kept = ScrfdDecoder.Nms([far, near, a], 0.4f);
        Assert.Equal([a, far], kept);
    }

    [Fact]
    public void Detect_NoFace_TinyFace_AndSeveralFaces()
    {
        using var empty = new Image<Rgb24>(500, 400);
        Assert.Empty(StandIns.Scrfd.Detect(empty));

        using var tiny = Scenes.Squares(640, 640, (300, 300, 4));
        Assert.Empty(StandIns.Scrfd.Detect(tiny));

        using var two = Scenes.Squares(640, 640, (288, 192, 64), (96, 88, 16));
        var faces = StandIns.Scrfd.Detect(two);
        Assert.Equal(2, faces.Count);
        Assert.Contains(faces, f => MathF.Abs(f.Box.Width - 64) < 0.01f);
        Assert.Contains(faces, f => MathF.Abs(f.Box.Width - 16) < 0.01f);
    }

    [Fact]
    public void Detect_HugeImage_IsDetectedOnADownscaledCopy()
    {
        // 6000×4000: det_scale = 426/4000; a 601-px square at (2704, 1803) lands on the stride-32 anchor (320, 224).
        using var image = Scenes.Squares(6000, 4000, (2704, 1803, 601));
        var face = Assert.Single(StandIns.Scrfd.Detect(image));
        var s = 4000f / 426f;
        AssertFace(face, 288 * s, 192 * s, 64 * s, 4f);
    }

    [Fact]
    public void Detect_GreyscaleAndExifRotated_ThroughFaceImagesLoad()
    {
        using (var grey = Scenes.Squares(640, 640, (288, 192, 64)).CloneAs<L8>())
        {
            using var ms = new MemoryStream();
            grey.SaveAsPng(ms);
            using var rgb = FaceImages.Load(new Miaoya.Imaging.EncodedImage(ms.ToArray()));
            AssertFace(Assert.Single(StandIns.Scrfd.Detect(rgb)), 288, 192, 64, 1e-3f);
        }

        // Stored rotated 90° clockwise with EXIF orientation 6 (display = rotate the stored image 90° clockwise):
        // the upright image has the square at (288, 192); store its 90° counter-clockwise rotation.
        using var upright = Scenes.Squares(640, 640, (288, 192, 64));
        using var stored = upright.Clone(c => c.Rotate(RotateMode.Rotate270));
        stored.Metadata.ExifProfile = new ExifProfile();
        stored.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var jpeg = new MemoryStream();
        stored.SaveAsJpeg(jpeg, new JpegEncoder { Quality = 95 });
        using var loaded = FaceImages.Load(new Miaoya.Imaging.EncodedImage(jpeg.ToArray()));
        AssertFace(Assert.Single(StandIns.Scrfd.Detect(loaded)), 288, 192, 64, 1e-3f);
    }
}

internal static class SpanExtensions
{
    public static void SetValues(this Span<float> span, params float[] values) => values.CopyTo(span);
}
