using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Miaoya.Server;

/// <summary>An ID-photo job's settings as resolved when it was queued (the spec's defaults filled in); null for a portrait job.</summary>
/// <param name="Spec">The spec, e.g. cn-1inch.</param>
/// <param name="Background">keep, a colour, #RRGGBB or gradient:TOP:BOTTOM.</param>
/// <param name="Dpi">300, 254 or 350.</param>
/// <param name="Kb">The size target in KB; null: the spec's limit, if any.</param>
/// <param name="Sheet">none, 6inch or a4.</param>
/// <param name="Format">jpeg or png; null: the spec's first format.</param>
public sealed record IdPhotoView(string Spec, string Background, int Dpi, int? Kb, string Sheet, string? Format);

/// <summary>
/// The verdict of a photo against a spec (<c>POST /v1/idphoto/check</c>, and <c>verdict.json</c> of an ID-photo job): the
/// same JSON as <c>miaoya idphoto check --json</c>.
/// </summary>
/// <param name="File">The photo's file name.</param>
/// <param name="Spec">The spec checked against.</param>
/// <param name="Dpi">The DPI checked for.</param>
/// <param name="Passed">Whether every rule passed (a skipped rule does not count).</param>
/// <param name="Failed">The ids of the rules that failed.</param>
/// <param name="Generated">Whether a generative step made the photo (false for ID-photo jobs and checks).</param>
/// <param name="Mode">document-safe or ai-generated.</param>
/// <param name="Note">What issuing authorities say of generated and edited photos.</param>
/// <param name="Rules">Every rule, in a fixed order: pixel_size, dpi, format, file_size, face_count, head_height, top_margin, eye_line, centring, roll, background_uniformity, background_colour, background_rim.</param>
public sealed record IdPhotoVerdictView(
    string File, string Spec, int Dpi, bool Passed, IReadOnlyList<string> Failed, bool Generated, string Mode, string Note, IReadOnlyList<IdPhotoRuleView> Rules);

/// <summary>
/// One rule of a verdict; some rules add further numbers of their own (mm, samples, bytes, the nearest colour). Value and
/// Expected are any JSON value, null included (typed JsonNode, not JsonNode?, so the document says "any" rather than
/// "null or any", which would match null twice).
/// </summary>
/// <param name="Id">The rule.</param>
/// <param name="Passed">Whether it passed (a skipped rule passes).</param>
/// <param name="Skipped">It could not be measured here (the rim without a matte).</param>
/// <param name="Value">The measured value: a number, an object of numbers (pixel size) or a word (format); null when not measured.</param>
/// <param name="Unit">The unit of value, min and max.</param>
/// <param name="Min">The lowest allowed value.</param>
/// <param name="Max">The highest allowed value.</param>
/// <param name="Expected">The exact value required (pixel size, DPI, face count); null when there is none.</param>
/// <param name="Allowed">The allowed words (formats, background colours).</param>
/// <param name="Text">The measurement and the requirement, for people.</param>
/// <param name="Detail">More about the measurement.</param>
/// <param name="Hint">How to fix it: set on every rule that fails.</param>
public sealed record IdPhotoRuleView(
    string Id, bool Passed, bool Skipped, JsonNode Value, string? Unit, double? Min, double? Max, JsonNode Expected, IReadOnlyList<string>? Allowed,
    string Text, string? Detail, string? Hint);

/// <summary>An ID-photo spec (<c>recipes/id-specs/NAME.yaml</c>).</summary>
/// <param name="Name">What spec takes.</param>
/// <param name="Title">What it is for.</param>
/// <param name="WidthMm">Width in millimetres.</param>
/// <param name="HeightMm">Height in millimetres.</param>
/// <param name="Dpi">Its default DPI.</param>
/// <param name="Pixels">The size in pixels at each DPI a photo can be made at.</param>
/// <param name="Backgrounds">The background colours it allows (keep is always accepted and measured).</param>
/// <param name="Formats">The file formats it allows.</param>
/// <param name="MaxKb">Its file-size limit in KB, if it has one.</param>
public sealed record IdPhotoSpecView(
    string Name, string Title, double WidthMm, double HeightMm, int Dpi, IReadOnlyList<IdPhotoPixelsView> Pixels, IReadOnlyList<string> Backgrounds,
    IReadOnlyList<string> Formats, int? MaxKb);

/// <summary>A spec's size in pixels at one DPI.</summary>
public sealed record IdPhotoPixelsView(int Dpi, int Width, int Height);

/// <summary>The multipart form of <c>POST /v1/idphoto</c> (for the OpenAPI document).</summary>
public sealed class IdPhotoSubmissionForm
{
    /// <summary>The person's photo (PNG, JPEG or WebP; one person, frontal; 64 to 4096 px per side).</summary>
    public required IFormFile Photo { get; init; }

    /// <summary>The spec: cn-1inch, cn-1inch-small, cn-1inch-large, cn-2inch, cn-2inch-small, cn-passport-visa, icao-35x45, us-2x2 (GET /v1/idphoto/specs).</summary>
    public required string Spec { get; init; }

    /// <summary>keep, white, blue, red, off-white, light-grey, #RRGGBB or gradient:TOP:BOTTOM, among the colours the spec allows; default: the spec's first colour.</summary>
    public string? Background { get; init; }

    /// <summary>300, 254 or 350; default: the spec's.</summary>
    public int? Dpi { get; init; }

    /// <summary>Largest file size in KB (JPEG quality is searched); default: the spec's limit, if any.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, int.MaxValue)]
    public int? Kb { get; init; }

    /// <summary>Also lay copies out on a print sheet: 6inch (4R, 152×102 mm) or a4, or none.</summary>
    public string? Sheet { get; init; }

    /// <summary>jpeg or png; default: the spec's first format.</summary>
    public string? Format { get; init; }

    /// <summary>Who the person is (shown in listings; never sent to a box).</summary>
    public string? Identity { get; init; }
}

/// <summary>The multipart form of <c>POST /v1/idphoto/check</c> (for the OpenAPI document).</summary>
public sealed class IdPhotoCheckForm
{
    /// <summary>The finished photo (PNG, JPEG or WebP).</summary>
    public required IFormFile Photo { get; init; }

    /// <summary>Its person matte (white = person; the job's idphoto-mask.png), for the rim rule; without it that rule is skipped.</summary>
    public IFormFile? Mask { get; init; }

    /// <summary>The spec to check against (GET /v1/idphoto/specs).</summary>
    public required string Spec { get; init; }

    /// <summary>300, 254 or 350; default: the spec's.</summary>
    public int? Dpi { get; init; }

    /// <summary>Also require the file to be at most this many KB.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, int.MaxValue)]
    public int? Kb { get; init; }
}
