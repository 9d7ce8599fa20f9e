namespace Miaoya.Runner;

/// <summary>
/// An ID-photo job to queue (<c>POST /v1/idphoto</c>): the photo and the settings <c>miaoya idphoto</c> takes, as text,
/// checked by <see cref="JobSubmitter.SubmitIdPhotoAsync"/>.
/// </summary>
public sealed record IdPhotoSubmission
{
    /// <summary>The photo on this machine (PNG, JPEG or WebP; one person, frontal); it is copied into the job's folder.</summary>
    public required string PhotoPath { get; init; }

    /// <summary>A built-in spec name, e.g. <c>cn-1inch</c> (required).</summary>
    public string? Spec { get; init; }

    /// <summary><c>keep</c>, white, blue, red, off-white, light-grey, <c>#RRGGBB</c> or <c>gradient:TOP:BOTTOM</c>; null: the spec's first colour.</summary>
    public string? Background { get; init; }

    /// <summary>300, 254 or 350; null: the spec's.</summary>
    public int? Dpi { get; init; }

    /// <summary>Largest file size in KB; null: the spec's limit, if any.</summary>
    public int? Kb { get; init; }

    /// <summary><c>6inch</c>, <c>a4</c> or <c>none</c>; null: no sheet.</summary>
    public string? Sheet { get; init; }

    /// <summary><c>jpeg</c> or <c>png</c>; null: the spec's first format.</summary>
    public string? Format { get; init; }

    /// <summary>Who the person is (free text shown in listings); not sent to any box.</summary>
    public string? Identity { get; init; }
}
