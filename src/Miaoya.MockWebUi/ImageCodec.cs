using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

/// <summary>Base64 image decoding/encoding with A1111's rules.</summary>
internal static class ImageCodec
{
    /// <summary>decode_base64_to_image (A1111 api.py:77-99): data:image/ prefix stripped, content-sniffed, failure = 500 "Invalid encoded image".</summary>
    public static Image<Rgba32> Decode(string encoding)
    {
        if (encoding.StartsWith("http://", StringComparison.Ordinal) || encoding.StartsWith("https://", StringComparison.Ordinal))
        {
            // The mock never fetches; a failed download is "Invalid image url" (A1111 api.py:78-91).
            throw MockRouteException.Http(500, "Invalid image url");
        }

        var payload = encoding.AsSpan();
        if (encoding.StartsWith("data:image/", StringComparison.Ordinal))
        {
            // split(";")[1].split(",")[1] (A1111 api.py:93-94)
            var semi = encoding.IndexOf(';', StringComparison.Ordinal);
            var comma = semi < 0 ? -1 : encoding.IndexOf(',', semi);
            payload = comma < 0 ? [] : encoding.AsSpan(comma + 1);
        }

        try
        {
            var bytes = new byte[(payload.Length * 3 / 4) + 3];
            if (!Convert.TryFromBase64Chars(payload, bytes, out var written))
            {
                throw MockRouteException.Http(500, "Invalid encoded image");
            }

            var image = Image.Load<Rgba32>(bytes.AsSpan(0, written));
            return image;
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException or ArgumentException)
        {
            throw MockRouteException.Http(500, "Invalid encoded image"); // A1111 api.py:95-99
        }
    }

    /// <summary>Decodes raw base64 bytes (no A1111 rules) for hashing.</summary>
    public static byte[] RawBytes(string encoding)
    {
        var comma = encoding.StartsWith("data:image/", StringComparison.Ordinal) ? encoding.IndexOf(',', StringComparison.Ordinal) : -1;
        try
        {
            return Convert.FromBase64String(comma < 0 ? encoding : encoding[(comma + 1)..]);
        }
        catch (FormatException)
        {
            return [];
        }
    }

    /// <summary>encode_pil_to_base64 (A1111 api.py:102-132): raw base64 in the samples_format; PNG carries a "parameters" text chunk.</summary>
    public static string Encode(Image image, string format, string? infotext = null, bool keepAlpha = false)
    {
        using var ms = new MemoryStream();
        IImageEncoder encoder;
        switch (format.ToLowerInvariant())
        {
            case "jpg":
            case "jpeg":
                encoder = new JpegEncoder { Quality = 90 };
                break;
            case "webp":
                encoder = new WebpEncoder { Quality = 90, FileFormat = WebpFileFormatType.Lossy, Method = WebpEncodingMethod.Fastest };
                break;
            default:
                if (infotext is not null)
                {
                    var png = image.Metadata.GetPngMetadata();
                    png.TextData.Clear();
                    png.TextData.Add(new PngTextData("parameters", infotext, "", ""));
                }

                encoder = new PngEncoder { CompressionLevel = PngCompressionLevel.BestSpeed, FilterMethod = PngFilterMethod.None, ColorType = keepAlpha ? PngColorType.RgbWithAlpha : null };
                break;
        }

        image.Save(ms, encoder);
        return Convert.ToBase64String(ms.GetBuffer().AsSpan(0, (int)ms.Length));
    }

    /// <summary>Reads the PNG "parameters" text chunk and the other chunks (png-info).</summary>
    public static (string Info, Dictionary<string, string> Items) ReadPngText(Image image)
    {
        var items = new Dictionary<string, string>(StringComparer.Ordinal);
        var info = "";
        if (image.Metadata.GetPngMetadata() is { } png)
        {
            foreach (var t in png.TextData)
            {
                if (t.Keyword == "parameters")
                {
                    info = t.Value;
                }
                else
                {
                    items[t.Keyword] = t.Value;
                }
            }
        }

        return (info, items);
    }
}
