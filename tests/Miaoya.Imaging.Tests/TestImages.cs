using System.Buffers.Binary;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Imaging.Tests;

/// <summary>Small encoded images for the hostile-input tests, and PNG files written chunk by chunk.</summary>
internal static class TestImages
{
    /// <summary>A noisy image (so that it does not compress to nothing), the same for the same seed.</summary>
    public static Image<Rgba32> Noise(int width, int height, int seed = 1)
    {
        var random = new Random(seed);
        var image = new Image<Rgba32>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                foreach (ref var pixel in rows.GetRowSpan(y))
                {
                    pixel = new Rgba32((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                }
            }
        });
        return image;
    }

    public static byte[] Encode(Action<Image, Stream> save, int width = 48, int height = 32)
    {
        using var image = Noise(width, height);
        using var stream = new MemoryStream();
        save(image, stream);
        return stream.ToArray();
    }

    public static byte[] Png(int width = 48, int height = 32) => Encode((i, s) => i.SaveAsPng(s), width, height);

    public static byte[] Jpeg(int width = 48, int height = 32) => Encode((i, s) => i.SaveAsJpeg(s), width, height);

    public static byte[] WebP(int width = 48, int height = 32) => Encode((i, s) => i.SaveAsWebp(s), width, height);

    public static byte[] WebPLossless(int width = 48, int height = 32) =>
        Encode((i, s) => i.SaveAsWebp(s, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }), width, height);

    /// <summary>A PNG of the given chunks after the signature (each given as type and data; length and CRC are added).</summary>
    public static byte[] PngOfChunks(params (string Type, byte[] Data)[] chunks)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var word = new byte[4];
        foreach (var (type, data) in chunks)
        {
            BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
            stream.Write(word);
            var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            stream.Write(typeAndData);
            BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
            stream.Write(word);
        }

        return stream.ToArray();
    }

    /// <summary>
    /// A PNG whose header says <paramref name="width"/> × <paramref name="height"/> (8-bit grey) with one tiny IDAT: what
    /// a header check sees of a huge image, without the megabytes.
    /// </summary>
    public static byte[] PngHeaderOnly(uint width, uint height)
    {
        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 0; // greyscale
        // An empty zlib stream (no rows at all): decoding it fails; a header check never looks.
        byte[] idat = [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
        return PngOfChunks(("IHDR", header), ("IDAT", idat), ("IEND", []));
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
