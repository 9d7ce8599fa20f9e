using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.Fleet;
using Miaoya.Jobs;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>A job as the API shows it (snake_case JSON).</summary>
public sealed record JobView(
    string Id,
    string Kind,
    JobState State,
    string? Recipe,
    bool RecipeInline,
    string? Pipeline,
    string? BaseModel,
    string? Lora,
    string? Identity,
    string? Template,
    long? Seed,
    IReadOnlyList<string> Overrides,
    [property: System.Text.Json.Serialization.JsonPropertyName("idphoto")] IdPhotoView? IdPhoto,
    IReadOnlyList<PersonView>? People,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    double? EtaS,
    IReadOnlyList<StepView> Steps,
    IReadOnlyList<OutputView> Outputs,
    string? Final,
    string Events);

/// <summary>
/// One person of a several-person job (docs/multi-person.md): the face they take (from 0, left to right), their LoRA
/// (<c>name:weight</c> as given), how many face photos they came with and their LoRA's trigger words (empty: none).
/// </summary>
public sealed record PersonView(int FaceIndex, string? Lora, int Faces, IReadOnlyList<string> Trigger);

/// <summary>One step: attempts, timings, the box its last call ran on, the last error, its files.</summary>
public sealed record StepView(
    int Index,
    string Name,
    StepState State,
    int Attempts,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? DurationS,
    string? Box,
    string? Error,
    DateTimeOffset? NextAttemptAt,
    IReadOnlyList<OutputView> Outputs);

/// <summary>A file a step wrote, and where to download it.</summary>
public sealed record OutputView(string File, string Sha256, string Url);

/// <summary>A list of jobs.</summary>
/// <summary>
/// <c>GET /v1/jobs</c>: a page of jobs and, when more follow, <see cref="Next"/>: the cursor to pass as <c>after</c> for the
/// next page (also in the <c>Link</c> header, rel="next"); absent on the last page.
/// </summary>
public sealed record JobListView(
    IReadOnlyList<JobView> Jobs,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Next = null);

/// <summary>One server-sent event's data.</summary>
public sealed record EventView(long Sequence, DateTimeOffset At, string Kind, string? Step, JsonNode? Data, JobState JobState, double? EtaS);

/// <summary><c>GET /v1/backends</c>: every box, and the queue.</summary>
public sealed record BackendsView(IReadOnlyList<BoxView> Boxes, QueueView Queue);

public sealed record BoxView(
    string Name,
    string Url,
    IReadOnlyList<string> Labels,
    BoxHealth Health,
    string? LoadedCheckpoint,
    int InFlight,
    long Calls,
    long Failures,
    long ModelSwitches,
    string? LastError,
    int Waiting,
    double? MeanCallSeconds,
    DateTimeOffset? LastSeen,
    string? Backend,
    string? Server);

/// <summary>
/// Jobs waiting and running (in the whole store, so across instances sharing it), steps running in this process, and
/// calls of this process waiting for a box.
/// </summary>
public sealed record QueueView(int QueuedJobs, int RunningJobs, int StepsRunningHere, int CallsWaitingForABox);

internal static class JobViews
{
    public static JobView Job(JobRecord job, double? eta, string pathBase)
    {
        var inputs = JobInputs.FromJson(job.InputsJson);
        var prefix = $"{pathBase}/v1/jobs/{Uri.EscapeDataString(job.Id)}";
        var steps = job.Steps.Select(s => new StepView(
            s.Index,
            s.Name,
            s.State,
            s.Attempts,
            s.StartedAt,
            s.FinishedAt,
            s.StartedAt is { } start && s.FinishedAt is { } end && end >= start ? Math.Round((end - start).TotalSeconds, 3) : null,
            s.Box,
            s.LastError,
            s.State == StepState.Pending && s.Attempts > 0 ? s.NextAttemptAt : null,
            s.Outputs.Select(o => Output(prefix, o)).ToArray())).ToArray();
        var outputs = steps.SelectMany(s => s.Outputs).ToArray();
        var kind = inputs?.JobKind ?? JobInputs.PortraitKind;
        // An ID-photo job's final is the photo, the first file its finish step writes (FinishStep); a portrait's final.png.
        var final = kind == Pipeline.IdPhotoRun.Kind
            ? steps.FirstOrDefault(s => s.Name == Recipes.StepName.Finish)?.Outputs is [var photo, ..] ? photo.Url : null
            : outputs.LastOrDefault(o => o.File == "final.png")?.Url;
        return new JobView(
            job.Id,
            kind,
            job.State,
            inputs?.Recipe ?? (job.RecipeIsInline ? null : job.Recipe),
            job.RecipeIsInline,
            inputs?.Pipeline,
            inputs?.BaseModel,
            inputs?.Lora,
            inputs?.Identity,
            inputs?.TemplateName,
            kind == Pipeline.IdPhotoRun.Kind ? null : inputs?.Seed,
            inputs?.Overrides ?? [],
            inputs?.IdPhoto is { } p ? new IdPhotoView(p.Spec, p.Background, p.Dpi, p.Kb, p.Sheet, p.Format) : null,
            inputs?.People?.Select(person => new PersonView(person.FaceIndex, person.Lora, person.Faces, person.Trigger ?? [])).ToArray(),
            job.Error,
            job.CreatedAt,
            job.UpdatedAt,
            eta,
            steps,
            outputs,
            final,
            prefix + "/events");
    }

    public static EventView Event(JobEvent e, JobState state, double? eta) =>
        new(e.Sequence, e.At, EventName(e.Kind), e.Step, Data(e.Data), state, eta);

    /// <summary>The SSE <c>event:</c> name: the kind in snake_case (<c>step_progress</c>, <c>job_succeeded</c>, ...).</summary>
    public static string EventName(JobEventKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());

    public static BoxView Box(BoxStatus box) => new(
        box.Name,
        new UriBuilder(box.Url) { UserName = "", Password = "" }.Uri.ToString(),
        box.Labels,
        box.Health,
        box.LoadedCheckpoint,
        box.InFlight,
        box.Calls,
        box.Failures,
        box.ModelSwitches,
        box.LastError,
        box.Waiting,
        box.MeanCallSeconds is { } mean ? Math.Round(mean, 2) : null,
        box.LastSeen,
        box.Backend,
        box.Server);

    private static OutputView Output(string prefix, StepOutput output) => new(output.File, output.Sha256, $"{prefix}/outputs/{Uri.EscapeDataString(output.File)}");

    private static JsonNode? Data(string? data)
    {
        if (data is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(data);
        }
        catch (JsonException)
        {
            return JsonValue.Create(data);
        }
    }
}
