using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary><c>POST /sdapi/v1/png-info</c>: the infotext a PNG carries, and its parameters parsed back.</summary>
internal static class PngInfoRoutes
{
    public static void AddTo(RouteTable routes) =>
        routes.Post("/sdapi/v1/png-info", request => Task.FromResult(PngInfo(request.BodyObject())));

    private static MockHttpResult PngInfo(JsonObject body)
    {
        var text = body["image"] is JsonValue v && v.TryGetValue(out string? s) ? s : "";
        if (string.IsNullOrWhiteSpace(text))
        {
            return MockHttpResult.Json(new JsonObject { ["info"] = "", ["items"] = new JsonObject(), ["parameters"] = new JsonObject() });
        }

        using var image = ImageCodec.Decode(text);
        var (info, items) = ImageCodec.ReadPngText(image);
        var itemsJson = new JsonObject();
        foreach (var (k, val) in items)
        {
            itemsJson[k] = val;
        }

        return MockHttpResult.Json(new JsonObject { ["info"] = info, ["items"] = itemsJson, ["parameters"] = ParseInfotext(info) });
    }

    /// <summary>Minimal parse_generation_parameters: prompt, negative prompt and the "Key: value" last line.</summary>
    private static JsonObject ParseInfotext(string info)
    {
        var result = new JsonObject();
        if (info.Length == 0)
        {
            return result;
        }

        var lines = info.Split('\n');
        var last = lines[^1];
        var prompt = new List<string>();
        var negative = new List<string>();
        var inNegative = false;
        foreach (var line in lines[..^1])
        {
            if (line.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                inNegative = true;
                negative.Add(line["Negative prompt:".Length..].Trim());
            }
            else
            {
                (inNegative ? negative : prompt).Add(line);
            }
        }

        result["Prompt"] = string.Join('\n', prompt);
        result["Negative prompt"] = string.Join('\n', negative);
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(last, "\\s*([\\w ]+):\\s*(\"(?:\\\\.|[^\\\\\"])+\"|[^,]*)(?:,|$)"))
        {
            result[m.Groups[1].Value.Trim()] = m.Groups[2].Value.Trim();
        }

        return result;
    }
}
