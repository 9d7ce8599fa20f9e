using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

internal enum FieldKind
{
    Int,
    Float,
    Bool,
    Str,
    StrList,
    Dict,
    List,
    Any,
}

/// <summary>A declared field of a pydantic v1 request model.</summary>
internal sealed record FieldSpec(string Name, FieldKind Kind, JsonNode? Default = null)
{
    public JsonNode? DefaultClone() => Default?.DeepClone();
}

/// <summary>
/// Pydantic v1 lenient coercion: A1111 v1.10.1 pins fastapi==0.94.0 (requirements_versions.txt:10), which
/// requires pydantic below 2.0 (fastapi 0.94.0 pyproject.toml); boolean strings as in pydantic v1.10
/// pydantic/validators.py:102-103.
/// </summary>
internal static class PydanticFields
{
    private static readonly HashSet<string> BoolTrue = ["1", "on", "t", "true", "y", "yes"];
    private static readonly HashSet<string> BoolFalse = ["0", "off", "f", "false", "n", "no"];

    /// <summary>
    /// Coerces declared fields; unknown keys are dropped (pydantic v1's default extra = Extra.ignore, pydantic v1.10
    /// pydantic/config.py:88).
    /// </summary>
    public static Dictionary<string, JsonNode?> Parse(JsonObject body, IReadOnlyList<FieldSpec> specs, List<ValidationIssue> issues)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (!body.TryGetPropertyValue(spec.Name, out var raw))
            {
                result[spec.Name] = spec.DefaultClone();
                continue;
            }

            result[spec.Name] = Coerce(raw, spec.Kind, ["body", spec.Name], issues);
        }

        return result;
    }

    public static JsonNode? Coerce(JsonNode? raw, FieldKind kind, List<object> loc, List<ValidationIssue> issues)
    {
        if (raw is null)
        {
            return null; // every API field is Optional (A1111 models.py:37-132)
        }

        switch (kind)
        {
            case FieldKind.Int:
                if (TryInt(raw, out var l))
                {
                    return JsonValue.Create(l);
                }

                issues.Add(new ValidationIssue(loc, "value is not a valid integer", "type_error.integer"));
                return null;
            case FieldKind.Float:
                if (TryFloat(raw, out var d))
                {
                    return JsonValue.Create(d);
                }

                issues.Add(new ValidationIssue(loc, "value is not a valid float", "type_error.float"));
                return null;
            case FieldKind.Bool:
                if (TryBool(raw, out var b))
                {
                    return JsonValue.Create(b);
                }

                issues.Add(new ValidationIssue(loc, "value could not be parsed to a boolean", "type_error.bool"));
                return null;
            case FieldKind.Str:
                if (TryStr(raw, out var s))
                {
                    return JsonValue.Create(s);
                }

                issues.Add(new ValidationIssue(loc, "str type expected", "type_error.str"));
                return null;
            case FieldKind.StrList:
                if (raw is not JsonArray arr)
                {
                    issues.Add(new ValidationIssue(loc, "value is not a valid list", "type_error.list"));
                    return null;
                }

                var list = new JsonArray();
                for (var i = 0; i < arr.Count; i++)
                {
                    list.Add(Coerce(arr[i], FieldKind.Str, [.. loc, i], issues));
                }

                return list;
            case FieldKind.Dict:
                if (raw is JsonObject)
                {
                    return raw.DeepClone();
                }

                issues.Add(new ValidationIssue(loc, "value is not a valid dict", "type_error.dict"));
                return null;
            case FieldKind.List:
                if (raw is JsonArray)
                {
                    return raw.DeepClone();
                }

                issues.Add(new ValidationIssue(loc, "value is not a valid list", "type_error.list"));
                return null;
            default:
                return raw.DeepClone();
        }
    }

    /// <summary>Python int(v): ints, bools, floats (truncated) and integer strings.</summary>
    public static bool TryInt(JsonNode? node, out long value)
    {
        value = 0;
        if (node is not JsonValue v)
        {
            return false;
        }

        switch (v.GetValueKind())
        {
            case JsonValueKind.True:
                value = 1;
                return true;
            case JsonValueKind.False:
                return true;
            case JsonValueKind.Number:
                var text = v.ToJsonString();
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    value = l;
                    return true;
                }

                var d = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (double.IsFinite(d) && Math.Abs(d) < 9.2e18)
                {
                    value = (long)Math.Truncate(d);
                    return true;
                }

                return false;
            case JsonValueKind.String:
                return long.TryParse(v.GetValue<string>().Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
            default:
                return false;
        }
    }

    public static bool TryFloat(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v)
        {
            return false;
        }

        switch (v.GetValueKind())
        {
            case JsonValueKind.True:
                value = 1;
                return true;
            case JsonValueKind.False:
                return true;
            case JsonValueKind.Number:
                value = double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                return true;
            case JsonValueKind.String:
                return double.TryParse(v.GetValue<string>().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
            default:
                return false;
        }
    }

    public static bool TryBool(JsonNode? node, out bool value)
    {
        value = false;
        if (node is not JsonValue v)
        {
            return false;
        }

        string text;
        switch (v.GetValueKind())
        {
            case JsonValueKind.True:
                value = true;
                return true;
            case JsonValueKind.False:
                return true;
            case JsonValueKind.Number:
                var d = double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                if (d is 0 or 1)
                {
                    value = d == 1;
                    return true;
                }

                return false;
            case JsonValueKind.String:
                text = v.GetValue<string>().ToLowerInvariant();
                break;
            default:
                return false;
        }

        if (BoolTrue.Contains(text))
        {
            value = true;
            return true;
        }

        return BoolFalse.Contains(text);
    }

    /// <summary>pydantic v1 str_validator: strings, and numbers turned into their text.</summary>
    public static bool TryStr(JsonNode? node, out string value)
    {
        value = "";
        if (node is not JsonValue v)
        {
            return false;
        }

        switch (v.GetValueKind())
        {
            case JsonValueKind.String:
                value = v.GetValue<string>();
                return true;
            case JsonValueKind.Number:
                value = v.ToJsonString();
                return true;
            case JsonValueKind.True:
                value = "True";
                return true;
            case JsonValueKind.False:
                value = "False";
                return true;
            default:
                return false;
        }
    }

    public static long GetInt(this Dictionary<string, JsonNode?> fields, string name, long fallback) =>
        fields.TryGetValue(name, out var n) && n is not null && TryInt(n, out var v) ? v : fallback;

    public static double GetFloat(this Dictionary<string, JsonNode?> fields, string name, double fallback) =>
        fields.TryGetValue(name, out var n) && n is not null && TryFloat(n, out var v) ? v : fallback;

    public static bool GetBool(this Dictionary<string, JsonNode?> fields, string name, bool fallback) =>
        fields.TryGetValue(name, out var n) && n is not null && TryBool(n, out var v) ? v : fallback;

    public static string? GetStr(this Dictionary<string, JsonNode?> fields, string name) =>
        fields.TryGetValue(name, out var n) && n is not null && TryStr(n, out var v) ? v : null;
}
