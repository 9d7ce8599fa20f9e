using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Miaoya.WebUi.Json;

/// <summary>
/// The WebUI sends <c>info</c> as a JSON document inside a JSON string (A1111 modules/api/models.py:134-142,
/// processing.py:571-607); this converter parses the inner document into a typed object.
/// </summary>
internal sealed class JsonStringEncodedJsonConverter<T> : JsonConverter<T>
    where T : class
{
    public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                var text = reader.GetString();
                return string.IsNullOrWhiteSpace(text) ? null : JsonSerializer.Deserialize(text, TypeInfo(options));
            case JsonTokenType.StartObject:
                // Tolerate servers that send the object itself.
                return JsonSerializer.Deserialize(ref reader, TypeInfo(options));
            default:
                throw new JsonException($"expected a JSON string holding a {typeof(T).Name}, found {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(JsonSerializer.Serialize(value, TypeInfo(options)));

    private static JsonTypeInfo<T> TypeInfo(JsonSerializerOptions options) =>
        (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
}
