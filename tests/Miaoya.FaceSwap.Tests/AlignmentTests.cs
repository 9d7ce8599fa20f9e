using System.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.FaceSwap.Tests;

/// <summary>
/// Alignment against closed forms. Conventions matching insightface: arcface_dst and estimate_norm's 128 template
/// (+8 px in x, not ×128/112), 4-DOF similarity (skimage SimilarityTransform), warp sampling at M⁻¹·p with integer
/// pixel centres and a black border (cv2.warpAffine). Difference: float bilinear weights, rounded (OpenCV: 1/32 px
/// fixed point) — ≤ 1 LSB.
/// </summary>
public class AlignmentTests
{
    [Fact]
    public void Template_128_IsArcFaceShiftedBy8_Not_Rescaled()
    {
        var t = FaceAlignment.Template(128);
        Assert.Equal(46.2946f, t[0].X, 4);
        Assert.Equal(51.6963f, t[0].Y, 4);
        Assert.Equal(78.7299f, t[4].X, 4);
        var t224 = FaceAlignment.Template(224);
        Assert.Equal(2 * 38.2946f, t224[0].X, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => FaceAlignment.Template(100));
    }

    [Theory]
    [InlineData(112, 1.0, 0.0, 0.0, 0.0)]
    [InlineData(112, 0.37, 20.0, 15.5, -42.25)]
    [InlineData(128, 0.1, -35.0, -300.0, 120.0)]
    [InlineData(128, 2.5, 170.0, 7.0, 9.0)]
    public void EstimateSimilarity_ExactlyTransformedTemplate_GivesThatMatrix(int size, double scale, double degrees, double tx, double ty)
    {
        var r = degrees * Math.PI / 180;
        var (a, b) = ((float)(scale * Math.Cos(r)), (float)(scale * Math.Sin(r)));
        var expected = new Matrix3x2(a, b, -b, a, (float)tx, (float)ty); // image → crop
        var inverse = FaceAlignment.Invert(expected);
        var template = FaceAlignment.Template(size);
        var points = template.Select(p => { var v = Vector2.Transform(new Vector2(p.X, p.Y), inverse); return new PointF(v.X, v.Y); }).ToArray();

        var m = FaceAlignment.EstimateNorm(Face5.FromPoints(points), size);

        var tol = 1e-4f * Math.Max(1f, MathF.Abs((float)tx) + MathF.Abs((float)ty));
        Assert.Equal(expected.M11, m.M11, 1e-4f);
        Assert.Equal(expected.M12, m.M12, 1e-4f);
        Assert.Equal(expected.M21, m.M21, 1e-4f);
        Assert.Equal(expected.M22, m.M22, 1e-4f);
        Assert.Equal(expected.M31, m.M31, tol);
        Assert.Equal(expected.M32, m.M32, tol);
    }

    [Fact]
    public void Invert_ComposedWithForward_IsIdentity()
    {
        var points = new PointF[] { new(300, 400), new(380, 395), new(342, 450), new(310, 490), new(372, 488) };
        var m = FaceAlignment.EstimateNorm(Face5.FromPoints(points), 128);
        var id = m * FaceAlignment.Invert(m);
        Assert.Equal(1f, id.M11, 1e-5f);
        Assert.Equal(0f, id.M12, 1e-5f);
        Assert.Equal(0f, id.M21, 1e-5f);
        Assert.Equal(1f, id.M22, 1e-5f);
        Assert.Equal(0f, id.M31, 1e-3f);
        Assert.Equal(0f, id.M32, 1e-3f);
    }

    [Fact]
    public void EstimateSimilarity_MirroredPoints_NeverReflects()
    {
        // A mirrored face (eyes swapped) must still give a rotation+scale (det > 0), never a reflection.
        var t = FaceAlignment.Template(112);
        var mirrored = t.Select(p => new PointF(112 - p.X, p.Y)).ToArray();
        var m = FaceAlignment.EstimateSimilarity(mirrored, t);
        Assert.True(m.GetDeterminant() > 0);
        Assert.Equal(m.M11, m.M22, 5);
        Assert.Equal(m.M12, -m.M21, 5);
    }

    [Fact]
    public void Warp_IntegerTranslation_CopiesPixels_AndHalfPixel_Averages()
    {
        using var image = Scenes.Gradient(300, 200);
        var src = Scenes.Pixels(image);
        using var crop = FaceAlignment.Warp(image, Matrix3x2.CreateTranslation(-40, -30), 112);
        var c = Scenes.Pixels(crop);
        Assert.Equal(src[(30 * 300) + 40], c[0]);
        Assert.Equal(src[(141 * 300) + 151], c[(111 * 112) + 111]);

        using var half = FaceAlignment.Warp(image, Matrix3x2.CreateTranslation(-40.5f, -30), 112);
        var h = Scenes.Pixels(half);
        Assert.Equal((src[(30 * 300) + 40].R + src[(30 * 300) + 41].R) / 2.0, h[0].R, 0.51);
    }

    [Fact]
    public void Warp_OutsideTheImage_IsBlack()
    {
        using var image = new Image<Rgb24>(50, 50, new Rgb24(200, 200, 200));
        using var crop = FaceAlignment.Warp(image, Matrix3x2.CreateTranslation(30, 30), 112);
        var c = Scenes.Pixels(crop);
        Assert.Equal(default, c[0]);
        Assert.Equal(new Rgb24(200, 200, 200), c[(40 * 112) + 40]);
    }

    [Fact]
    public void FromBlazeFace_MapsEyesNose_AndEstimatesMouthCorners()
    {
        var face = new Miaoya.Faces.DetectedFace(
            new RectangleF(0, 0, 100, 100),
            [new(30, 40), new(70, 40), new(50, 60), new(50, 80), new(10, 50), new(90, 50)],
            0.9f);
        var f5 = Face5.FromBlazeFace(face);
        Assert.Equal(new PointF(30, 40), f5.ImageLeftEye);
        Assert.Equal(new PointF(70, 40), f5.ImageRightEye);
        Assert.Equal(new PointF(50, 60), f5.Nose);
        Assert.Equal(50 - (20 * Face5.TemplateMouthToEyeRatio), f5.ImageLeftMouth.X, 4);
        Assert.Equal(50 + (20 * Face5.TemplateMouthToEyeRatio), f5.ImageRightMouth.X, 4);
        Assert.Equal(80f, f5.ImageRightMouth.Y, 4);
    }
}
