using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>How a JSON value behaves once json.loads has made it a Python value: truthiness, str(), repr() and type name.</summary>
internal static class PyValues
{
    /// <summary>Python truthiness of a JSON value.</summary>
    public static bool Truthy(JsonNode? node) => node switch
    {
        null => false,
        JsonArray a => a.Count > 0,
        JsonObject o => o.Count > 0,
        JsonValue v when v.GetValueKind() == JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.False => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>() != 0,
        JsonValue v when v.TryGetValue(out string? s) => s.Length > 0,
        _ => true,
    };

    /// <summary>str() of the Python value json.loads gives.</summary>
    public static string PyStr(JsonNode node)
    {
        if (node is JsonValue v)
        {
            switch (v.GetValueKind())
            {
                case JsonValueKind.String:
                    return v.GetValue<string>();
                case JsonValueKind.True:
                    return "True";
                case JsonValueKind.False:
                    return "False";
                case JsonValueKind.Number:
                    var raw = v.ToJsonString();
                    if (!raw.Contains('.', StringComparison.Ordinal) && !raw.Contains('e', StringComparison.OrdinalIgnoreCase))
                    {
                        return raw; // an int
                    }

                    var text = v.GetValue<double>().ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
                    return text.Contains('.', StringComparison.Ordinal) || text.Contains('e', StringComparison.Ordinal) ? text : text + ".0";
            }
        }

        return node.ToJsonString(); // lists and dicts: close enough to Python's repr for the ',' check
    }

    public static string PyRepr(JsonNode node) => node is JsonValue v && v.TryGetValue(out string? s) ? "'" + s + "'" : PyStr(node);

    public static string PyType(JsonNode? node) => node switch
    {
        JsonObject => "dict",
        JsonArray => "list",
        null => "NoneType",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "str",
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValue v when v.ToJsonString().Contains('.', StringComparison.Ordinal) => "float",
        _ => "int",
    };
}
