using Microsoft.AspNetCore.Http;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>The multipart form of <c>POST /v1/jobs</c> (for the OpenAPI document).</summary>
public sealed class JobSubmissionForm
{
    /// <summary>The template photo (PNG, JPEG or WebP); or give template_name.</summary>
    public IFormFile? Template { get; init; }

    /// <summary>A template of the server's library (miaoya templates list) instead of an uploaded photo: its suggested recipe (when recipe is not given), overrides, style LoRA and prompt additions apply under overrides.</summary>
    public string? TemplateName { get; init; }

    /// <summary>
    /// The person's face photos, one file per field (repeat it; at most 8), each showing exactly one face: V3 swaps the
    /// first in, an identity recipe (v4-*) takes each, candidates are scored against them all.
    /// </summary>
    [System.ComponentModel.DataAnnotations.MaxLength(JobSubmission.MaxFacePhotos)]
    public IReadOnlyList<IFormFile>? Face { get; init; }

    /// <summary>A recipe name: built-in (v1-face, v1-face-neck, v2, v2-finish, v3, v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl) or one of the server's recipe folder.</summary>
    public string? Recipe { get; init; }

    /// <summary>An inline recipe document instead of a name.</summary>
    public string? RecipeYaml { get; init; }

    /// <summary>The person's face LoRA, name or name:weight; required unless the recipe has an identity section (v4-*), which takes the person from the face photos.</summary>
    public string? Lora { get; init; }

    /// <summary>Trigger words, comma-separated or repeated.</summary>
    public string? Trigger { get; init; }

    /// <summary>Who the person is (shown in listings; never sent to a box).</summary>
    public string? Identity { get; init; }

    /// <summary>Seed; -1 or absent: random.</summary>
    public long? Seed { get; init; }

    /// <summary>Recipe overrides, key=value, one per line or repeated.</summary>
    public string? Overrides { get; init; }

    /// <summary>Which face of the template to replace (largest first).</summary>
    public int? FaceIndex { get; init; }

    /// <summary>Best of N (1..16): render N candidates and keep the one most like the face photos that passes the recipe's likeness gates (overrides candidates.count=N; needs face photos).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, JobSubmission.MaxCandidates)]
    public int? Candidates { get; init; }

    /// <summary>
    /// Several people in one template (at most 8): a JSON array as text, each person {"face_index": N, "lora": "name", "lora_weight": 0.8, "trigger": ["word"]}
    /// (face_index counted from 0 left to right; trigger: that person's LoRA trigger words, needing lora); each person's face photos are files people[N].faces, N their place in the array.
    /// Not with lora, face, face_index, trigger or candidates.
    /// </summary>
    public string? People { get; init; }
}

/// <summary>
/// The JSON form of <c>POST /v1/jobs</c> (for the OpenAPI document): the same fields, images as base64 or data: URLs. Only
/// template is required, and recipe or recipe_yaml; lora unless the recipe has an identity section; any other field may
/// be left out or null.
/// </summary>
public sealed class JobSubmissionJson
{
    /// <summary>The template photo (PNG, JPEG or WebP), base64 or a data: URL; or give template_name.</summary>
    public string? Template { get; init; }

    /// <summary>A template of the server's library (miaoya templates list) instead of an uploaded photo: its suggested recipe (when recipe is not given), overrides, style LoRA and prompt additions apply under overrides.</summary>
    public string? TemplateName { get; init; }

    /// <summary>The person's face photo, base64 or a data: URL (one photo; for several use faces, not both).</summary>
    public string? Face { get; init; }

    /// <summary>The person's face photos (at most 8), each base64 or a data: URL and showing exactly one face: V3 swaps the first in, an identity recipe (v4-*) takes each, candidates are scored against them all.</summary>
    [System.ComponentModel.DataAnnotations.MaxLength(JobSubmission.MaxFacePhotos)]
    public IReadOnlyList<string>? Faces { get; init; }

    /// <summary>A recipe name: built-in (v1-face, v1-face-neck, v2, v2-finish, v3, v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl) or one of the server's recipe folder.</summary>
    public string? Recipe { get; init; }

    /// <summary>An inline recipe document instead of a name.</summary>
    public string? RecipeYaml { get; init; }

    /// <summary>The person's face LoRA, name or name:weight; required unless the recipe has an identity section (v4-*), which takes the person from the face photos.</summary>
    public string? Lora { get; init; }

    /// <summary>Trigger words: a string or an array of strings.</summary>
    public IReadOnlyList<string>? Trigger { get; init; }

    /// <summary>Who the person is (shown in listings; never sent to a box).</summary>
    public string? Identity { get; init; }

    /// <summary>Seed; -1 or absent: random.</summary>
    public long? Seed { get; init; }

    /// <summary>Recipe overrides, key=value: a string or an array of strings.</summary>
    public IReadOnlyList<string>? Overrides { get; init; }

    /// <summary>Which face of the template to replace (largest first).</summary>
    public int? FaceIndex { get; init; }

    /// <summary>Best of N (1..16): render N candidates and keep the one most like the face photos that passes the recipe's likeness gates (overrides candidates.count=N; needs face photos).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, JobSubmission.MaxCandidates)]
    public int? Candidates { get; init; }

    /// <summary>Several people in one template (at most 8), each taking one face; not with lora, face, faces, face_index, trigger or candidates.</summary>
    [System.ComponentModel.DataAnnotations.MaxLength(JobSubmission.MaxPeople)]
    public IReadOnlyList<JobPersonJson>? People { get; init; }
}

/// <summary>One person of <c>people</c> in the JSON form of <c>POST /v1/jobs</c> (for the OpenAPI document).</summary>
public sealed class JobPersonJson
{
    /// <summary>The face this person takes, counted from 0 left to right (by the left edge of each face's box, as ReActor counts).</summary>
    [System.ComponentModel.DataAnnotations.Required]
    [System.ComponentModel.DataAnnotations.Range(0, int.MaxValue)]
    public int FaceIndex { get; init; }

    /// <summary>The person's face LoRA, name or name:weight; required unless the recipe has an identity section (v4-*) or is V3.</summary>
    public string? Lora { get; init; }

    /// <summary>The LoRA's weight (0..2) when lora is a bare name; default the recipe's prompt.lora_weight.</summary>
    [System.ComponentModel.DataAnnotations.Range(0.0, 2.0)]
    public double? LoraWeight { get; init; }

    /// <summary>The trigger words of this person's LoRA, in their prompt only: an array of strings or one string of comma-separated words; needs lora.</summary>
    public IReadOnlyList<string>? Trigger { get; init; }

    /// <summary>The person's face photos (at most 8), each base64 or a data: URL and showing exactly one face: required by an identity recipe (v4-*) and V3 (which swaps the first in).</summary>
    [System.ComponentModel.DataAnnotations.MaxLength(JobSubmission.MaxFacePhotos)]
    public IReadOnlyList<string>? Faces { get; init; }
}
