using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Miaoya.Imaging;

namespace Miaoya.WebUi.Json;

/// <summary>
/// Writes images as raw base64 straight into the JSON writer's buffer and reads them from the reader's
/// UTF-8 buffer, so no base64 <see cref="string"/> of the whole image is built on either side.
/// Accepts raw base64 and <c>data:image/...;base64,</c> URLs (A1111 modules/api/api.py:93-99).
/// </summary>
internal sealed class EncodedImageJsonConverter : JsonConverter<EncodedImage>
{
    public override EncodedImage? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected a base64 image string, found {reader.TokenType}.");
        }

        try
        {
            if (!reader.ValueIsEscaped && !reader.HasValueSequence)
            {
                return EncodedImage.FromBase64Utf8(reader.ValueSpan);
            }

            if (!reader.ValueIsEscaped)
            {
                return EncodedImage.FromBase64Utf8(reader.ValueSequence.ToArray());
            }

            // Escaped text (e.g. "\/" in a data URL): rare, take the simple path.
            return EncodedImage.FromBase64(reader.GetString());
        }
        catch (InvalidImageDataException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    public override void Write(Utf8JsonWriter writer, EncodedImage value, JsonSerializerOptions options) =>
        writer.WriteBase64StringValue(value.Bytes.Span);
}
