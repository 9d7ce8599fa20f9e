using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Faces.Tests;

/// <summary>The direct resampler against ImageSharp's Triangle resize, which BlazeFace's letterbox used before it.</summary>
public sealed class TriangleResamplerTests
{
    [Theory]
    [InlineData(256, 384, 171, 256)]
    [InlineData(256, 384, 85, 128)]
    [InlineData(171, 256, 171, 256)]
    [InlineData(100, 60, 128, 77)]
    public void Fill_MatchesImageSharpsTriangleResize(int width, int height, int outWidth, int outHeight)
    {
        using var image = Noise(width, height, seed: width + height);
        using var reference = image.Clone(c => c.Resize(outWidth, outHeight, KnownResamplers.Triangle));
        var size = Math.Max(outWidth, outHeight);
        var tensor = new float[size * size * 3];

        TriangleResampler.Fill(image, new Rectangle(0, 0, width, height), outWidth, outHeight, tensor, size, 0, 0, 1f, 0f);

        // ImageSharp rounds to bytes; a level or two apart is the same picture, a misplaced kernel is tens apart.
        var worst = 0f;
        for (var y = 0; y < outHeight; y++)
        {
            for (var x = 0; x < outWidth; x++)
            {
                var p = reference[x, y];
                var i = ((y * size) + x) * 3;
                worst = Math.Max(worst, Math.Max(Math.Abs(tensor[i] - p.R), Math.Max(Math.Abs(tensor[i + 1] - p.G), Math.Abs(tensor[i + 2] - p.B))));
            }
        }

        Assert.True(worst <= 2f, $"largest difference {worst} levels");
    }

    [Fact]
    public void Fill_WritesTheRegionAtItsOffset_ScaledAndOffset_LeavingTheRestAlone()
    {
        using var image = new Image<Rgb24>(40, 20, new Rgb24(255, 0, 51));
        for (var y = 0; y < 20; y++)
        {
            for (var x = 0; x < 20; x++)
            {
                image[x, y] = new Rgb24(0, 0, 0);
            }
        }

        var tensor = Enumerable.Repeat(-7f, 16 * 16 * 3).ToArray();

        // The right half (all red) into an 8×8 square at (4, 6) of a 16-wide tensor, as v = p / 127.5 − 1.
        TriangleResampler.Fill(image, new Rectangle(20, 0, 20, 20), 8, 8, tensor, 16, 4, 6, 1f / 127.5f, -1f);

        float At(int x, int y, int c) => tensor[(((y * 16) + x) * 3) + c];
        Assert.Equal((1f, -1f, -0.6f), (At(4, 6, 0), At(4, 6, 1), MathF.Round(At(4, 6, 2), 3)));
        Assert.Equal((1f, -1f), (At(11, 13, 0), At(11, 13, 1)));
        Assert.Equal(-7f, At(3, 6, 0));
        Assert.Equal(-7f, At(12, 13, 0));
        Assert.Equal(-7f, At(4, 5, 0));
        Assert.Equal(-7f, At(4, 14, 0));
    }

    [Fact]
    public void Letterbox_LargeShrink_GoesThroughImageSharp_AndAgreesWithTheDirectPath()
    {
        using var image = Noise(1024, 1536, seed: 3);
        var letterbox = Letterbox.Fit(new Rectangle(0, 0, 1024, 1536), 256);
        Assert.True(1f / letterbox.Scale > Letterbox.DirectMaxRatio);
        var viaImageSharp = new float[256 * 256 * 3];
        letterbox.Fill(image, viaImageSharp);

        var direct = new float[256 * 256 * 3];
        Array.Fill(direct, -1f);
        TriangleResampler.Fill(image, new Rectangle(0, 0, 1024, 1536), letterbox.ContentWidth, letterbox.ContentHeight, direct, 256, letterbox.PadX, letterbox.PadY, 1f / 127.5f, -1f);

        var worst = viaImageSharp.Zip(direct, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 3f / 127.5f, $"largest difference {worst * 127.5f} levels");
    }

    private static Image<Rgb24> Noise(int width, int height, int seed)
    {
        // Smooth structure plus noise, so a shifted kernel shows.
        var random = new Random(seed);
        var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = new Rgb24(
                    (byte)((x * 255 / width) ^ random.Next(32)),
                    (byte)((y * 255 / height) ^ random.Next(32)),
                    (byte)random.Next(256));
            }
        }

        return image;
    }
}
