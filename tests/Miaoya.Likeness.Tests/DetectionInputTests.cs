using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Likeness.Tests;

/// <summary>Detection on a reduced copy of large images, mapped back to full-resolution pixels.</summary>
public sealed class DetectionInputTests
{
    [Theory]
    [InlineData(1024, 1536, 171, 256, 6)]
    [InlineData(256, 256, 256, 256, 1)]
    [InlineData(257, 100, 129, 50, 2)]
    [InlineData(1001, 700, 251, 175, 4)]
    [InlineData(600, 1601, 86, 229, 7)]
    public void Shrink_ReducesTheLongSideTo256OrLess(int width, int height, int outWidth, int outHeight, int factor)
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

    [Theory]
    [InlineData(6)]
    [InlineData(5)]
    public void Reduce_WideImage_VectorPathEqualsBlockMeans(int factor)
    {
        // Rows far wider than a vector, with a partial block at the right and bottom edges.
        var random = new Random(factor);
        using var image = new Image<Rgb24>(203, 17);
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                image[x, y] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
            }
        }

        using var small = DetectionInput.Reduce(image, factor);

        for (var oy = 0; oy < small.Height; oy++)
        {
            for (var ox = 0; ox < small.Width; ox++)
            {
                int r = 0, g = 0, b = 0, n = 0;
                for (var y = oy * factor; y < Math.Min((oy + 1) * factor, image.Height); y++)
                {
                    for (var x = ox * factor; x < Math.Min((ox + 1) * factor, image.Width); x++)
                    {
                        var p = image[x, y];
                        (r, g, b, n) = (r + p.R, g + p.G, b + p.B, n + 1);
                    }
                }

                var expected = new Rgb24((byte)((r + (n / 2)) / n), (byte)((g + (n / 2)) / n), (byte)((b + (n / 2)) / n));
                Assert.Equal(expected, small[ox, oy]);
            }
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
