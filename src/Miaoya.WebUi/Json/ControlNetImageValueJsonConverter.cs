using System.Text.Json;
using System.Text.Json.Serialization;
using Miaoya.Imaging;
using Miaoya.WebUi.ControlNet;

namespace Miaoya.WebUi.Json;

/// <summary>
/// A unit's <c>image</c>: one image as a base64 string; several as <c>[{"image": b64}, …]</c>, the form the extension
/// reads as several inputs of one IP-Adapter unit (sd-webui-controlnet internal_controlnet/args.py:240-268). Reads both,
/// and a list of plain strings.
/// </summary>
internal sealed class ControlNetImageValueJsonConverter : JsonConverter<ControlNetImageValue>
{
    private static readonly EncodedImageJsonConverter Image = new();

    public override ControlNetImageValue? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return new ControlNetImageValue([Image.Read(ref reader, typeof(EncodedImage), options)!]);
            case JsonTokenType.StartArray:
                var images = new List<EncodedImage>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    images.Add(reader.TokenType == JsonTokenType.StartObject ? ReadObject(ref reader, options) : Image.Read(ref reader, typeof(EncodedImage), options)!);
                }

                return new ControlNetImageValue(images);
            default:
                throw new JsonException($"expected an image string or a list of images, found {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, ControlNetImageValue value, JsonSerializerOptions options)
    {
        if (value.Images.Count == 1)
        {
            Image.Write(writer, value.Images[0], options);
            return;
        }

        writer.WriteStartArray();
        foreach (var image in value.Images)
        {
            writer.WriteStartObject();
            writer.WritePropertyName("image");
            Image.Write(writer, image, options);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static EncodedImage ReadObject(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        EncodedImage? image = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == "image" && reader.TokenType == JsonTokenType.String)
            {
                image = Image.Read(ref reader, typeof(EncodedImage), options);
            }
            else
            {
                reader.Skip();
            }
        }

        return image ?? throw new JsonException("an entry of the image list has no \"image\".");
    }
}
