using System.Buffers.Binary;
using System.Text;

namespace Miaoya.Imaging;

/// <summary>
/// Reads and writes PNG <c>tEXt</c> chunks on the encoded bytes, without re-encoding the pixels. The WebUI keeps a
/// picture's generation parameters in a text chunk with the keyword <c>parameters</c>, which its PNG Info tab reads.
/// </summary>
public static class PngText
{
    /// <summary>The keyword the WebUI uses for the infotext.</summary>
    public const string ParametersKeyword = "parameters";

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>The text of the first <c>tEXt</c> (Latin-1) or uncompressed <c>iTXt</c> (UTF-8) chunk with this keyword, or null.</summary>
    public static string? Read(EncodedImage png, string keyword)
    {
        ArgumentNullException.ThrowIfNull(png);
        foreach (var (type, chunk) in Chunks(png.Bytes.Span))
        {
            var data = chunk.AsSpan();
            var zero = data.IndexOf((byte)0);
            if (zero <= 0 || !Encoding.Latin1.GetString(data[..zero]).Equals(keyword, StringComparison.Ordinal))
            {
                continue;
            }

            if (type == "tEXt")
            {
                return Encoding.Latin1.GetString(data[(zero + 1)..]);
            }

            if (type == "iTXt" && data.Length > zero + 2 && data[zero + 1] == 0)
            {
                // keyword\0 compression-flag compression-method language\0 translated\0 text
                var rest = data[(zero + 3)..];
                var language = rest.IndexOf((byte)0);
                var translated = rest[(language + 1)..].IndexOf((byte)0);
                return Encoding.UTF8.GetString(rest[(language + 1 + translated + 1)..]);
            }
        }

        return null;
    }

    /// <summary>
    /// A copy of the PNG with the text set under <paramref name="keyword"/> (as UTF-8 <c>iTXt</c> when the text is not
    /// Latin-1), replacing any earlier chunk with that keyword. The chunk goes before <c>IEND</c>.
    /// </summary>
    public static EncodedImage With(EncodedImage png, string keyword, string text)
    {
        ArgumentNullException.ThrowIfNull(png);
        ArgumentException.ThrowIfNullOrEmpty(keyword);
        ArgumentNullException.ThrowIfNull(text);
        if (png.Format != ImageFileFormat.Png)
        {
            throw new InvalidImageDataException($"text chunks need a PNG, not a {png.Format} image.");
        }

        var latin1 = text.All(c => c <= 0xFF);
        var keywordBytes = Encoding.Latin1.GetBytes(keyword);
        var textBytes = latin1 ? Encoding.Latin1.GetBytes(text) : Encoding.UTF8.GetBytes(text);
        using var output = new MemoryStream(png.Length + textBytes.Length + 64);
        var bytes = png.Bytes.Span;
        output.Write(bytes[..8]);
        var offset = 8;
        while (offset + 12 <= bytes.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes[offset..]);
            var type = Encoding.ASCII.GetString(bytes.Slice(offset + 4, 4));
            var whole = bytes.Slice(offset, 12 + length);
            var data = bytes.Slice(offset + 8, length);
            if (type == "IEND")
            {
                var payload = new List<byte>(keywordBytes);
                payload.Add(0);
                if (!latin1)
                {
                    payload.AddRange([0, 0, 0, 0]); // not compressed, method 0, no language, no translated keyword
                }

                payload.AddRange(textBytes);
                WriteChunk(output, latin1 ? "tEXt" : "iTXt", payload.ToArray());
                output.Write(whole);
                break;
            }

            var isSameKeyword = (type is "tEXt" or "iTXt" or "zTXt")
                && data.IndexOf((byte)0) is var zero and > 0
                && data[..zero].SequenceEqual(keywordBytes);
            if (!isSameKeyword)
            {
                output.Write(whole);
            }

            offset += 12 + length;
        }

        return new EncodedImage(output.ToArray());
    }

    private static List<(string Type, byte[] Data)> Chunks(ReadOnlySpan<byte> bytes)
    {
        var chunks = new List<(string, byte[])>();
        var offset = 8;
        while (offset + 12 <= bytes.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes[offset..]);
            if (length < 0 || offset + 12 + length > bytes.Length)
            {
                break;
            }

            chunks.Add((Encoding.ASCII.GetString(bytes.Slice(offset + 4, 4)), bytes.Slice(offset + 8, length).ToArray()));
            offset += 12 + length;
        }

        return chunks;
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        output.Write(header);
        output.Write(data);
        var crc = Crc(header[4..], data);
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, crc);
        output.Write(trailer);
    }

    /// <summary>CRC-32 (ISO 3309, as the PNG specification defines it) over chunk type and data.</summary>
    private static uint Crc(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in type)
        {
            c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        foreach (var b in data)
        {
            c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return c ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
