using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Miaoya.Imaging;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>
/// Reads <c>POST /v1/jobs</c>: <c>multipart/form-data</c> (files <c>template</c>, <c>face</c>; fields <c>recipe</c> |
/// <c>recipe_yaml</c>, <c>lora</c>, <c>trigger</c>, <c>identity</c>, <c>seed</c>, <c>overrides</c>, <c>face_index</c>) or
/// <c>application/json</c> with the same names and the images as base64 (or <c>data:</c> URLs). Each image is checked
/// (size, format, pixel dimensions, without decoding the pixels) before anything is written. Problems throw
/// <see cref="FieldProblemException"/> naming the field.
/// </summary>
internal sealed class SubmissionReader(ServerOptions options)
{
    private const int MaxTextLength = 1024 * 1024;
    private const int MaxIdentityLength = 256;

    public async Task<SubmissionForm> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length && length > options.MaxRequestBytes)
        {
            throw new FieldProblemException(StatusCodes.Status413PayloadTooLarge, "body", $"the request has {length} bytes; at most {options.MaxRequestBytes} are accepted.");
        }

        try
        {
            if (request.HasFormContentType)
            {
                return await ReadFormAsync(request, cancellationToken);
            }

            if (request.HasJsonContentType())
            {
                return await ReadJsonAsync(request, cancellationToken);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new FieldProblemException(StatusCodes.Status413PayloadTooLarge, "body", $"the request is larger than {options.MaxRequestBytes} bytes.");
        }
        catch (InvalidDataException e)
        {
            // The form reader's limits (a value or a multipart section too long, too many parts).
            var status = e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase) ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;
            throw new FieldProblemException(status, "body", e.Message);
        }

        throw new FieldProblemException(StatusCodes.Status415UnsupportedMediaType, "body", "send multipart/form-data (files template, face) or application/json (images as base64).");
    }

    private async Task<SubmissionForm> ReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(
            new FormOptions
            {
                // The whole body stays in memory: no copy of a user's photo lands in ASP.NET's own temporary files.
                MemoryBufferThreshold = (int)Math.Min(int.MaxValue, options.MaxRequestBytes),
                BufferBodyLengthLimit = options.MaxRequestBytes,
                MultipartBodyLengthLimit = options.MaxRequestBytes,
                ValueLengthLimit = MaxTextLength,
                ValueCountLimit = 256,
            },
            cancellationToken);
        foreach (var file in form.Files)
        {
            if (file.Name is not ("template" or "face"))
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, file.Name, "unknown file field; send template and (V3) face.");
            }
        }

        foreach (var key in form.Keys)
        {
            if (key is not ("recipe" or "recipe_yaml" or "lora" or "trigger" or "identity" or "seed" or "overrides" or "face_index"))
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, key, "unknown field.");
            }
        }

        return new SubmissionForm
        {
            Template = await ReadFileAsync(form.Files, "template", cancellationToken),
            Face = await ReadFileAsync(form.Files, "face", cancellationToken),
            Recipe = Single(form, "recipe"),
            RecipeYaml = Single(form, "recipe_yaml"),
            Lora = Single(form, "lora"),
            Trigger = form["trigger"].SelectMany(t => (t ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
            Identity = Single(form, "identity"),
            Seed = ParseLong(Single(form, "seed"), "seed"),
            Overrides = form["overrides"].SelectMany(o => (o ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
            FaceIndex = ParseInt(Single(form, "face_index"), "face_index"),
        };
    }

    private async Task<SubmissionForm> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", $"not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", "expected a JSON object.");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("template" or "face" or "recipe" or "recipe_yaml" or "lora" or "trigger" or "identity" or "seed" or "overrides" or "face_index"))
                {
                    throw new FieldProblemException(StatusCodes.Status400BadRequest, property.Name, "unknown field.");
                }
            }

            return new SubmissionForm
            {
                Template = Base64Image(root, "template"),
                Face = Base64Image(root, "face"),
                Recipe = JsonString(root, "recipe"),
                RecipeYaml = JsonString(root, "recipe_yaml"),
                Lora = JsonString(root, "lora"),
                Trigger = JsonStrings(root, "trigger"),
                Identity = JsonString(root, "identity"),
                Seed = root.TryGetProperty("seed", out var seed) && seed.ValueKind != JsonValueKind.Null
                    ? seed.TryGetInt64(out var s) ? s : throw new FieldProblemException(StatusCodes.Status400BadRequest, "seed", "must be an integer (-1: random).")
                    : null,
                Overrides = JsonStrings(root, "overrides"),
                FaceIndex = root.TryGetProperty("face_index", out var index) && index.ValueKind != JsonValueKind.Null
                    ? index.TryGetInt32(out var i) ? i : throw new FieldProblemException(StatusCodes.Status400BadRequest, "face_index", "must be an integer.")
                    : null,
            };
        }
    }

    private async Task<UploadedImage?> ReadFileAsync(IFormFileCollection files, string field, CancellationToken cancellationToken)
    {
        var matching = files.GetFiles(field);
        if (matching.Count == 0)
        {
            return null;
        }

        if (matching.Count > 1)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "send one file.");
        }

        var file = matching[0];
        if (file.Length > options.MaxImageBytes)
        {
            throw new FieldProblemException(StatusCodes.Status413PayloadTooLarge, field, $"the file has {file.Length} bytes; at most {options.MaxImageBytes} are accepted per image.");
        }

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, cancellationToken);
        }

        return Check(field, new EncodedImage(bytes), file.FileName);
    }

    private UploadedImage? Base64Image(JsonElement root, string field)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "expected the image as a base64 string or a data: URL.");
        }

        EncodedImage image;
        try
        {
            image = EncodedImage.FromBase64(value.GetString());
        }
        catch (InvalidImageDataException e)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, e.Message);
        }

        if (image.Length > options.MaxImageBytes)
        {
            throw new FieldProblemException(StatusCodes.Status413PayloadTooLarge, field, $"the image has {image.Length} bytes; at most {options.MaxImageBytes} are accepted per image.");
        }

        return Check(field, image, null);
    }

    private UploadedImage Check(string field, EncodedImage image, string? fileName)
    {
        if (image.Format == ImageFileFormat.Unknown)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "not a PNG, JPEG or WebP image.");
        }

        int width, height;
        try
        {
            (width, height) = image.ReadSize();
        }
        catch (Exception e) when (e is InvalidImageDataException or SixLabors.ImageSharp.ImageFormatException or SixLabors.ImageSharp.UnknownImageFormatException)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"the image cannot be read: {e.Message}");
        }

        if (width > options.MaxImageSide || height > options.MaxImageSide)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"the image is {width}×{height} pixels; at most {options.MaxImageSide} on each side are accepted.");
        }

        return new UploadedImage(image, SafeName(fileName, field, image.FileExtension));
    }

    /// <summary>The upload's own name when it is a plain file name (shown in job listings), else <c>field.ext</c>.</summary>
    private static string SafeName(string? fileName, string field, string extension)
    {
        var name = Path.GetFileName(fileName ?? "");
        if (name.Length is 0 or > 100 || name.StartsWith('.') || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ' '))
        {
            return field + extension;
        }

        return name;
    }

    private static string? Single(IFormCollection form, string field)
    {
        var values = form[field];
        if (values.Count > 1)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "give it once.");
        }

        return values.Count == 1 && !string.IsNullOrWhiteSpace(values[0]) ? values[0] : null;
    }

    private static long? ParseLong(string? text, string field) =>
        text is null ? null
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"'{text}' is not an integer (-1: random).");

    private static int? ParseInt(string? text, string field) =>
        text is null ? null
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"'{text}' is not an integer.");

    private static string? JsonString(JsonElement root, string field)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString() is { Length: > 0 } text && !string.IsNullOrWhiteSpace(text) ? text : null
            : throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "expected a string.");
    }

    private static string[] JsonStrings(JsonElement root, string field)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
        {
            return value.EnumerateArray().Select(v => v.GetString()!).ToArray();
        }

        throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "expected a string or an array of strings.");
    }

    /// <summary>Writes the images to a private temporary folder, builds the submission, and deletes the folder when disposed.</summary>
    public static StagedSubmission Stage(SubmissionForm form, string? uploadDirectory)
    {
        if (form.Template is null)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "template", "the template photo is required (a file field named template).");
        }

        if (form.Lora is null)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "lora", "the person's face LoRA is required (name or name:weight).");
        }

        if (form.Recipe is null && form.RecipeYaml is null)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "recipe", "give a recipe name (recipe) or an inline recipe (recipe_yaml).");
        }

        if (form.Identity is { Length: > MaxIdentityLength })
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "identity", $"at most {MaxIdentityLength} characters.");
        }

        string folder;
        if (uploadDirectory is null)
        {
            folder = Directory.CreateTempSubdirectory("miaoya-upload-").FullName;
        }
        else
        {
            folder = Path.Combine(Path.GetFullPath(uploadDirectory), "miaoya-upload-" + Guid.NewGuid().ToString("N"));
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        try
        {
            var template = Path.Combine(folder, "t", form.Template.Name);
            var face = form.Face is null ? null : Path.Combine(folder, "f", form.Face.Name);
            Directory.CreateDirectory(Path.GetDirectoryName(template)!);
            File.WriteAllBytes(template, form.Template.Image.Bytes.Span);
            if (face is not null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(face)!);
                File.WriteAllBytes(face, form.Face!.Image.Bytes.Span);
            }

            var submission = new JobSubmission
            {
                Recipe = form.Recipe,
                RecipeYaml = form.RecipeYaml,
                Overrides = form.Overrides,
                TemplatePath = template,
                FacePath = face,
                Lora = form.Lora,
                TriggerWords = form.Trigger,
                Identity = form.Identity,
                Seed = form.Seed ?? -1,
                FaceIndex = form.FaceIndex,
            };
            return new StagedSubmission(submission, folder);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }
}

/// <summary>A checked image from a request, and the file name it is staged under.</summary>
internal sealed record UploadedImage(EncodedImage Image, string Name);

/// <summary>The fields of a submission as sent.</summary>
internal sealed record SubmissionForm
{
    public UploadedImage? Template { get; init; }

    public UploadedImage? Face { get; init; }

    public string? Recipe { get; init; }

    public string? RecipeYaml { get; init; }

    public string? Lora { get; init; }

    public IReadOnlyList<string> Trigger { get; init; } = [];

    public string? Identity { get; init; }

    public long? Seed { get; init; }

    public IReadOnlyList<string> Overrides { get; init; } = [];

    public int? FaceIndex { get; init; }
}

/// <summary>A submission whose images sit in a temporary folder until the submitter has copied them; disposing deletes it.</summary>
internal sealed class StagedSubmission(JobSubmission submission, string folder) : IDisposable
{
    public JobSubmission Submission { get; } = submission;

    /// <summary>The temporary folder (scrubbed from error messages: it means nothing to the caller).</summary>
    public string Folder { get; } = folder;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
