using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Miaoya.Imaging;

namespace Miaoya.Tuning;

/// <summary>What a sweep runs: everything that decides the cells' results (no credentials).</summary>
public sealed record SweepDefinition
{
    /// <summary>The recipe as given: a file (stored as a full path) or a built-in name.</summary>
    public required string Recipe { get; init; }

    /// <summary>sha256 of the recipe text when the sweep started; cells run later must use the same recipe.</summary>
    public string? RecipeSha256 { get; init; }

    public required string Template { get; init; }

    /// <summary>The person's face LoRA as NAME[:WEIGHT]; null for a recipe with an identity section (v4-faceid, ...).</summary>
    public string? Lora { get; init; }

    public IReadOnlyList<string> Trigger { get; init; } = [];

    /// <summary>One seed for every cell, so only the varied values differ.</summary>
    public required long Seed { get; init; }

    public IReadOnlyList<string> Sets { get; init; } = [];

    public required IReadOnlyList<SweepAxis> Axes { get; init; }

    public int? FaceIndex { get; init; }

    /// <summary>
    /// The person's face photos (full paths): every cell's run gets them (V3 swaps the first in, an identity unit takes
    /// each), and each cell's final image is scored against their centroid.
    /// </summary>
    public IReadOnlyList<string> Faces { get; init; } = [];

    /// <summary>
    /// Several people in one template (<c>--person</c>, <c>--person-face</c>, <c>--person-trigger</c>; docs/multi-person.md): every cell's run gets
    /// them, by face; then <see cref="Lora"/>, <see cref="Faces"/> and <see cref="FaceIndex"/> are empty and the cells are
    /// not scored for likeness (no one reference is several people).
    /// </summary>
    public IReadOnlyList<SweepPerson> People { get; init; } = [];

    /// <summary>The models folder every cell's run gets (V3's insightface models, the scorer's file).</summary>
    public string? Models { get; init; }

    /// <summary>With <see cref="Faces"/>: the likeness scorer, <c>sface</c> or <c>arcface</c>.</summary>
    public string? Scorer { get; init; }

    /// <summary>With <see cref="Faces"/>: the scorer's model file (full path).</summary>
    public string? ScorerModel { get; init; }

    /// <summary>Sweeps written before <see cref="Faces"/> recorded V3's one photo as <c>face</c>.</summary>
    [JsonInclude]
    [JsonPropertyName("face")]
    private string? LegacyFace
    {
        get => null;
        init
        {
            if (value is not null && Faces.Count == 0)
            {
                Faces = [value];
            }
        }
    }

    public string Device { get; init; } = "cpu";

    /// <summary>sha256 of the recipe's text: the file's, or the built-in recipe's.</summary>
    public static string HashRecipe(string recipe) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            File.Exists(recipe) ? File.ReadAllText(recipe) : Miaoya.Recipes.RecipeLoader.ReadBuiltIn(Path.GetFileNameWithoutExtension(recipe)))));

    /// <summary>The recipe has not changed since the sweep started.</summary>
    /// <exception cref="SweepException">It has, or it is gone.</exception>
    public void CheckRecipeUnchanged()
    {
        string now;
        try
        {
            now = HashRecipe(Recipe);
        }
        catch (Exception e) when (e is IOException or Miaoya.Recipes.RecipeException)
        {
            throw new SweepException($"{Recipe}: the sweep's recipe cannot be read ({e.Message}).", e);
        }

        if (RecipeSha256 is not null && now != RecipeSha256)
        {
            throw new SweepException($"{Recipe} changed since the sweep started; finished cells used the old recipe. Start a new sweep (another --out).");
        }
    }

    /// <summary>Whether <paramref name="other"/> asks for the same grid (so its finished cells can be reused).</summary>
    public bool SameAs(SweepDefinition other) =>
        other is not null
        && Recipe == other.Recipe && RecipeSha256 == other.RecipeSha256 && Template == other.Template && Lora == other.Lora && Seed == other.Seed
        && Trigger.SequenceEqual(other.Trigger) && Sets.SequenceEqual(other.Sets)
        && Axes.Count == other.Axes.Count && Axes.Zip(other.Axes).All(p => p.First.Path == p.Second.Path && p.First.Values.SequenceEqual(p.Second.Values))
        && FaceIndex == other.FaceIndex && Faces.SequenceEqual(other.Faces) && Models == other.Models && Device == other.Device
        && Scorer == other.Scorer && ScorerModel == other.ScorerModel
        && People.Count == other.People.Count && People.Zip(other.People).All(p => p.First.SameAs(p.Second));
}

/// <summary>
/// One person of a several-person sweep: the face they take (from 0, left to right), their LoRA (<c>NAME[:WEIGHT]</c>),
/// their face photos (full paths) and their LoRA's trigger words (null: none; absent in sweeps written before people had them).
/// </summary>
public sealed record SweepPerson(int FaceIndex, string? Lora, IReadOnlyList<string> Faces, IReadOnlyList<string>? Trigger = null)
{
    /// <summary>The person as the pipeline takes them.</summary>
    public Pipeline.PersonRequest ToRequest() => new(FaceIndex, Lora is null ? null : Pipeline.LoraChoice.Parse(Lora), Faces) { TriggerWords = Trigger ?? [] };

    /// <summary>Whether <paramref name="other"/> is the same person with the same LoRA, photos and trigger words.</summary>
    public bool SameAs(SweepPerson other) =>
        other is not null && FaceIndex == other.FaceIndex && Lora == other.Lora && Faces.SequenceEqual(other.Faces) && (Trigger ?? []).SequenceEqual(other.Trigger ?? []);
}

public enum CellStatus
{
    Pending,
    Running,
    Succeeded,
    Failed,
}

/// <summary>One cell's record in <c>sweep.json</c>.</summary>
public sealed record SweepCellRecord
{
    public required int Index { get; init; }

    public required IReadOnlyList<string> Values { get; init; }

    /// <summary>The cell's run folder, relative to the sweep folder.</summary>
    public required string Folder { get; init; }

    public CellStatus Status { get; set; } = CellStatus.Pending;

    /// <summary>The box that ran it last.</summary>
    public string? Box { get; set; }

    public string? Error { get; set; }

    /// <summary>The final image, relative to the sweep folder.</summary>
    public string? Final { get; set; }

    public double? DurationMs { get; set; }

    /// <summary>How much the final image's face looks like the person (sweeps with face photos); null until scored.</summary>
    public CellLikeness? Likeness { get; set; }
}

/// <summary>A cell's likeness to the person, as <c>miaoya score</c> reports it.</summary>
/// <param name="Similarity">Cosine of the final image's face to the centroid of the person's photos; null when no face was found.</param>
/// <param name="Ratio"><paramref name="Similarity"/> / <paramref name="Baseline"/>; null without either.</param>
/// <param name="Baseline">How alike the person's own photos are (leave-one-out); null with one photo.</param>
/// <param name="FacesFound">Faces found in the final image.</param>
public sealed record CellLikeness(double? Similarity, double? Ratio, double? Baseline, int FacesFound);

/// <summary>
/// <c>sweep.json</c>: the definition, the axes and every cell's status. Written atomically whenever a cell starts or
/// ends, so an interrupted sweep resumes where it stopped.
/// </summary>
public sealed record SweepManifest
{
    public const int CurrentVersion = 1;
    public const string FileName = "sweep.json";

    public int Version { get; init; } = CurrentVersion;

    public required SweepDefinition Definition { get; init; }

    /// <summary>The boxes of the last run (URLs without credentials).</summary>
    public IReadOnlyList<string> Boxes { get; set; } = [];

    public required List<SweepCellRecord> Cells { get; init; }

    /// <summary>A new manifest with every cell pending.</summary>
    public static SweepManifest Create(SweepDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var axes = definition.Axes;
        var cells = SweepPlan.Expand(axes).Select(c => new SweepCellRecord
        {
            Index = c.Index,
            Values = c.Values(axes),
            Folder = FolderName(c.Index, axes, c.Values(axes)),
        }).ToList();
        return new SweepManifest { Definition = definition, Cells = cells };
    }

    public static async Task<SweepManifest> LoadAsync(string folder, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            throw new SweepException($"{Path.GetFullPath(path)}: no sweep manifest; is this a folder written by 'miaoya sweep'?");
        }

        try
        {
            await using var stream = File.OpenRead(path);
            var manifest = await JsonSerializer.DeserializeAsync<SweepManifest>(stream, Json, cancellationToken)
                ?? throw new SweepException($"{Path.GetFullPath(path)}: empty sweep manifest.");
            return manifest.Version != CurrentVersion
                ? throw new SweepException($"{Path.GetFullPath(path)}: sweep manifest version {manifest.Version}; this miaoya reads version {CurrentVersion}.")
                : manifest;
        }
        catch (JsonException e)
        {
            throw new SweepException($"{Path.GetFullPath(path)}: not a valid sweep manifest ({e.Message}).", e);
        }
    }

    public Task SaveAsync(string folder, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllBytesAsync(Path.Combine(folder, FileName), JsonSerializer.SerializeToUtf8Bytes(this, Json), cancellationToken);

    /// <summary><c>03-weight-0.5-denoising_strength-0.4</c>: the index, then each axis's last path segment and value.</summary>
    internal static string FolderName(int index, IReadOnlyList<SweepAxis> axes, IReadOnlyList<string> values)
    {
        var parts = axes.Select((a, i) => $"{a.Path.Split('.')[^1]}-{values[i]}");
        var name = $"{index:00}-{string.Join('-', parts)}";
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());
        return safe.Length > 80 ? safe[..80] : safe;
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
