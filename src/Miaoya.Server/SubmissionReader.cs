using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Miaoya.Imaging;
using Miaoya.Limits;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>
/// Reads <c>POST /v1/jobs</c>: <c>multipart/form-data</c> (files <c>template</c> and <c>face</c>, the latter once per
/// photo; fields <c>template_name</c> (a library template instead of the file), <c>recipe</c> | <c>recipe_yaml</c>, <c>lora</c>, <c>trigger</c>, <c>identity</c>, <c>seed</c>,
/// <c>overrides</c>, <c>face_index</c>, <c>candidates</c>) or <c>application/json</c> with the same names, the images as
/// base64 (or <c>data:</c> URLs) and the face photos as <c>face</c> (one) or <c>faces</c> (a list). Each image is checked
/// (size, format, pixel dimensions, without decoding the pixels) before anything is written. Problems throw
/// <see cref="FieldProblemException"/> naming the field.
/// </summary>
internal sealed partial class SubmissionReader(ServerOptions options)
{
    /// <summary>Prefix of an upload's staging folder: <c>miaoya-upload-PID-GUID</c> (the process that owns it, for the sweep at start).</summary>
    public const string StagingPrefix = "miaoya-upload-";

    /// <summary>Longest text field: an inline recipe, as UTF-8 (each field's own limit is checked after reading).</summary>
    private static readonly int MaxTextLength = InputLimits.Yaml.MaxDocumentChars * 4;

    /// <summary>Most parts of a multipart submission.</summary>
    private const int MaxParts = 256;

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>What a multipart body of <c>POST /v1/jobs</c> may hold: files template and face (at most 8), and its text fields.</summary>
    private static readonly FormShape JobForm = new(
        new Dictionary<string, int>(
            Enumerable.Range(0, JobSubmission.MaxPeople).Select(i => KeyValuePair.Create(PersonFacesField(i), JobSubmission.MaxFacePhotos))
                .Prepend(KeyValuePair.Create("face", JobSubmission.MaxFacePhotos))
                .Prepend(KeyValuePair.Create("template", 1)),
            StringComparer.Ordinal),
        new HashSet<string>(StringComparer.Ordinal) { "template_name", "recipe", "recipe_yaml", "lora", "trigger", "identity", "seed", "overrides", "face_index", "candidates", "people" },
        "send template and the person's photos as face (repeated, one file each), or with people each person's photos as people[N].faces",
        "send multipart/form-data (files template, face) or application/json (images as base64).");

    public Task<SubmissionForm> ReadAsync(HttpRequest request, CancellationToken cancellationToken) => GuardAsync(request, JobForm, async () =>
    {
        if (request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true)
        {
            return await ReadFormAsync(request, cancellationToken);
        }

        return request.HasJsonContentType() ? await ReadJsonAsync(request, cancellationToken) : null;
    }, cancellationToken);

    /// <summary>
    /// Reads a body with <paramref name="read"/> (null: a content type it does not take): a body announced over the
    /// request limit is refused before it is read, and the reader's limits and broken framing become problems naming
    /// <c>body</c>.
    /// </summary>
    private async Task<T> GuardAsync<T>(HttpRequest request, FormShape shape, Func<Task<T?>> read, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength is { } length && length > options.MaxRequestBytes)
        {
            throw new FieldProblemException(StatusCodes.Status413PayloadTooLarge, "body", $"the request has {length} bytes; at most {options.MaxRequestBytes} are accepted.");
        }

        try
        {
            if (await read() is { } result)
            {
                return result;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new FieldProblemException(StatusCodes.Status413PayloadTooLarge, "body", $"the request is larger than {options.MaxRequestBytes} bytes.");
        }
        catch (InvalidDataException e)
        {
            // The reader's limits and broken framing. Only a part's body over its length is "too large"; text before the
            // first boundary over the header limit means the body does not use the boundary the header gives.
            var tooLarge = e.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase);
            var message = e.Message.Contains("before the first boundary", StringComparison.OrdinalIgnoreCase)
                ? "no part starts with the boundary the Content-Type header gives."
                : $"the multipart body cannot be read: {e.Message}";
            throw new FieldProblemException(tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, "body", message);
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException or FormatException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            // A boundary that does not match the header, a part cut short, garbage between parts: the client's framing.
            var why = e.Message.Contains("Unexpected end of Stream", StringComparison.OrdinalIgnoreCase)
                ? "the body ends before the closing boundary (--BOUNDARY--) of its multipart"
                : e.Message;
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", $"the multipart body cannot be read ({why}); send a well-formed multipart/form-data body or application/json.");
        }

        throw new FieldProblemException(StatusCodes.Status415UnsupportedMediaType, "body", shape.Unsupported);
    }

    private async Task<SubmissionForm> ReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (files, fields) = await ReadPartsAsync(request, JobForm, cancellationToken);
        return Checked(new SubmissionForm
        {
            Template = OneFile(files, "template"),
            TemplateName = Single(fields, "template_name"),
            Faces = files.TryGetValue("face", out var photos) ? photos : [],
            Recipe = Single(fields, "recipe"),
            RecipeYaml = Single(fields, "recipe_yaml"),
            Lora = Single(fields, "lora"),
            Trigger = All(fields, "trigger").SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
            Identity = Single(fields, "identity"),
            Seed = ParseLong(Single(fields, "seed"), "seed"),
            Overrides = All(fields, "overrides").SelectMany(o => o.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
            FaceIndex = ParseInt(Single(fields, "face_index"), "face_index"),
            Candidates = ParseInt(Single(fields, "candidates"), "candidates"),
            People = FormPeople(files, fields),
        });
    }

    /// <summary>
    /// The file fields a multipart body may have, each with the most files it takes; its text fields; what to say of an
    /// unknown file field; and what to say of a content type it does not take (415).
    /// </summary>
    private sealed record FormShape(IReadOnlyDictionary<string, int> Files, IReadOnlySet<string> Texts, string FilesHint, string Unsupported);

    /// <summary>
    /// Reads a <c>multipart/form-data</c> body part by part with ASP.NET's streaming <see cref="MultipartReader"/>: each
    /// image is read once, straight into its own buffer, checked, and refused as soon as it passes its limit; each text
    /// field is read up to its limit. Nothing of the body is buffered beyond the part being read, and nothing goes to disk.
    /// </summary>
    private async Task<(Dictionary<string, List<UploadedImage>> Files, Dictionary<string, List<string>> Fields)> ReadPartsAsync(
        HttpRequest request, FormShape shape, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw new FieldProblemException(StatusCodes.Status415UnsupportedMediaType, "body", shape.Unsupported);
        }

        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 70)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", "the Content-Type header has no usable multipart boundary (1-70 characters, RFC 2046).");
        }

        var reader = new MultipartReader(boundary, request.Body)
        {
            HeadersCountLimit = 16,
            HeadersLengthLimit = 16 * 1024,
            // Each part's own limit is checked while reading it (with a message naming the field); this only backs it up.
            BodyLengthLimit = Math.Max(options.MaxImageBytes, MaxTextLength) + 1,
        };
        var files = new Dictionary<string, List<UploadedImage>>(StringComparer.Ordinal);
        var fields = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var parts = 0;
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (++parts > MaxParts)
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", $"more than {MaxParts} parts; a submission has a few fields and a few photos.");
            }

            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", $"part {parts} has no Content-Disposition: form-data header naming its field.");
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (name.Length == 0)
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", $"part {parts} has no field name (Content-Disposition: form-data; name=\"...\").");
            }
            if (disposition.IsFileDisposition())
            {
                if (!shape.Files.TryGetValue(name, out var most))
                {
                    throw new FieldProblemException(StatusCodes.Status400BadRequest, UserText.Quote(name), $"unknown file field; {shape.FilesHint}.");
                }

                if (files.TryGetValue(name, out var already) && already.Count == most)
                {
                    // Refused before this file is read: no more than is used is held in memory.
                    throw new FieldProblemException(StatusCodes.Status400BadRequest, name, most == 1
                        ? "send one file."
                        : $"more than {most} {(name == "face" || name.StartsWith("people[", StringComparison.Ordinal) ? "face photos" : "files")}; at most {most} are used.");
                }

                var bytes = await ReadPartAsync(section.Body, options.MaxImageBytes, StatusCodes.Status413PayloadTooLarge, name,
                    $"the file is larger than {options.MaxImageBytes} bytes, the most accepted per image.", cancellationToken);
                var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                (files.TryGetValue(name, out var list) ? list : files[name] = []).Add(Check(name, new EncodedImage(bytes), fileName));
            }
            else
            {
                if (!shape.Texts.Contains(name))
                {
                    throw new FieldProblemException(StatusCodes.Status400BadRequest, UserText.Quote(name), "unknown field.");
                }

                var bytes = await ReadPartAsync(section.Body, MaxTextLength, StatusCodes.Status400BadRequest, name,
                    $"longer than {MaxTextLength} bytes.", cancellationToken);
                string text;
                try
                {
                    text = StrictUtf8.GetString(bytes);
                }
                catch (System.Text.DecoderFallbackException)
                {
                    throw new FieldProblemException(StatusCodes.Status400BadRequest, name, "not UTF-8 text.");
                }

                (fields.TryGetValue(name, out var list) ? list : fields[name] = []).Add(text);
            }
        }

        return (files, fields);
    }

    /// <summary>A part's body, read in pooled chunks and copied once into an array of its exact length; over <paramref name="limit"/> is refused at once.</summary>
    private static async Task<byte[]> ReadPartAsync(Stream body, long limit, int status, string field, string tooLong, CancellationToken cancellationToken)
    {
        var chunks = new List<(byte[] Chunk, int Length)>();
        long total = 0;
        try
        {
            while (true)
            {
                var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
                var read = await body.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellationToken);
                chunks.Add((chunk, read));
                total += read;
                if (total > limit)
                {
                    throw new FieldProblemException(status, field, tooLong);
                }

                if (read < chunk.Length)
                {
                    break;
                }
            }

            var result = new byte[total];
            var at = 0;
            foreach (var (chunk, length) in chunks)
            {
                chunk.AsSpan(0, length).CopyTo(result.AsSpan(at));
                at += length;
            }

            return result;
        }
        finally
        {
            foreach (var (chunk, _) in chunks)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
            }
        }
    }

    private static UploadedImage? OneFile(Dictionary<string, List<UploadedImage>> files, string field) =>
        !files.TryGetValue(field, out var list) ? null
        : list.Count == 1 ? list[0]
        : throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "send one file.");

    private static List<string> All(Dictionary<string, List<string>> fields, string field) => fields.TryGetValue(field, out var list) ? list : [];

    private static string? Single(Dictionary<string, List<string>> fields, string field)
    {
        if (!fields.TryGetValue(field, out var values))
        {
            return null;
        }

        if (values.Count > 1)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "give it once.");
        }

        return string.IsNullOrWhiteSpace(values[0]) ? null : values[0];
    }

    /// <summary>Each text field within its limit and free of control characters, before anything else looks at it.</summary>
    private static SubmissionForm Checked(SubmissionForm form)
    {
        var text = InputLimits.Text;
        Limit("recipe", form.Recipe, text.MaxNameChars);
        Limit("template_name", form.TemplateName, text.MaxNameChars);
        Limit("recipe_yaml", form.RecipeYaml, InputLimits.Yaml.MaxDocumentChars, multiline: true);
        Limit("lora", form.Lora, text.MaxNameChars + 16);
        Limit("identity", form.Identity, text.MaxIdentityChars);
        if (form.Trigger.Count > text.MaxWords)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "trigger", $"{form.Trigger.Count} trigger words; at most {text.MaxWords} are accepted.");
        }

        foreach (var word in form.Trigger)
        {
            Limit("trigger", word, text.MaxWordChars);
        }

        if (form.Overrides.Count > text.MaxOverrides)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "overrides", $"{form.Overrides.Count} overrides; at most {text.MaxOverrides} are accepted.");
        }

        foreach (var line in form.Overrides)
        {
            Limit("overrides", line, text.MaxOverrideChars);
        }

        if (form.Candidates is < 1 or > JobSubmission.MaxCandidates)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "candidates", $"give 1..{JobSubmission.MaxCandidates} candidates (best of N by likeness to the face photos).");
        }

        return form;

        static void Limit(string field, string? value, int max, bool multiline = false)
        {
            if (value is not null && UserText.Problem(value, max, multiline) is { } problem)
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"{problem}.");
            }
        }
    }

    private UploadedImage Check(string field, EncodedImage image, string? fileName)
    {
        if (image.Format == ImageFileFormat.Unknown)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "not a PNG, JPEG or WebP image.");
        }

        try
        {
            // Header only: format, truncation, sides and pixel count; the pixels are decoded later, within the decode budget.
            image.Check(options.MaxImageSide);
        }
        catch (InvalidImageDataException e)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, e.Message);
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

    private static long? ParseLong(string? text, string field) =>
        text is null ? null
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"'{UserText.Quote(text)}' is not an integer (-1: random).");

    private static int? ParseInt(string? text, string field) =>
        text is null ? null
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"'{UserText.Quote(text)}' is not an integer.");

    /// <summary>The folder staging folders go in: the upload directory, else the system's temporary folder.</summary>
    public static string StagingRoot(string? uploadDirectory) => Path.GetFullPath(uploadDirectory ?? Path.GetTempPath());

    /// <summary>
    /// A new staging folder for one upload: private to this user (0700/0600), and named after this process so a sweep at
    /// the next start can tell it is nobody's once the process is gone (a crash or kill -9 mid-request).
    /// </summary>
    public static string NewStagingFolder(string? uploadDirectory)
    {
        var folder = Path.Combine(StagingRoot(uploadDirectory), $"{StagingPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        PrivateFiles.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Writes the images to a private temporary folder, builds the submission, and deletes the folder when disposed.</summary>
    public static StagedSubmission Stage(SubmissionForm form, string? uploadDirectory, string? templatesDirectory = null, string? recipeDirectory = null)
    {
        if (form.TemplateName is not null)
        {
            return StageLibraryTemplate(form, uploadDirectory, templatesDirectory, recipeDirectory);
        }

        if (form.Template is null)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "template", "the template photo is required (a file field named template), or a template of the server's library (template_name).");
        }

        if (form.Recipe is null && form.RecipeYaml is null)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "recipe", "give a recipe name (recipe) or an inline recipe (recipe_yaml).");
        }

        var folder = NewStagingFolder(uploadDirectory);
        try
        {
            var template = Path.Combine(folder, "t", form.Template.Name);
            PrivateFiles.CreateDirectory(Path.GetDirectoryName(template)!);
            PrivateFiles.WriteAllBytes(template, form.Template.Image.Bytes.Span);
            var faces = new List<string>();
            foreach (var photo in form.Faces)
            {
                // Each photo in its own folder (f, f2, f3, ...): two uploads may carry the same name.
                var face = Path.Combine(folder, StagedSubmission.FaceFolder(faces.Count), photo.Name);
                PrivateFiles.CreateDirectory(Path.GetDirectoryName(face)!);
                PrivateFiles.WriteAllBytes(face, photo.Image.Bytes.Span);
                faces.Add(face);
            }

            var people = new List<PersonSubmission>();
            foreach (var (person, p) in form.People.Select((person, p) => (person, p)))
            {
                var paths = new List<string>();
                foreach (var photo in person.Faces)
                {
                    // Each photo in its own folder (p1-1, p1-2, ...), as for face.
                    var path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"p{p + 1}-{paths.Count + 1}"), photo.Name);
                    PrivateFiles.CreateDirectory(Path.GetDirectoryName(path)!);
                    PrivateFiles.WriteAllBytes(path, photo.Image.Bytes.Span);
                    paths.Add(path);
                }

                people.Add(new PersonSubmission(person.FaceIndex, person.Lora, paths) { TriggerWords = person.Trigger });
            }

            var submission = new JobSubmission
            {
                Recipe = form.Recipe,
                RecipeYaml = form.RecipeYaml,
                Overrides = form.Overrides,
                TemplatePath = template,
                FacePaths = faces,
                Lora = form.Lora,
                Candidates = form.Candidates,
                TriggerWords = form.Trigger,
                Identity = form.Identity,
                Seed = form.Seed ?? -1,
                FaceIndex = form.FaceIndex,
                People = people,
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

