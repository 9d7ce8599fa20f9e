using System.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.FaceSwap.Tests;

/// <summary>
/// Paste-back (deepinsight/insightface v0.7 python-package/insightface/model_zoo/inswapper.py:57-104) in aligned space:
/// insightface's erosion k = max(mask_size/10, 10) and blur K = 2·max(mask_size/20, 5) + 1 with OpenCV's σ, converted
/// to crop pixels; float blend, truncation. Differences from insightface (documented in PasteBack): analytic separable
/// mask instead of warping and eroding on the frame, and the mask also fades where the frame edge clips the crop.
/// </summary>
public class PasteBackTests
{
    private static Matrix3x2 FaceMatrix(float x, float y, float scale, float degrees)
    {
        // image → crop: rotate and scale about the face, then move it into the crop.
        var r = degrees * MathF.PI / 180;
        return Matrix3x2.CreateTranslation(-x, -y) * Matrix3x2.CreateRotation(r) * Matrix3x2.CreateScale(scale) * Matrix3x2.CreateTranslation(64, 64);
    }

    [Theory]
    [InlineData(300f, 250f, 0.5f, 0f)]
    [InlineData(300f, 250f, 0.25f, 30f)]
    [InlineData(20f, 30f, 1.2f, -10f)] // clipped by the frame edge
    public void Apply_OutsideRegion_IsByteIdentical_AndInsideChanges(float x, float y, float scale, float degrees)
    {
        using var target = Scenes.Gradient(640, 480);
        var before = Scenes.Pixels(target);
        using var fake = new Image<Rgb24>(128, 128, new Rgb24(255, 0, 255));
        var m = FaceMatrix(x, y, scale, degrees);

        var region = PasteBack.Apply(target, fake, m);

        var after = Scenes.Pixels(target);
        var changedInside = 0;
        for (var py = 0; py < 480; py++)
        {
            for (var px = 0; px < 640; px++)
            {
                var i = (py * 640) + px;
                if (!region.Contains(px, py))
                {
                    Assert.Equal(before[i], after[i]);
                }
                else if (before[i] != after[i])
                {
                    changedInside++;
                }
            }
        }

        Assert.True(changedInside > 100, $"only {changedInside} pixels changed in {region}");
        var centre = after[((int)y * 640) + (int)x];
        Assert.Equal(new Rgb24(255, 0, 255), centre); // mask 1 at the face centre
    }

    [Fact]
    public void Apply_HasNoSeam_AtTheMaskEdge()
    {
        // Flat grey target, white fake, face 256 px wide (scale 0.5): walk a row through the face centre.
        using var target = new Image<Rgb24>(600, 400, new Rgb24(100, 100, 100));
        using var fake = new Image<Rgb24>(128, 128, new Rgb24(255, 255, 255));
        var m = FaceMatrix(300, 200, 0.5f, 0);
        var region = PasteBack.Apply(target, fake, m);
        var row = Scenes.Pixels(target).AsSpan(200 * 600, 600).ToArray();

        // Just outside and at the region's edge the target is untouched (mask exactly 0 at the crop border).
        Assert.Equal(100, row[region.Left].R);
        Assert.Equal(100, row[region.Right - 1].R);
        Assert.Equal(100, row[Math.Max(0, region.Left - 1)].R);
        // The transition is gradual: the largest step between neighbours is a fraction of the 155 contrast,
        // and the profile rises monotonically to the full value.
        var maxStep = 0;
        for (var i = region.Left; i < 300; i++)
        {
            var step = row[i + 1].R - row[i].R;
            Assert.True(step >= 0, $"not monotone at x={i}");
            maxStep = Math.Max(maxStep, step);
        }

        Assert.True(maxStep <= 30, $"step of {maxStep} at the mask edge");
        Assert.Equal(255, row[300].R);
    }

    [Fact]
    public void Mask_FollowsInsightfaceConstants()
    {
        // Face at crop scale 1 (mask_size 127): erosion 12 px (6 per side), K 13 → σ = 0.3·5 + 0.8 = 2.3, radius 6.
        var mask = PasteMask.For(Matrix3x2.Identity, 128);
        Assert.Equal(127, mask.MaskSize);
        Assert.Equal(6f, mask.Erosion, 4);
        Assert.Equal(2.3f, mask.Sigma, 4);
        Assert.Equal(6f, mask.Radius, 4);
        Assert.Equal(0f, mask.Profile(-0.5f));
        Assert.Equal(0f, mask.Profile(127.5f));
        Assert.Equal(0.5f, mask.Profile(5.5f), 2); // the eroded edge
        Assert.Equal(1f, mask.Profile(64f), 4);

        // Small face (mask_size < 100): the minimum kernels (10 and 5 image px) apply.
        var small = PasteMask.For(Matrix3x2.CreateScale(2f), 128); // 64 image px
        Assert.Equal(10f, small.Erosion, 3); // 5 image px per side × 2
        Assert.Equal(10f, small.Radius, 3);
    }
}
