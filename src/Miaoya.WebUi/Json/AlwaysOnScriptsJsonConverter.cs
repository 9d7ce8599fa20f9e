using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Miaoya.WebUi.Dto;

namespace Miaoya.WebUi.Json;

/// <summary>Writes <c>alwayson_scripts</c> as one object: <c>controlnet</c> from the typed units, then the other scripts as given.</summary>
internal sealed class AlwaysOnScriptsJsonConverter : JsonConverter<AlwaysOnScripts>
{
    private const string ControlNetKey = "controlnet";

    public override AlwaysOnScripts? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var node = JsonNode.Parse(ref reader)?.AsObject();
        if (node is null)
        {
            return null;
        }

        var controlNetNode = node.FirstOrDefault(p => p.Key.Equals(ControlNetKey, StringComparison.OrdinalIgnoreCase));
        ControlNetScriptArgs? controlNet = null;
        if (controlNetNode.Value is not null)
        {
            controlNet = controlNetNode.Value.Deserialize(WebUiJson.TypeInfo<ControlNetScriptArgs>());
            node.Remove(controlNetNode.Key);
        }

        return new AlwaysOnScripts { ControlNet = controlNet, Other = node.Count == 0 ? null : node };
    }

    public override void Write(Utf8JsonWriter writer, AlwaysOnScripts value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        if (value.ControlNet is { } controlNet)
        {
            writer.WritePropertyName(ControlNetKey);
            JsonSerializer.Serialize(writer, controlNet, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<ControlNetScriptArgs>)options.GetTypeInfo(typeof(ControlNetScriptArgs)));
        }

        foreach (var (key, script) in value.Other ?? [])
        {
            writer.WritePropertyName(key);
            if (script is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                script.WriteTo(writer, options);
            }
        }

        writer.WriteEndObject();
    }
}
