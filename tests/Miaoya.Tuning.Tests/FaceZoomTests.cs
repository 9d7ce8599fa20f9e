namespace Miaoya.Tuning.Tests;

/// <summary>The CSS window onto a face: the image scaled so the window fills the square, the window's corner at the square's.</summary>
public sealed class FaceZoomTests
{
    [Fact]
    public void Html_ScalesAndPositionsTheImageSoTheWindowFillsTheSquare()
    {
        // A window a quarter of the image wide and high, its left edge at 3/8 and top at 1/8 of the image.
        var html = FaceZoom.Html("cell/final.png", (0.375, 0.125, 0.25, 0.25), "face", 100);

        // Background 400 % of the square; position p % puts the image's p % point on the square's p % point:
        // left 0.375 / (1 − 0.25) = 50 %, top 0.125 / 0.75 = 16.67 %.
        Assert.Contains("background-size:400% 400%", html, StringComparison.Ordinal);
        Assert.Contains("background-position:50% 16.67%", html, StringComparison.Ordinal);
        Assert.Contains("background-image:url('cell/final.png')", html, StringComparison.Ordinal);
        Assert.Contains("width:100px;height:100px", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_AWindowAsLargeAsTheImage_ShowsTheWholeImage()
    {
        var html = FaceZoom.Html("a.png", (0, 0, 1, 1), "face");

        Assert.Contains("background-size:100% 100%;background-position:0% 0%", html, StringComparison.Ordinal);
    }
}
