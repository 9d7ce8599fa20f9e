using System.Text.Json;

namespace Miaoya.WebUi.Dto;

/// <summary>One entry of <c>GET /sdapi/v1/sd-models</c> (models.py:255-261).</summary>
public sealed record SdModel(string Title, string ModelName, string? Hash, string? Sha256, string Filename, string? Config);

/// <summary>One entry of <c>GET /sdapi/v1/sd-vae</c>.</summary>
public sealed record SdVae(string ModelName, string Filename);

/// <summary>One entry of <c>GET /sdapi/v1/loras</c> (Lora/scripts/lora_script.py:53-65).</summary>
public sealed record LoraInfo(string Name, string? Alias, string? Path, JsonElement? Metadata);

/// <summary><c>GET /sdapi/v1/embeddings</c> (models.py:286-295).</summary>
public sealed record EmbeddingsResponse(
    IReadOnlyDictionary<string, EmbeddingInfo> Loaded,
    IReadOnlyDictionary<string, EmbeddingInfo> Skipped);

public sealed record EmbeddingInfo(int? Step, string? SdCheckpoint, string? SdCheckpointName, int Shape, int Vectors);

/// <summary>One entry of <c>GET /sdapi/v1/samplers</c>; option values are strings (models.py:233-236).</summary>
public sealed record SamplerInfo(string Name, IReadOnlyList<string>? Aliases, IReadOnlyDictionary<string, string>? Options);

/// <summary>One entry of <c>GET /sdapi/v1/schedulers</c> (A1111 1.9.1+, models.py:238-243).</summary>
public sealed record SchedulerInfo(string Name, string Label, IReadOnlyList<string>? Aliases, double? DefaultRho, bool? NeedInnerModel);

/// <summary>One entry of <c>GET /sdapi/v1/upscalers</c>.</summary>
public sealed record UpscalerInfo(string Name, string? ModelName, string? ModelPath, string? ModelUrl, double? Scale);

/// <summary><c>GET /sdapi/v1/scripts</c>: lower-case script titles per tab.</summary>
public sealed record ScriptsList(IReadOnlyList<string> Txt2img, IReadOnlyList<string> Img2img);

/// <summary>One entry of <c>GET /sdapi/v1/script-info</c> (models.py:307-320).</summary>
public sealed record ScriptInfo(string Name, bool IsAlwayson, bool IsImg2img, IReadOnlyList<ScriptArg> Args);

public sealed record ScriptArg(string? Label, JsonElement? Value, double? Minimum, double? Maximum, double? Step, IReadOnlyList<string>? Choices);

/// <summary>One entry of <c>GET /sdapi/v1/extensions</c> (api.py:886-903).</summary>
public sealed record ExtensionInfo(string Name, string? Remote, string? Branch, string? CommitHash, string? Version, string? CommitDate, bool Enabled);

/// <summary><c>GET /sdapi/v1/memory</c>: RAM typed, CUDA statistics kept as JSON (their shape changes with the torch build).</summary>
public sealed record MemoryResponse(MemoryRam? Ram, JsonElement? Cuda);

public sealed record MemoryRam(double? Free, double? Used, double? Total, string? Error);
