using Microsoft.AspNetCore.Http;
using Miaoya.Imaging;
using Miaoya.Limits;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>
/// <c>POST /v1/idphoto</c> and <c>POST /v1/idphoto/check</c>: <c>multipart/form-data</c> only, read with the same
/// streaming reader, limits and image checks as a job submission (<see cref="ServerOptions.MaxRequestBytes"/>,
/// <see cref="ServerOptions.MaxImageBytes"/>, <see cref="ServerOptions.MaxImageSide"/>; PNG, JPEG or WebP, whole).
/// </summary>
internal sealed partial class SubmissionReader
{
    /// <summary>Longest short word field (sheet, format, dpi, kb).</summary>
    private const int MaxWordChars = 32;

    private static readonly FormShape IdPhotoShape = new(
        new Dictionary<string, int>(StringComparer.Ordinal) { ["photo"] = 1 },
        new HashSet<string>(StringComparer.Ordinal) { "spec", "background", "dpi", "kb", "sheet", "format", "identity" },
        "send the person's photo as photo (one file)",
        "send multipart/form-data: the photo as a file field named photo, and the field spec.");

    private static readonly FormShape CheckShape = new(
        new Dictionary<string, int>(StringComparer.Ordinal) { ["photo"] = 1, ["mask"] = 1 },
        new HashSet<string>(StringComparer.Ordinal) { "spec", "dpi", "kb" },
        "send the finished photo as photo and, for the rim rule, its matte as mask (one file each)",
        "send multipart/form-data: the finished photo as a file field named photo, and the field spec.");

    /// <summary>Reads an ID-photo submission (<c>POST /v1/idphoto</c>).</summary>
    public Task<IdPhotoForm> ReadIdPhotoAsync(HttpRequest request, CancellationToken cancellationToken) => GuardAsync(request, IdPhotoShape, async () =>
    {
        var (files, fields) = await ReadPartsAsync(request, IdPhotoShape, cancellationToken);
        return CheckedWords(new IdPhotoForm
        {
            Photo = OneFile(files, "photo"),
            Spec = Single(fields, "spec"),
            Background = Single(fields, "background"),
            Dpi = ParseInt(Single(fields, "dpi"), "dpi"),
            Kb = ParseInt(Single(fields, "kb"), "kb"),
            Sheet = Single(fields, "sheet"),
            Format = Single(fields, "format"),
            Identity = Single(fields, "identity"),
        });
    }, cancellationToken);

    /// <summary>Reads a check request (<c>POST /v1/idphoto/check</c>): the finished photo, optionally its matte, spec, dpi and kb.</summary>
    public Task<IdPhotoForm> ReadIdPhotoCheckAsync(HttpRequest request, CancellationToken cancellationToken) => GuardAsync(request, CheckShape, async () =>
    {
        var (files, fields) = await ReadPartsAsync(request, CheckShape, cancellationToken);
        return CheckedWords(new IdPhotoForm
        {
            Photo = OneFile(files, "photo"),
            Mask = OneFile(files, "mask"),
            Spec = Single(fields, "spec"),
            Dpi = ParseInt(Single(fields, "dpi"), "dpi"),
            Kb = ParseInt(Single(fields, "kb"), "kb"),
        });
    }, cancellationToken);

    /// <summary>Each text field within its limit and free of control characters; the photo and spec present.</summary>
    private static IdPhotoForm CheckedWords(IdPhotoForm form)
    {
        if (form.Photo is null)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "photo", "the photo is required (a file field named photo).");
        }

        Limit("spec", form.Spec, InputLimits.Text.MaxNameChars);
        Limit("background", form.Background, InputLimits.Text.MaxNameChars);
        Limit("sheet", form.Sheet, MaxWordChars);
        Limit("format", form.Format, MaxWordChars);
        Limit("identity", form.Identity, InputLimits.Text.MaxIdentityChars);
        return form;

        static void Limit(string field, string? value, int max)
        {
            if (value is not null && UserText.Problem(value, max) is { } problem)
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"{problem}.");
            }
        }
    }

    /// <summary>Writes the photo to a private temporary folder (as a submission's template is); disposing deletes it.</summary>
    public static StagedPhoto StagePhoto(UploadedImage photo, string? uploadDirectory)
    {
        var folder = NewStagingFolder(uploadDirectory);
        try
        {
            var path = Path.Combine(folder, photo.Name);
            PrivateFiles.WriteAllBytes(path, photo.Image.Bytes.Span);
            return new StagedPhoto(path, folder);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }
}

/// <summary>The fields of an ID-photo submission or check as sent.</summary>
internal sealed record IdPhotoForm
{
    public UploadedImage? Photo { get; init; }

    /// <summary>The person matte (check only).</summary>
    public UploadedImage? Mask { get; init; }

    public string? Spec { get; init; }

    public string? Background { get; init; }

    public int? Dpi { get; init; }

    public int? Kb { get; init; }

    public string? Sheet { get; init; }

    public string? Format { get; init; }

    public string? Identity { get; init; }

    /// <summary>The submission for <see cref="JobSubmitter.SubmitIdPhotoAsync"/>, with the photo staged at <paramref name="path"/>.</summary>
    public IdPhotoSubmission ToSubmission(string path) => new()
    {
        PhotoPath = path,
        Spec = Spec,
        Background = Background,
        Dpi = Dpi,
        Kb = Kb,
        Sheet = Sheet,
        Format = Format,
        Identity = Identity,
    };
}

/// <summary>An uploaded photo waiting in a private temporary folder until the job's folder has its copy; disposing deletes it.</summary>
internal sealed class StagedPhoto(string path, string folder) : IDisposable
{
    public string Path { get; } = path;

    /// <summary>A message with the staged photo's path shortened to its name and the folder to "(upload)".</summary>
    public string Scrub(string message) =>
        message.Replace(System.IO.Path.GetDirectoryName(Path) + System.IO.Path.DirectorySeparatorChar, "", StringComparison.Ordinal)
            .Replace(folder, "(upload)", StringComparison.Ordinal);

    public void Dispose()
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
