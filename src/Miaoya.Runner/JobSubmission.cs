using System.Text.Json;
using System.Text.Json.Serialization;

namespace Miaoya.Runner;

/// <summary>A portrait job to queue: a recipe (by name or inline), the template photo, the person and the knobs of a run.</summary>
public sealed record JobSubmission
{
    /// <summary>A recipe name (built-in, or a file in <see cref="JobRunnerOptions.RecipeDirectory"/>); ignored when <see cref="RecipeYaml"/> is set.</summary>
    public string? Recipe { get; init; }

    /// <summary>An inline recipe document (YAML or JSON), validated like a recipe file.</summary>
    public string? RecipeYaml { get; init; }

    /// <summary>Recipe overrides, <c>key=value</c> as with <c>miaoya run --set</c>.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>The template photo on this machine; it is copied into the job's folder.</summary>
    public required string TemplatePath { get; init; }

    /// <summary>V3: the person's face photo; copied into the job's folder.</summary>
    public string? FacePath { get; init; }

    /// <summary>The person's face LoRA, <c>name</c> or <c>name:weight</c>.</summary>
    public required string Lora { get; init; }

    /// <summary>Trigger words of the LoRA.</summary>
    public IReadOnlyList<string> TriggerWords { get; init; } = [];

    /// <summary>Who the person is (free text shown in listings, e.g. a customer id); not sent to any box.</summary>
    public string? Identity { get; init; }

    public long Seed { get; init; } = -1;

    public int? FaceIndex { get; init; }

    /// <summary>
    /// The job's id when the caller chooses it (letters, digits, '-' and '_'; e.g. derived from a batch entry so that
    /// submitting the same entry twice is refused by the store instead of queuing a duplicate); null: a new GUID v7.
    /// </summary>
    public string? JobId { get; init; }
}

/// <summary>What the store keeps as a job's inputs (<c>InputsJson</c>): enough to list a job without opening its folder.</summary>
public sealed record JobInputs(
    [property: JsonPropertyName("recipe")] string Recipe,
    [property: JsonPropertyName("pipeline")] string Pipeline,
    [property: JsonPropertyName("base_model")] string BaseModel,
    [property: JsonPropertyName("lora")] string Lora,
    [property: JsonPropertyName("identity")] string? Identity,
    [property: JsonPropertyName("template")] string TemplateName,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("overrides")] IReadOnlyList<string> Overrides)
{
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
