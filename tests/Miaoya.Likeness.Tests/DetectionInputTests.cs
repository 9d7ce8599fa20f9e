using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Likeness.Tests;

/// <summary>Detection on a reduced copy of large images, mapped back to full-resolution pixels.</summary>
public sealed class DetectionInputTests
{
    [Theory]
    [InlineData(1024, 1536, 256, 384, 4)]
    [InlineData(512, 512, 512, 512, 1)]
    [InlineData(1001, 700, 501, 350, 2)]
    [InlineData(600, 1601, 150, 401, 4)]
    public void Shrink_ReducesTheLongSideTo512OrLess(int width, int height, int outWidth, int outHeight, int factor)
    {
        using var image = new Image<Rgb24>(width, height);

        var (small, f) = DetectionInput.Shrink(image);
        using (small)
        {
            Assert.Equal((outWidth, outHeight, factor), (small.Width, small.Height, f));
            Assert.Equal(factor == 1, ReferenceEquals(small, image));
        }

        Assert.Equal(width, image.Width);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Reduce_TakesRoundedBlockMeans_AndPartialBlocksAtTheEdges(int factor)
    {
        using var image = new Image<Rgb24>(3, 2);
        image[0, 0] = new Rgb24(10, 0, 255);
        image[1, 0] = new Rgb24(20, 0, 255);
        image[0, 1] = new Rgb24(30, 0, 255);
        image[1, 1] = new Rgb24(41, 1, 255);
        image[2, 0] = new Rgb24(100, 50, 0);
        image[2, 1] = new Rgb24(200, 51, 0);

        using var small = DetectionInput.Reduce(image, factor);

        if (factor == 2)
        {
            Assert.Equal((2, 1), (small.Width, small.Height));
            Assert.Equal(new Rgb24(25, 0, 255), small[0, 0]);
            Assert.Equal(new Rgb24(150, 51, 0), small[1, 0]);
        }
        else
        {
            Assert.Equal((1, 1), (small.Width, small.Height));
            Assert.Equal(new Rgb24(67, 17, 170), small[0, 0]);
        }
    }

    [Fact]
    public void Score_LargeImage_FindsTheFaceInFullResolutionPixels()
    {
        using var astronaut = TestSupport.Astronaut();
        var reference = LikenessReference.Build(TestSupport.SFace, TestSupport.Detector, [new PersonPhoto("astronaut.png", astronaut)]);
        var small = reference.Score(TestSupport.SFace, TestSupport.Detector, astronaut);
        using var large = astronaut.Clone(c => c.Resize(1536, 1536));

        var score = reference.Score(TestSupport.SFace, TestSupport.Detector, large);

        Assert.Equal(1, score.FacesFound);
        Assert.InRange(score.Face!.Value.X, (3 * small.Face!.Value.X) - 12, (3 * small.Face.Value.X) + 12);
        Assert.InRange(score.Face.Value.Width, (3 * small.Face.Value.Width) - 12, (3 * small.Face.Value.Width) + 12);
        Assert.True(score.Similarity > 0.9, $"{score.Similarity}");
    }
}
