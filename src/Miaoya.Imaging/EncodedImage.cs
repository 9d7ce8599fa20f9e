using System.Buffers.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Imaging;

/// <summary>
/// The bytes of one encoded image file (PNG, JPEG or WebP) as the WebUI sends and receives them.
/// The format is recognised from the content, never assumed: the WebUI answers in whatever its
/// <c>samples_format</c> option says (A1111 modules/api/api.py:102-132).
/// </summary>
public sealed class EncodedImage
{
    private const string DataUrlPrefix = "data:";

    private static readonly SixLabors.ImageSharp.Formats.Png.PngEncoder FastPng = new()
    {
        CompressionLevel = SixLabors.ImageSharp.Formats.Png.PngCompressionLevel.BestSpeed,
    };

    /// <summary>Wraps bytes of an encoded image. The bytes are not copied; do not change them afterwards.</summary>
    public EncodedImage(ReadOnlyMemory<byte> bytes)
    {
        Bytes = bytes;
        Format = DetectFormat(bytes.Span);
    }

    /// <summary>The encoded file.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The container format recognised from the leading bytes.</summary>
    public ImageFileFormat Format { get; }

    /// <summary>Length of the encoded file in bytes.</summary>
    public int Length => Bytes.Length;

    /// <summary>The usual file extension for <see cref="Format"/>, with the dot.</summary>
    public string FileExtension => Format switch
    {
        ImageFileFormat.Png => ".png",
        ImageFileFormat.Jpeg => ".jpg",
        ImageFileFormat.WebP => ".webp",
        _ => ".bin",
    };

    /// <summary>Reads an image file.</summary>
    public static async Task<EncodedImage> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        var image = new EncodedImage(bytes);
        if (image.Format == ImageFileFormat.Unknown)
        {
            throw new InvalidImageDataException($"{path}: not a PNG, JPEG or WebP file.");
        }

        return image;
    }

    /// <summary>
    /// Decodes raw base64 or a <c>data:image/...;base64,</c> URL (the two forms the WebUI accepts,
    /// A1111 modules/api/api.py:93-99). Throws <see cref="InvalidImageDataException"/> when the text is not base64.
    /// </summary>
    public static EncodedImage FromBase64(ReadOnlySpan<char> text)
    {
        var payload = StripDataUrl(text);
        var buffer = new byte[Base64.GetMaxDecodedFromUtf8Length(payload.Length)];
        if (!Convert.TryFromBase64Chars(payload, buffer, out var written))
        {
            throw new InvalidImageDataException($"image is not valid base64 ({payload.Length} characters).");
        }

        return new EncodedImage(buffer.AsMemory(0, written));
    }

    /// <summary>As <see cref="FromBase64(ReadOnlySpan{char})"/>, from UTF-8 text (straight from a JSON buffer).</summary>
    public static EncodedImage FromBase64Utf8(ReadOnlySpan<byte> utf8)
    {
        if (utf8.StartsWith("data:"u8))
        {
            var comma = utf8.IndexOf((byte)',');
            if (comma < 0)
            {
                throw new InvalidImageDataException("data: URL without a comma before its payload.");
            }

            utf8 = utf8[(comma + 1)..];
        }

        var buffer = new byte[Base64.GetMaxDecodedFromUtf8Length(utf8.Length)];
        var status = Base64.DecodeFromUtf8(utf8, buffer, out _, out var written);
        if (status != System.Buffers.OperationStatus.Done)
        {
            throw new InvalidImageDataException(
                $"image is not valid base64 ({status} after {written} bytes of {utf8.Length} characters; truncated?).");
        }

        return new EncodedImage(buffer.AsMemory(0, written));
    }

    /// <summary>Encodes the bytes as raw base64, the form the WebUI returns.</summary>
    public string ToBase64() => Convert.ToBase64String(Bytes.Span);

    /// <summary>A <c>data:</c> URL with the MIME type of the recognised format.</summary>
    public string ToDataUrl() => $"data:{MimeType};base64,{ToBase64()}";

    /// <summary>The MIME type of the recognised format.</summary>
    public string MimeType => Format switch
    {
        ImageFileFormat.Png => "image/png",
        ImageFileFormat.Jpeg => "image/jpeg",
        ImageFileFormat.WebP => "image/webp",
        _ => "application/octet-stream",
    };

    /// <summary>Decodes the pixels. The caller owns (and disposes) the returned image.</summary>
    public Image<Rgba32> Decode()
    {
        if (Format == ImageFileFormat.Unknown)
        {
            throw new InvalidImageDataException($"image of {Length} bytes is not PNG, JPEG or WebP.");
        }

        try
        {
            return Image.Load<Rgba32>(Bytes.Span);
        }
        catch (Exception e) when (e is ImageFormatException or UnknownImageFormatException)
        {
            throw new InvalidImageDataException($"{Format} image of {Length} bytes does not decode: {e.Message}", e);
        }
    }

    /// <summary>Reads width and height without decoding the pixels.</summary>
    public (int Width, int Height) ReadSize()
    {
        using var stream = OpenRead();
        var info = Image.Identify(stream)
            ?? throw new InvalidImageDataException($"image of {Length} bytes is not a recognised format.");
        return (info.Width, info.Height);
    }

    /// <summary>Writes the bytes to a file atomically (see <see cref="AtomicFile"/>).</summary>
    public Task WriteFileAtomicallyAsync(string path, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllBytesAsync(path, Bytes, cancellationToken);

    /// <summary>Encodes an image as PNG (fast deflate: these files are intermediates sent to a WebUI, not archives).</summary>
    public static EncodedImage FromPng(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, FastPng);
        return new EncodedImage(stream.GetBuffer().AsMemory(0, (int)stream.Length));
    }

    /// <summary>
    /// True when the file is cut short: a PNG without its IEND chunk, a JPEG without an end-of-image marker near its end,
    /// a WebP shorter than its RIFF header says. Decoders here fill missing rows silently, so check before trusting pixels.
    /// </summary>
    public bool IsTruncated()
    {
        var bytes = Bytes.Span;
        switch (Format)
        {
            case ImageFileFormat.Png:
                return bytes.Length < 20 || !bytes[^8..^4].SequenceEqual("IEND"u8);
            case ImageFileFormat.Jpeg:
                var tail = bytes[Math.Max(0, bytes.Length - 1024)..];
                for (var i = tail.Length - 2; i >= 0; i--)
                {
                    if (tail[i] == 0xFF && tail[i + 1] == 0xD9)
                    {
                        return false;
                    }
                }

                return true;
            case ImageFileFormat.WebP:
                return bytes.Length < 12 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..8]) + 8L > bytes.Length;
            default:
                return false;
        }
    }

    /// <summary>Recognises PNG, JPEG and WebP from their signatures.</summary>
    public static ImageFileFormat DetectFormat(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ImageFileFormat.Png;
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ImageFileFormat.Jpeg;
        }

        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
        {
            return ImageFileFormat.WebP;
        }

        return ImageFileFormat.Unknown;
    }

    /// <summary>A read-only stream over the bytes, without copying them.</summary>
    public MemoryStream OpenRead() =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(Bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(Bytes.ToArray(), writable: false);

    private static ReadOnlySpan<char> StripDataUrl(ReadOnlySpan<char> text)
    {
        if (!text.StartsWith(DataUrlPrefix, StringComparison.Ordinal))
        {
            return text;
        }

        var comma = text.IndexOf(',');
        if (comma < 0)
        {
            throw new InvalidImageDataException("data: URL without a comma before its payload.");
        }

        return text[(comma + 1)..];
    }

    /// <inheritdoc />
    public override string ToString() => $"{Format} image, {Length} bytes";
}
