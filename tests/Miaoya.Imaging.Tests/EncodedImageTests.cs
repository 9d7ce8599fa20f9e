using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Imaging.Tests;

public sealed class EncodedImageTests
{
    private static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgba32>(width, height, new Rgba32(10, 20, 30));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static byte[] Encode(Action<Image<Rgba32>, Stream> save)
    {
        using var image = new Image<Rgba32>(6, 4, new Rgba32(200, 100, 50));
        using var stream = new MemoryStream();
        save(image, stream);
        return stream.ToArray();
    }

    [Fact]
    public void DetectFormat_RecognisesPngJpegWebPBySignature()
    {
        Assert.Equal(ImageFileFormat.Png, new EncodedImage(Png(2, 2)).Format);
        Assert.Equal(ImageFileFormat.Jpeg, new EncodedImage(Encode((i, s) => i.SaveAsJpeg(s))).Format);
        Assert.Equal(ImageFileFormat.WebP, new EncodedImage(Encode((i, s) => i.SaveAsWebp(s))).Format);
        Assert.Equal(ImageFileFormat.Unknown, new EncodedImage("GIF89a"u8.ToArray()).Format);
    }

    [Fact]
    public void FromBase64_AcceptsRawAndDataUrl()
    {
        var bytes = Png(3, 2);
        var raw = Convert.ToBase64String(bytes);

        Assert.Equal(bytes, EncodedImage.FromBase64(raw).Bytes.ToArray());
        Assert.Equal(bytes, EncodedImage.FromBase64("data:image/png;base64," + raw).Bytes.ToArray());
        Assert.Equal(bytes, EncodedImage.FromBase64Utf8(System.Text.Encoding.ASCII.GetBytes("data:image/png;base64," + raw)).Bytes.ToArray());
        Assert.Equal((3, 2), EncodedImage.FromBase64(raw).ReadSize());
    }

    [Fact]
    public void FromBase64_TruncatedText_SaysSo()
    {
        var raw = Convert.ToBase64String(Png(3, 2));

        var error = Assert.Throws<InvalidImageDataException>(() => EncodedImage.FromBase64Utf8(System.Text.Encoding.ASCII.GetBytes(raw[..^3])));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsTruncated_SpotsCutPngJpegAndWebP()
    {
        var png = Png(32, 32);
        var jpeg = Encode((i, s) => i.SaveAsJpeg(s));
        var webp = Encode((i, s) => i.SaveAsWebp(s));

        Assert.False(new EncodedImage(png).IsTruncated());
        Assert.False(new EncodedImage(jpeg).IsTruncated());
        Assert.False(new EncodedImage(webp).IsTruncated());
        Assert.True(new EncodedImage(png.AsMemory(0, png.Length - 12)).IsTruncated());
        Assert.True(new EncodedImage(jpeg.AsMemory(0, jpeg.Length - 2)).IsTruncated());
        Assert.True(new EncodedImage(webp.AsMemory(0, webp.Length - 4)).IsTruncated());
    }

    [Fact]
    public void Decode_CorruptPng_NamesTheFormat()
    {
        var bytes = Png(16, 16);
        var corrupt = bytes[..40];

        var error = Assert.Throws<InvalidImageDataException>(() => new EncodedImage(corrupt).Decode());

        Assert.StartsWith("the Png file of 40 bytes is cut short", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteFileAtomically_LeavesNoTemporaryFiles()
    {
        var folder = Path.Combine(Path.GetTempPath(), "miaoya-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var image = new EncodedImage(Png(2, 2));
            await image.WriteFileAtomicallyAsync(Path.Combine(folder, "a.png"));
            await image.WriteFileAtomicallyAsync(Path.Combine(folder, "a.png"));

            Assert.Equal(["a.png"], Directory.GetFiles(folder).Select(Path.GetFileName));
            Assert.Equal(image.Bytes.ToArray(), await File.ReadAllBytesAsync(Path.Combine(folder, "a.png")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
