using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Miaoya.WebUi.Json;

/// <summary>
/// The serializer options every WebUI body goes through: the source-generated context, with relaxed escaping so that
/// base64 '+' and prompt characters such as '&lt;lora:...&gt;' are written as themselves (the default encoder would
/// write '+' as six bytes, inflating every image).
/// </summary>
internal static class WebUiJson
{
    public static JsonSerializerOptions Options { get; } = new(WebUiJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, TypeInfo<T>());
}
