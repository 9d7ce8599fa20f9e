using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>manifest.json</c> of a run folder: what was asked, of which box, every step's exact request (images replaced by
/// file names and sha256), what the box answered, timings, and where each output is. Written after every step, atomically,
/// so a failed or interrupted run can be resumed and any run replayed.
/// </summary>
public sealed record RunManifest
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public required ManifestRecipe Recipe { get; init; }

    public required ManifestInputs Inputs { get; init; }

    public ManifestServer? Server { get; set; }

    public RunStatus Status { get; set; } = RunStatus.Running;

    public string? Error { get; set; }

    public List<StepRecord> Steps { get; init; } = [];

    public FileRecord? Final { get; set; }

    public StepRecord? Step(string name) => Steps.FirstOrDefault(s => s.Name == name);

    internal static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}

public sealed record ManifestRecipe(string Name, string Path, string Sha256, IReadOnlyList<string> Overrides, string Pipeline);

public sealed record ManifestInputs(
    FileRecord Template,
    string TemplateSource,
    string Lora,
    IReadOnlyList<string> Trigger,
    long Seed,
    int? FaceIndex,
    string? MaskFile,
    FileRecord? Face = null,
    string? FaceSource = null,
    string? Models = null,
    string? Device = null,
    bool StandInModels = false);

public sealed record ManifestServer(string Url, string WebUiVersion, string SamplerDialect, int? ControlNetApi, string Tagger);

public sealed record FileRecord(string File, string Sha256);

public enum RunStatus
{
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

public enum StepStatus
{
    Running,
    Succeeded,
    Skipped,
    Failed,
    Cancelled,
}

/// <summary>One step of a run. <see cref="Data"/> holds what later steps and a resume need (prompt, face, ΔE).</summary>
public sealed record StepRecord
{
    public required string Name { get; init; }

    public StepStatus Status { get; set; } = StepStatus.Running;

    public DateTimeOffset StartedAt { get; set; }

    public double DurationMs { get; set; }

    public string? Error { get; set; }

    public List<FileRecord> Outputs { get; init; } = [];

    public JsonObject Data { get; init; } = [];

    /// <summary>The request as sent, images replaced by <c>{"file", "sha256"}</c>.</summary>
    public JsonNode? Request { get; set; }

    public JsonObject? Response { get; set; }
}
