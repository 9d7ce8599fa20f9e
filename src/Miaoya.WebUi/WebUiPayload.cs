using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Json;

namespace Miaoya.WebUi;

/// <summary>Request bodies as JSON exactly as the client sends them, for manifests, replays and explanations.</summary>
public static class WebUiPayload
{
    /// <summary>The JSON the client would send for this request.</summary>
    public static JsonNode ToJsonNode(Img2ImgRequest request) =>
        JsonSerializer.SerializeToNode(request, WebUiJson.TypeInfo<Img2ImgRequest>())!;

    /// <summary>The JSON the client would send for this request.</summary>
    public static JsonNode ToJsonNode(Txt2ImgRequest request) =>
        JsonSerializer.SerializeToNode(request, WebUiJson.TypeInfo<Txt2ImgRequest>())!;

    /// <summary>The JSON the client would send for this extras request.</summary>
    public static JsonNode ToJsonNode(ExtrasSingleImageRequest request) =>
        JsonSerializer.SerializeToNode(request, WebUiJson.TypeInfo<ExtrasSingleImageRequest>())!;

    /// <summary>Reads a request back from its JSON (images as base64 or data URLs).</summary>
    public static Img2ImgRequest Img2ImgFromJson(JsonNode json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return json.Deserialize(WebUiJson.TypeInfo<Img2ImgRequest>())
            ?? throw new JsonException("an img2img request cannot be null.");
    }

    /// <summary>Indented JSON with the client's escaping (base64 and prompts written as themselves).</summary>
    public static string ToIndentedString(JsonNode json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return json.ToJsonString(new JsonSerializerOptions(WebUiJson.Options) { WriteIndented = true });
    }
}
