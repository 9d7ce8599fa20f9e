using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.WebUi.Tests;

/// <summary>Small images made in code so their provenance is clear.</summary>
internal static class TestImages
{
    public static EncodedImage Png(int width = 8, int height = 8, byte shade = 128) => Encode(width, height, shade, "png");

    public static EncodedImage Jpeg(int width = 8, int height = 8) => Encode(width, height, 90, "jpg");

    public static EncodedImage WebP(int width = 8, int height = 8) => Encode(width, height, 60, "webp");

    private static EncodedImage Encode(int width, int height, byte shade, string format)
    {
        using var image = new Image<Rgba32>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgba32((byte)(x * 255 / width), (byte)(y * 255 / height), shade);
                }
            }
        });
        using var stream = new MemoryStream();
        switch (format)
        {
            case "jpg":
                image.SaveAsJpeg(stream, new JpegEncoder { Quality = 90 });
                break;
            case "webp":
                image.SaveAsWebp(stream, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless });
                break;
            default:
                image.SaveAsPng(stream);
                break;
        }

        return new EncodedImage(stream.ToArray());
    }
}
