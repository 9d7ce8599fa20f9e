using System.Text.Json;
using System.Text.Json.Serialization;

namespace Miaoya.Runner;

/// <summary>A portrait job to queue: a recipe (by name or inline), the template photo, the person and the knobs of a run.</summary>
public sealed record JobSubmission
{
    /// <summary>The most face photos a job takes (the pipeline's own limit).</summary>
    public const int MaxFacePhotos = Pipeline.RunRequest.MaxFacePhotos;

    /// <summary>The most candidates a job renders (as <c>miaoya run --candidates</c>).</summary>
    public const int MaxCandidates = 16;

    /// <summary>A recipe name (built-in, or a file in <see cref="JobRunnerOptions.RecipeDirectory"/>); ignored when <see cref="RecipeYaml"/> is set.</summary>
    public string? Recipe { get; init; }

    /// <summary>An inline recipe document (YAML or JSON), validated like a recipe file.</summary>
    public string? RecipeYaml { get; init; }

    /// <summary>Recipe overrides, <c>key=value</c> as with <c>miaoya run --set</c>.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>The template photo on this machine; it is copied into the job's folder.</summary>
    public required string TemplatePath { get; init; }

    /// <summary>
    /// The person's face photos (at most <see cref="MaxFacePhotos"/>), copied into the job's folder as face.png, face-2.png, ...:
    /// V3 swaps the first in, an identity unit (v4 recipes) takes each, and candidates are scored against them all.
    /// </summary>
    public IReadOnlyList<string> FacePaths { get; init; } = [];

    /// <summary>The first of <see cref="FacePaths"/> (V3's face photo); setting it sets <see cref="FacePaths"/> to that one photo.</summary>
    public string? FacePath
    {
        get => FacePaths.Count > 0 ? FacePaths[0] : null;
        init => FacePaths = value is null ? [] : [value];
    }

    /// <summary>The person's face LoRA, <c>name</c> or <c>name:weight</c>; optional when the recipe has an identity section.</summary>
    public string? Lora { get; init; }

    /// <summary>Best of N by likeness (1..<see cref="MaxCandidates"/>): added to the overrides as <c>candidates.count=N</c>.</summary>
    public int? Candidates { get; init; }

    /// <summary>Trigger words of the LoRA.</summary>
    public IReadOnlyList<string> TriggerWords { get; init; } = [];

    /// <summary>Who the person is (free text shown in listings, e.g. a customer id); not sent to any box.</summary>
    public string? Identity { get; init; }

    public long Seed { get; init; } = -1;

    public int? FaceIndex { get; init; }

    /// <summary>
    /// Several people in one template (<c>docs/multi-person.md</c>): each person's face, counted from 0 left to right, with
    /// their LoRA and/or face photos (and the LoRA's trigger words). Empty: one person, from <see cref="Lora"/>, <see cref="FacePaths"/> and
    /// <see cref="FaceIndex"/>, none of which (nor <see cref="Candidates"/> or <see cref="TriggerWords"/>) can be given with people.
    /// </summary>
    public IReadOnlyList<PersonSubmission> People { get; init; } = [];

    /// <summary>The most people a job takes (each is one inpaint call, and more on the finishing passes).</summary>
    public const int MaxPeople = 8;

    /// <summary>
    /// The job's id when the caller chooses it (letters, digits, '-' and '_'; e.g. derived from a batch entry so that
    /// submitting the same entry twice is refused by the store instead of queuing a duplicate); null: a new GUID v7.
    /// </summary>
    public string? JobId { get; init; }
}

/// <summary>
/// One person of a several-person job: the face they take (from 0, left to right, as ReActor counts), their face LoRA
/// (<c>name</c> or <c>name:weight</c>) and their face photos on this machine (copied into the job's folder as
/// <c>person-N-face-1.png</c>, ...). The recipe says which of the two a person needs.
/// </summary>
public sealed record PersonSubmission(int FaceIndex, string? Lora, IReadOnlyList<string> FacePaths)
{
    /// <summary>Their LoRA's trigger words, in their prompt only (<c>people[N].trigger</c>); they need <see cref="Lora"/>.</summary>
    public IReadOnlyList<string> TriggerWords { get; init; } = [];
}

/// <summary>
/// A person of a several-person job as the store keeps it: their face, LoRA, how many face photos they came with and
/// their LoRA's trigger words (absent when none, and in jobs queued before people had them).
/// </summary>
public sealed record JobPerson(
    [property: JsonPropertyName("face_index")] int FaceIndex,
    [property: JsonPropertyName("lora")] string? Lora,
    [property: JsonPropertyName("faces")] int Faces,
    [property: JsonPropertyName("trigger")] IReadOnlyList<string>? Trigger = null);

/// <summary>
/// What the store keeps as a job's inputs (<c>InputsJson</c>): enough to list a job without opening its folder.
/// <see cref="Kind"/> is absent for portrait jobs (and every job queued before ID-photo jobs existed).
/// </summary>
public sealed record JobInputs(
    [property: JsonPropertyName("recipe")] string Recipe,
    [property: JsonPropertyName("pipeline")] string Pipeline,
    [property: JsonPropertyName("base_model")] string? BaseModel,
    [property: JsonPropertyName("lora")] string? Lora,
    [property: JsonPropertyName("identity")] string? Identity,
    [property: JsonPropertyName("template")] string TemplateName,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("overrides")] IReadOnlyList<string> Overrides,
    [property: JsonPropertyName("kind")] string? Kind = null,
    [property: JsonPropertyName("idphoto")] IdPhotoInputs? IdPhoto = null,
    [property: JsonPropertyName("people")] IReadOnlyList<JobPerson>? People = null)
{
    /// <summary>The kind of a portrait job (a recipe on a template).</summary>
    public const string PortraitKind = "portrait";

    /// <summary>The job's kind: <see cref="PortraitKind"/> or <see cref="Pipeline.IdPhotoRun.Kind"/>.</summary>
    [JsonIgnore]
    public string JobKind => Kind ?? PortraitKind;

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The inputs of a stored job; null when the JSON is not this shape (a job created by something else).</summary>
    public static JobInputs? FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<JobInputs>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>An ID-photo job's settings as resolved at submission (the spec's defaults filled in).</summary>
/// <param name="Spec">The built-in spec.</param>
/// <param name="Background"><c>keep</c>, a colour, <c>#RRGGBB</c> or <c>gradient:TOP:BOTTOM</c>.</param>
/// <param name="Dpi">300, 254 or 350.</param>
/// <param name="Kb">The size target in KB; null: the spec's limit, if any.</param>
/// <param name="Sheet"><c>none</c>, <c>6inch</c> or <c>a4</c>.</param>
/// <param name="Format"><c>jpeg</c> or <c>png</c>; null: the spec's first format.</param>
public sealed record IdPhotoInputs(
    [property: JsonPropertyName("spec")] string Spec,
    [property: JsonPropertyName("background")] string Background,
    [property: JsonPropertyName("dpi")] int Dpi,
    [property: JsonPropertyName("kb")] int? Kb,
    [property: JsonPropertyName("sheet")] string Sheet,
    [property: JsonPropertyName("format")] string? Format);

/// <summary>A submission that cannot be queued; <see cref="Field"/> names the part that is wrong (for RFC 7807 <c>errors</c>).</summary>
public sealed class JobSubmissionException : Exception
{
    public JobSubmissionException(string field, string message, Exception? inner = null)
        : base(message, inner)
    {
        Field = field;
    }

    /// <summary>The submission field at fault: <c>recipe</c>, <c>template</c>, <c>face</c>, <c>lora</c>, <c>overrides</c>, ...</summary>
    public string Field { get; }
}
