using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;

namespace Miaoya.WebUi.Json;

/// <summary>Source-generated serialization for every WebUI body: snake_case names, nulls left out, images as base64.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    Converters = [typeof(EncodedImageJsonConverter)])]
[JsonSerializable(typeof(Txt2ImgRequest))]
[JsonSerializable(typeof(Img2ImgRequest))]
[JsonSerializable(typeof(GenerationResponse))]
[JsonSerializable(typeof(GenerationInfo))]
[JsonSerializable(typeof(IReadOnlyList<SdModel>))]
[JsonSerializable(typeof(IReadOnlyList<SdVae>))]
[JsonSerializable(typeof(IReadOnlyList<LoraInfo>))]
[JsonSerializable(typeof(EmbeddingsResponse))]
[JsonSerializable(typeof(IReadOnlyList<SamplerInfo>))]
[JsonSerializable(typeof(IReadOnlyList<SchedulerInfo>))]
[JsonSerializable(typeof(IReadOnlyList<UpscalerInfo>))]
[JsonSerializable(typeof(IReadOnlyList<FaceRestorerInfo>))]
[JsonSerializable(typeof(ExtrasSingleImageRequest))]
[JsonSerializable(typeof(ExtrasSingleImageResponse))]
[JsonSerializable(typeof(ProgressResponse))]
[JsonSerializable(typeof(InterrogateRequest))]
[JsonSerializable(typeof(InterrogateResponse))]
[JsonSerializable(typeof(PngInfoRequest))]
[JsonSerializable(typeof(PngInfoResponse))]
[JsonSerializable(typeof(ScriptsList))]
[JsonSerializable(typeof(IReadOnlyList<ScriptInfo>))]
[JsonSerializable(typeof(IReadOnlyList<ExtensionInfo>))]
[JsonSerializable(typeof(MemoryResponse))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, JsonElement>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, JsonNode?>))]
[JsonSerializable(typeof(Dictionary<string, JsonNode?>))]
[JsonSerializable(typeof(ControlNetScriptArgs))]
[JsonSerializable(typeof(ControlNetVersion))]
[JsonSerializable(typeof(ControlNetModelList))]
[JsonSerializable(typeof(ControlNetModuleList))]
[JsonSerializable(typeof(ControlNetControlTypes))]
[JsonSerializable(typeof(ControlNetSettings))]
[JsonSerializable(typeof(ControlNetDetectRequest))]
[JsonSerializable(typeof(ControlNetDetectResponse))]
[JsonSerializable(typeof(TaggerInterrogators))]
[JsonSerializable(typeof(TaggerInterrogateRequest))]
[JsonSerializable(typeof(TaggerInterrogateResponse))]
[JsonSerializable(typeof(RembgRequest))]
[JsonSerializable(typeof(RembgResponse))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class WebUiJsonContext : JsonSerializerContext;
