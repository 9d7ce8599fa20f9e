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
    /// <summary>
    /// 2: each step's typed result in <c>result</c> and the box of its last call in <c>box</c>. Version 1 (until
    /// a142e16) kept both in one <c>data</c> object with the same keys; <see cref="RunFolder.LoadManifestAsync"/> reads it.
    /// </summary>
    public const int CurrentVersion = 2;

    public int Version { get; init; } = CurrentVersion;

    public required ManifestRecipe Recipe { get; init; }

    public required ManifestInputs Inputs { get; init; }

    public ManifestServer? Server { get; set; }

    /// <summary>
    /// The base URL of the one box a run started or last resumed on (a command-line run's <c>--webui</c> or default box),
    /// written before its first call, so <c>run --resume</c> goes back to it; null for runs whose steps any box of a fleet
    /// may take (jobs, batch).
    /// </summary>
    public string? Box { get; set; }

    [JsonInclude]
    public RunStatus Status { get; private set; } = RunStatus.Running;

    [JsonInclude]
    public string? Error { get; private set; }

    public List<StepRecord> Steps { get; init; } = [];

    public FileRecord? Final { get; set; }

    public StepRecord? Step(string name) => Steps.FirstOrDefault(s => s.Name == name);

    /// <summary>The run (re)starts: a resume or a job's next step.</summary>
    public void Start()
    {
        Status = RunStatus.Running;
        Error = null;
    }

    public void Succeed()
    {
        Status = RunStatus.Succeeded;
        Error = null;
    }

    public void Fail(string error)
    {
        Status = RunStatus.Failed;
        Error = error;
    }

    public void Cancel()
    {
        Status = RunStatus.Cancelled;
        Error = "cancelled";
    }

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
    string? Lora,
    IReadOnlyList<string> Trigger,
    long Seed,
    int? FaceIndex,
    string? MaskFile,
    FileRecord? Face = null,
    string? FaceSource = null,
    string? Models = null,
    string? Device = null,
    bool StandInModels = false,
    IReadOnlyList<FileRecord>? Faces = null,
    IReadOnlyList<string>? FaceSources = null,
    IReadOnlyList<ManifestPerson>? People = null);

/// <summary>
/// One person of a several-person run as given: the face index (from 0, left to right), the LoRA as <c>NAME:WEIGHT</c>,
/// their face photos as copied into the run folder and where they came from, and their LoRA's trigger words (absent in
/// manifests written before people had them). Where their face is, is recorded by the step that found it (<c>mask</c>'s
/// or <c>faceswap</c>'s result).
/// </summary>
public sealed record ManifestPerson(int FaceIndex, string? Lora, IReadOnlyList<FileRecord> Faces, IReadOnlyList<string> FaceSources, IReadOnlyList<string>? Trigger = null);

/// <summary>The box a run's first generation call went to, as its probe described it.</summary>
/// <param name="Url">Its base URL.</param>
/// <param name="WebUiVersion">The server as described by <c>WebUiCapabilities.WebUiVersion</c>.</param>
/// <param name="SamplerDialect">How it names samplers.</param>
/// <param name="ControlNetApi">The A1111 ControlNet extension's API version; null without it (or with Forge's built-in one).</param>
/// <param name="Tagger">The WD14 tagger's flavour.</param>
/// <param name="Backend">"A1111", "Forge", "reForge" or "SD.Next" (absent in manifests written before backends were told apart).</param>
public sealed record ManifestServer(string Url, string WebUiVersion, string SamplerDialect, int? ControlNetApi, string Tagger, string? Backend = null);

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

/// <summary>
/// One step of a run: its state, outputs, the request it sent and what came back, and its typed result (what later steps
/// and a resume need: the prompt, the face, ΔE). The state changes only through <see cref="Start"/>, <see cref="Succeed"/>,
/// <see cref="Skip"/>, <see cref="Fail"/> and <see cref="Cancel"/>, each allowed only from the states that lead to it.
/// </summary>
public sealed class StepRecord
{
    public required string Name { get; init; }

    [JsonInclude]
    public StepStatus Status { get; private set; } = StepStatus.Running;

    [JsonInclude]
    public DateTimeOffset StartedAt { get; private set; }

    [JsonInclude]
    public double DurationMs { get; private set; }

    [JsonInclude]
    public string? Error { get; private set; }

    /// <summary>The box the step's last remote call ran on (null for a local step).</summary>
    public string? Box { get; set; }

    public List<FileRecord> Outputs { get; init; } = [];

    /// <summary>The step's result as written in the manifest; read and written typed with <see cref="ResultAs{T}"/> and <see cref="SetResult{T}"/>.</summary>
    [JsonInclude]
    public JsonObject Result { get; private set; } = [];

    /// <summary>The request as sent, images replaced by <c>{"file", "sha256"}</c>.</summary>
    public JsonNode? Request { get; set; }

    public JsonObject? Response { get; set; }

    /// <summary>The step (re)starts: outputs, result and error of an earlier attempt are dropped.</summary>
    public void Start(DateTimeOffset at)
    {
        Status = StepStatus.Running;
        StartedAt = at;
        DurationMs = 0;
        Error = null;
        Box = null;
        Outputs.Clear();
        Result = [];
        Request = null;
        Response = null;
    }

    /// <summary>A running step finished (a skipped one stays skipped); <paramref name="durationMs"/> is its time.</summary>
    public void Succeed(double durationMs)
    {
        Require(StepStatus.Running, StepStatus.Skipped);
        Status = Status == StepStatus.Skipped ? StepStatus.Skipped : StepStatus.Succeeded;
        DurationMs = durationMs;
    }

    /// <summary>A running step decided it is not needed (its result says why).</summary>
    public void Skip()
    {
        Require(StepStatus.Running);
        Status = StepStatus.Skipped;
    }

    public void Fail(string error, double durationMs)
    {
        Require(StepStatus.Running, StepStatus.Skipped);
        Status = StepStatus.Failed;
        Error = error;
        DurationMs = durationMs;
    }

    public void Cancel(double durationMs)
    {
        Require(StepStatus.Running, StepStatus.Skipped);
        Status = StepStatus.Cancelled;
        DurationMs = durationMs;
    }

    /// <summary>The result as <typeparamref name="T"/>; null when the step has none (it never ran, or an old release wrote none).</summary>
    public T? ResultAs<T>()
        where T : class =>
        Result.Count == 0 ? null : Result.Deserialize<T>(RunManifest.Json);

    public void SetResult<T>(T result)
        where T : class =>
        Result = JsonSerializer.SerializeToNode(result, RunManifest.Json)!.AsObject();

    private void Require(params StepStatus[] allowed)
    {
        if (!allowed.Contains(Status))
        {
            throw new InvalidOperationException($"step {Name} is {Status}; it cannot change from that state here.");
        }
    }
}
