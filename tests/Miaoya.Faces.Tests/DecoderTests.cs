using SixLabors.ImageSharp;

namespace Miaoya.Faces.Tests;

public class DecoderTests
{
    [Fact]
    public void Anchors_896_GridOrder()
    {
        var a = BlazeFaceDecoder.Anchors;
        Assert.Equal(896 * 2, a.Length);

        // MediaPipe's anchor order (mediapipe/calculators/tflite/ssd_anchors_calculator.cc:353-376): first layer
        // 16×16×2, y outer, x inner, anchor innermost; then 8×8×6.
        Assert.Equal((0.5f / 16, 0.5f / 16), (a[0], a[1]));
        Assert.Equal((0.5f / 16, 0.5f / 16), (a[2], a[3]));
        Assert.Equal((1.5f / 16, 0.5f / 16), (a[4], a[5]));
        Assert.Equal((0.5f / 8, 0.5f / 8), (a[512 * 2], a[(512 * 2) + 1]));
        Assert.Equal((7.5f / 8, 7.5f / 8), (a[895 * 2], a[(895 * 2) + 1]));
    }

    [Fact]
    public void Score_SigmoidClipped()
    {
        Assert.Equal(0.5f, BlazeFaceDecoder.Score(0));
        Assert.Equal(BlazeFaceDecoder.Score(100), BlazeFaceDecoder.Score(1e9f));
        Assert.False(float.IsNaN(BlazeFaceDecoder.Score(-1e9f)));
    }

    [Fact]
    public void DecodeLayer_OffsetsFromAnchorInInputPixels()
    {
        var scores = new float[512];
        var regressors = new float[512 * 16];
        scores[2] = 5; // anchor 2: cell (1,0), centre (1.5/16, 0.5/16)
        float[] r = [12.8f, 0, 25.6f, 12.8f, 0, 0, 1.28f, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        r.CopyTo(regressors, 2 * 16);
        var into = new List<NormalizedDetection>();

        BlazeFaceDecoder.DecodeLayer(scores, regressors, 0, 128, 0.5f, into);

        var d = Assert.Single(into);
        var cx = (1.5f / 16) + 0.1f;
        Assert.Equal(cx - 0.1f, d.XMin, 5);
        Assert.Equal(cx + 0.1f, d.XMax, 5);
        Assert.Equal((0.5f / 16) - 0.05f, d.YMin, 5);
        Assert.Equal(1.5f / 16, d.Keypoints[0], 5);
        Assert.Equal((1.5f / 16) + 0.01f, d.Keypoints[2], 5);
    }

    [Fact]
    public void WeightedNms_MergesOverlaps_KeepsTopScore_SeparatesDistantBoxes()
    {
        var kpA = Enumerable.Repeat(0.2f, 12).ToArray();
        var kpB = Enumerable.Repeat(0.4f, 12).ToArray();
        var list = new List<NormalizedDetection>
        {
            new(0.1f, 0.1f, 0.3f, 0.3f, 0.6f, kpA),
            new(0.12f, 0.12f, 0.32f, 0.32f, 0.9f, kpB),
            new(0.7f, 0.7f, 0.8f, 0.8f, 0.7f, kpA),
        };

        var merged = BlazeFaceDecoder.WeightedNms(list, 0.3f);

        Assert.Equal(2, merged.Count);
        Assert.Equal(0.9f, merged[0].Score);
        var w = (0.1f * 0.6f + 0.12f * 0.9f) / 1.5f;
        Assert.Equal(w, merged[0].XMin, 5);
        Assert.Equal((0.2f * 0.6f + 0.4f * 0.9f) / 1.5f, merged[0].Keypoints[5], 5);
        Assert.Equal(0.7f, merged[1].XMin, 5);
    }

    [Fact]
    public void PlausibleLandmarks_UprightRotatedAndScrambled()
    {
        static NormalizedDetection From(DetectedFace f) => new(
            f.Box.Left, f.Box.Top, f.Box.Right, f.Box.Bottom, f.Score, [.. f.Landmarks.SelectMany(p => new[] { p.X, p.Y })]);

        var upright = TestFaces.Upright(100, 100, 80);
        Assert.True(BlazeFaceDecoder.HasPlausibleLandmarks(From(upright)));

        // Turned 90°: still a face.
        var turned = upright with { Landmarks = [.. upright.Landmarks.Select(p => new PointF(200 - p.Y, p.X))] };
        Assert.True(BlazeFaceDecoder.HasPlausibleLandmarks(From(turned)));

        // Mouth between the eyes' line and the nose: not a face.
        var l = upright.Landmarks.ToArray();
        (l[2], l[3]) = (l[3], l[2]);
        Assert.False(BlazeFaceDecoder.HasPlausibleLandmarks(From(upright with { Landmarks = l })));

        // Eyes on top of each other: not a face.
        var m = upright.Landmarks.ToArray();
        m[1] = m[0];
        Assert.False(BlazeFaceDecoder.HasPlausibleLandmarks(From(upright with { Landmarks = m })));
    }

    [Fact]
    public void Letterbox_RoundTripsPoints()
    {
        var box = Letterbox.Fit(new Rectangle(100, 50, 400, 200), 128);
        Assert.Equal((128, 64, 0, 32), (box.ContentWidth, box.ContentHeight, box.PadX, box.PadY));
        var d = box.ToSource(new NormalizedDetection(0, 0.25f, 1, 0.75f, 1, new float[12]));
        Assert.Equal(100, d.XMin, 3);
        Assert.Equal(500, d.XMax, 3);
        Assert.Equal(50, d.YMin, 3);
        Assert.Equal(250, d.YMax, 3);
    }

    [Fact]
    public void Tiles_CoverImage_WithOverlap()
    {
        var tiles = BlazeFaceDetector.Tiles(1024, 1024, 384);
        Assert.Equal(25, tiles.Count);
        Assert.All(tiles, t => Assert.Equal((384, 384), (t.Width, t.Height)));
        Assert.Equal(1024, tiles.Max(t => t.Right));
        Assert.Single(BlazeFaceDetector.Tiles(300, 200, 384));
        Assert.True(BlazeFaceDetector.Tiles(6000, 4000, 384).Count <= 25);
    }
}
