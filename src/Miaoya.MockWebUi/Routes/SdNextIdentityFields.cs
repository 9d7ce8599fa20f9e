using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// SD.Next's identity request objects, validated as pydantic v1 does (vladmandic/sdnext@431bcc3 modules/api/models.py:143-166):
/// <c>ip_adapter: [ItemIPAdapter]</c> and <c>face: ItemFace</c> (img2img's model names it <c>face_id</c>, models.py:236).
/// </summary>
internal static class SdNextIdentityFields
{
    // name, kind, default, minimum (inclusive unless exclusive), maximum
    private static readonly (string Name, FieldKind Kind, JsonNode? Default, double? Ge, double? Gt, double? Le)[] IpAdapter =
    [
        ("adapter", FieldKind.Str, "Base", null, null, null),
        ("images", FieldKind.StrList, new JsonArray(), null, null, null),
        ("masks", FieldKind.StrList, new JsonArray(), null, null, null),
        ("scale", FieldKind.Float, 0.5, 0, null, 1),
        ("start", FieldKind.Float, 0.0, 0, null, 1),
        ("end", FieldKind.Float, 1.0, null, 0, 1),
        ("crop", FieldKind.Bool, false, null, null, null),
    ];

    private static readonly (string Name, FieldKind Kind, JsonNode? Default, double? Ge, double? Gt, double? Le)[] Face =
    [
        ("mode", FieldKind.Str, "FaceID", null, null, null),
        ("source_images", FieldKind.StrList, null, null, null, null), // required: no default
        ("ip_model", FieldKind.Str, "FaceID Base", null, null, null),
        ("ip_override_sampler", FieldKind.Bool, true, null, null, null),
        ("ip_cache_model", FieldKind.Bool, true, null, null, null),
        ("ip_strength", FieldKind.Float, 1.0, 0, null, 2),
        ("ip_structure", FieldKind.Float, 1.0, 0, null, 1),
        ("id_strength", FieldKind.Float, 1.0, 0, null, 2),
        ("id_conditioning", FieldKind.Float, 0.5, 0, null, 2),
        ("id_cache", FieldKind.Bool, true, null, null, null),
        ("pm_trigger", FieldKind.Str, "person", null, null, null),
        ("pm_strength", FieldKind.Float, 1.0, 0, null, 2),
        ("pm_start", FieldKind.Float, 0.5, 0, null, 1),
        ("fs_cache", FieldKind.Bool, true, null, null, null),
    ];

    /// <summary>Validates <c>ip_adapter</c> and the face object under <paramref name="faceKey"/>; returns them with defaults filled.</summary>
    public static (JsonArray? IpAdapter, JsonObject? Face) Validate(JsonObject body, string faceKey, List<ValidationIssue> issues)
    {
        JsonArray? adapters = null;
        if (body["ip_adapter"] is { } ip)
        {
            if (ip is not JsonArray list)
            {
                issues.Add(new ValidationIssue(["body", "ip_adapter"], "value is not a valid list", "type_error.list"));
            }
            else
            {
                adapters = [];
                for (var i = 0; i < list.Count; i++)
                {
                    adapters.Add(Item(list[i], IpAdapter, ["body", "ip_adapter", i], issues));
                }
            }
        }

        JsonObject? face = body[faceKey] is { } f ? Item(f, Face, ["body", faceKey], issues) : null;
        return (adapters, face);
    }

    private static JsonObject Item(JsonNode? node, (string Name, FieldKind Kind, JsonNode? Default, double? Ge, double? Gt, double? Le)[] fields, List<object> loc, List<ValidationIssue> issues)
    {
        var result = new JsonObject();
        if (node is not JsonObject obj)
        {
            issues.Add(new ValidationIssue(loc, "value is not a valid dict", "type_error.dict"));
            return result;
        }

        foreach (var (name, kind, fallback, ge, gt, le) in fields)
        {
            List<object> at = [.. loc, name];
            if (!obj.TryGetPropertyValue(name, out var raw))
            {
                if (name == "source_images")
                {
                    issues.Add(new ValidationIssue(at, "field required", "value_error.missing"));
                }

                result[name] = fallback?.DeepClone();
                continue;
            }

            var value = PydanticFields.Coerce(raw, kind, at, issues);
            result[name] = value;
            if (kind == FieldKind.Float && PydanticFields.TryFloat(value, out var x))
            {
                string N(double v) => v.ToString(CultureInfo.InvariantCulture);
                if (ge is { } g && x < g)
                {
                    issues.Add(new ValidationIssue(at, $"ensure this value is greater than or equal to {N(g)}", "value_error.number.not_ge"));
                }
                else if (gt is { } t && x <= t)
                {
                    issues.Add(new ValidationIssue(at, $"ensure this value is greater than {N(t)}", "value_error.number.not_gt"));
                }
                else if (le is { } l && x > l)
                {
                    issues.Add(new ValidationIssue(at, $"ensure this value is less than or equal to {N(l)}", "value_error.number.not_le"));
                }
            }
        }

        return result;
    }
}
