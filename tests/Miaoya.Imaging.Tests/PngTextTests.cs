using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Imaging.Tests;

public sealed class PngTextTests
{
    private static EncodedImage Png()
    {
        using var image = new Image<Rgba32>(4, 3, new Rgba32(1, 2, 3));
        return EncodedImage.FromPng(image);
    }

    [Fact]
    public void With_AddsAChunkThatImageSharpReadsBack_AndKeepsThePixels()
    {
        const string infotext = "portrait, <lora:x:0.9>\nNegative prompt: badhandv4\nSteps: 30, Sampler: DPM++ SDE, Seed: 3000000000";

        var tagged = PngText.With(Png(), PngText.ParametersKeyword, infotext);

        using var image = Image.Load<Rgba32>(tagged.Bytes.ToArray());
        var text = image.Metadata.GetPngMetadata().TextData;
        Assert.Contains(text, t => t.Keyword == "parameters" && t.Value == infotext);
        Assert.Equal(new Rgba32(1, 2, 3), image[3, 2]);
        Assert.Equal(infotext, PngText.Read(tagged, PngText.ParametersKeyword));
    }

    [Fact]
    public void With_ReplacesAnEarlierChunk_AndWritesUtf8AsItxt()
    {
        var once = PngText.With(Png(), "parameters", "old");

        var twice = PngText.With(once, "parameters", "微笑, smile");

        Assert.Equal("微笑, smile", PngText.Read(twice, "parameters"));
        using var image = Image.Load<Rgba32>(twice.Bytes.ToArray());
        Assert.Single(image.Metadata.GetPngMetadata().TextData, t => t.Keyword == "parameters");
    }

    [Fact]
    public void With_OnJpeg_IsRefused()
    {
        using var image = new Image<Rgba32>(2, 2);
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream);

        Assert.Throws<InvalidImageDataException>(() => PngText.With(new EncodedImage(stream.ToArray()), "parameters", "x"));
    }
}
