using System.Buffers.Text;
using Miaoya.Limits;
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

    /// <summary>
    /// Reads an image file of at most <see cref="ImageLimits.MaxFileBytes"/>: its first
    /// bytes must be a PNG, JPEG or WebP signature (so <c>/dev/zero</c> or a text file is refused at once, unread), then the
    /// rest is read up to the limit. Everything wrong is an <see cref="InvalidImageDataException"/> naming the file.
    /// </summary>
    public static Task<EncodedImage> ReadFileAsync(string path, CancellationToken cancellationToken = default) =>
        ReadFileAsync(path, InputLimits.Images.MaxFileBytes, cancellationToken);

    /// <summary>As <see cref="ReadFileAsync(string, CancellationToken)"/> with its own byte limit.</summary>
    public static async Task<EncodedImage> ReadFileAsync(string path, long maxBytes, CancellationToken cancellationToken = default)
    {
        byte[] bytes;
        try
        {
            var head = BoundedFile.ReadPrefix(path, 16, "image");
            if (DetectFormat(head) == ImageFileFormat.Unknown)
            {
                throw new InvalidImageDataException($"{path}: not a PNG, JPEG or WebP file.");
            }

            bytes = await BoundedFile.ReadAllBytesAsync(path, maxBytes, "image", cancellationToken);
        }
        catch (InputLimitException e)
        {
            throw new InvalidImageDataException(e.Message, e);
        }

        var image = new EncodedImage(bytes);
        if (image.Format == ImageFileFormat.Unknown)
        {
            throw new InvalidImageDataException($"{path}: not a PNG, JPEG or WebP file.");
        }

        return image;
    }

    /// <summary>
    /// Checks an image from outside (an upload, a file, a box's answer) without decoding its pixels: a format we promise
    /// (PNG, JPEG, WebP, by signature), not cut short, a header ImageSharp reads, and at most
    /// <see cref="ImageLimits.MaxSide"/> (or <paramref name="maxSide"/>) per side and <see cref="ImageLimits.MaxPixels"/>
    /// in all. Returns its size; throws <see cref="InvalidImageDataException"/> saying what is wrong.
    /// </summary>
    public (int Width, int Height) Check(int? maxSide = null)
    {
        var limits = InputLimits.Images;
        if (Format == ImageFileFormat.Unknown)
        {
            throw new InvalidImageDataException($"image of {Length:N0} bytes is not PNG, JPEG or WebP.");
        }

        if (IsTruncated())
        {
            throw new InvalidImageDataException($"the {Format} file of {Length:N0} bytes is cut short (an incomplete download or copy?); give the whole file.");
        }

        var (width, height) = ReadSize();
        var side = maxSide ?? limits.MaxSide;
        if (width <= 0 || height <= 0)
        {
            throw new InvalidImageDataException($"the {Format} header says {width}×{height} pixels.");
        }

        if (width > side || height > side)
        {
            throw new InvalidImageDataException($"the image is {width}×{height} pixels; at most {side} on each side are accepted.");
        }

        if ((long)width * height > limits.MaxPixels)
        {
            throw new InvalidImageDataException($"the image is {width}×{height} = {(long)width * height:N0} pixels; at most {limits.MaxPixels:N0} are accepted.");
        }

        return (width, height);
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

    /// <summary>
    /// Decodes the pixels after <see cref="Check"/> (format, truncation, size), within the process's
    /// <see cref="DecodeBudget"/> (waiting for its share) and with only the PNG, JPEG and WebP decoders. The caller owns
    /// (and disposes) the returned image.
    /// </summary>
    public Image<Rgba32> Decode()
    {
        var (width, height) = Check();
        using (DecodeBudget.Acquire(DecodeBudget.Cost(width, height)))
        {
            return DecodeChecked();
        }
    }

    /// <summary>As <see cref="Decode"/>, waiting for the decode budget without blocking a thread.</summary>
    public async Task<Image<Rgba32>> DecodeAsync(CancellationToken cancellationToken = default)
    {
        var (width, height) = Check();
        using (await DecodeBudget.AcquireAsync(DecodeBudget.Cost(width, height), cancellationToken).ConfigureAwait(false))
        {
            return DecodeChecked();
        }
    }

    private Image<Rgba32> DecodeChecked()
    {
        try
        {
            return Image.Load<Rgba32>(ImageMemory.Decoding, Bytes.Span);
        }
        catch (SixLabors.ImageSharp.Memory.InvalidMemoryOperationException e)
        {
            throw new InvalidImageDataException($"{Format} image of {Length:N0} bytes is too large to decode within the memory limits: {e.Message}", e);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw new InvalidImageDataException($"{Format} image of {Length:N0} bytes does not decode: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whatever ImageSharp's decoders throw on hostile bytes: besides their own format exceptions, fuzzing found
    /// NullReferenceException (a 22-byte JPEG, a 22-byte WebP), IndexOutOfRange and Argument exceptions. Only what
    /// says something about the process, not the bytes, goes through: cancellation, running out of memory.
    /// </summary>
    private static bool IsDecoderFailure(Exception e) => e is not (OperationCanceledException or OutOfMemoryException or InvalidImageDataException);

    /// <summary>Reads width and height without decoding the pixels (PNG, JPEG and WebP headers only).</summary>
    public (int Width, int Height) ReadSize()
    {
        using var stream = OpenRead();
        try
        {
            var info = Image.Identify(ImageMemory.Decoding, stream)
                ?? throw new InvalidImageDataException($"image of {Length:N0} bytes is not a recognised format.");
            return (info.Width, info.Height);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw new InvalidImageDataException($"the {Format} header of {Length:N0} bytes cannot be read: {e.Message}", e);
        }
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
    /// True when the file is cut short: a PNG whose chunks run past the end before IEND, a JPEG whose segments or scan
    /// data run out before its end-of-image marker, a WebP shorter than its RIFF header says. Data after the end (camera
    /// trailers, a phone's motion-photo video after a JPEG) is not counted. Decoders here fill missing rows silently, so
    /// check before trusting pixels.
    /// </summary>
    public bool IsTruncated()
    {
        var bytes = Bytes.Span;
        return Format switch
        {
            ImageFileFormat.Png => PngIsTruncated(bytes),
            ImageFileFormat.Jpeg => JpegIsTruncated(bytes),
            ImageFileFormat.WebP => bytes.Length < 12 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..8]) + 8L > bytes.Length,
            _ => false,
        };
    }

    /// <summary>Walks the chunks (length, type, data, CRC) from the signature to IEND.</summary>
    private static bool PngIsTruncated(ReadOnlySpan<byte> bytes)
    {
        long i = 8;
        while (i + 8 <= bytes.Length)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[(int)i..]);
            var type = bytes.Slice((int)i + 4, 4);
            var next = i + 12 + length;
            if (next > bytes.Length)
            {
                return true;
            }

            if (type.SequenceEqual("IEND"u8))
            {
                return false;
            }

            i = next;
        }

        return true;
    }

    /// <summary>Walks the marker segments and the scans' entropy-coded data (where 0xFF is always followed by 0x00 or a restart marker) to the end-of-image marker.</summary>
    private static bool JpegIsTruncated(ReadOnlySpan<byte> bytes)
    {
        var i = 2;
        while (i + 1 < bytes.Length)
        {
            if (bytes[i] != 0xFF)
            {
                // Not at a marker: damaged rather than cut short; the decoder says what it makes of it.
                return false;
            }

            var marker = bytes[i + 1];
            if (marker == 0xFF)
            {
                i++;
                continue;
            }

            if (marker == 0xD9)
            {
                return false;
            }

            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
            {
                i += 2;
                continue;
            }

            if (i + 3 >= bytes.Length)
            {
                return true;
            }

            var end = i + 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
            if (end > bytes.Length)
            {
                return true;
            }

            i = end;
            if (marker == 0xDA)
            {
                // Entropy-coded data runs to the next marker that is neither stuffing (FF 00) nor a restart (FF D0-D7).
                while (i + 1 < bytes.Length && !(bytes[i] == 0xFF && bytes[i + 1] != 0x00 && bytes[i + 1] is < 0xD0 or > 0xD7))
                {
                    i++;
                }
            }
        }

        return true;
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
