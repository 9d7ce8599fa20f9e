using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Limits;
using Miaoya.Recipes;

namespace Miaoya.Templates;

public sealed partial class TemplateLibrary
{
    /// <summary>
    /// Adds a template: checks the image (decodes, size, faces: <c>people</c> is counted when not given, and must match
    /// when given), writes the metadata and checks it as <c>check</c> would (suggested recipe and overrides included)
    /// before anything is written; then copies the image in and writes the metadata, each through a temporary file and a
    /// rename. An existing name is refused unless <paramref name="force"/> (then its old image and metadata are replaced).
    /// Throws <see cref="TemplateException"/> listing every problem.
    /// </summary>
    public async Task<LibraryTemplate> AddAsync(TemplateDraft draft, string imagePath, bool force, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentNullException.ThrowIfNull(imagePath);
        if (!IsName(draft.Name))
        {
            throw new TemplateException($"--name: '{UserText.Quote(draft.Name)}' is not a template name: use lower-case letters, digits, '-' and '_' (at most 64), starting with a letter or digit");
        }

        var metadata = MetadataPath(draft.Name);
        var existing = ImagesOf(draft.Name);
        if (!force && (File.Exists(metadata) || existing.Count > 0))
        {
            throw new TemplateException($"--name: template '{draft.Name}' is already in {Directory}; choose another name, or --force to replace it");
        }

        EncodedImage image;
        try
        {
            image = await EncodedImage.ReadFileAsync(imagePath, InputLimits.Images.MaxUploadBytes, cancellationToken);
            image.Check(InputLimits.Images.MaxTemplateSide);
        }
        catch (InvalidImageDataException e)
        {
            throw new TemplateException($"{imagePath}: {UserText.EscapeControl(e.Message.Replace(imagePath + ": ", "", StringComparison.Ordinal))}", e);
        }

        int faces;
        using (var detector = BlazeFaceDetector.CreateDefault())
        using (var pixels = await FaceImages.LoadAsync(image, cancellationToken))
        {
            faces = detector.Detect(pixels, cancellationToken).Count;
        }

        if (draft.People is null && faces == 0)
        {
            throw new TemplateException($"{imagePath}: the face detector (BlazeFace) finds no face; a template needs at least one clear, roughly frontal face (the runs find it with a detector too)");
        }

        var people = draft.People ?? faces;
        var text = TemplateWriter.Write(draft, people);
        var extension = image.FileExtension;
        var imageTarget = Path.Combine(Directory, draft.Name + extension);
        var problems = new List<RecipeProblem>();
        var template = TemplateReader.Parse(text, draft.Name, metadata, imageTarget, Relative(metadata), problems);
        if (template is not null && faces != people)
        {
            problems.Add(new RecipeProblem("--people", 0, 0, string.Empty, $"{people}, but the face detector (BlazeFace) finds {faces} face{(faces == 1 ? "" : "s")} in {imagePath}"));
        }

        if (template is not null && template.RecipeReference is { } reference)
        {
            problems.AddRange(CheckRecipe(template, reference, text, Relative(metadata)));
        }

        if (problems.Count > 0 || template is null)
        {
            throw new TemplateException(problems);
        }

        System.IO.Directory.CreateDirectory(Directory);
        await WriteAtomicallyAsync(imageTarget, image.Bytes, cancellationToken);
        await WriteAtomicallyAsync(metadata, System.Text.Encoding.UTF8.GetBytes(text), cancellationToken);
        foreach (var old in existing.Where(p => !string.Equals(p, imageTarget, StringComparison.Ordinal)))
        {
            File.Delete(old);
        }

        return template;
    }

    /// <summary>
    /// Writes through a temporary file in the same folder and a rename, so a reader never sees half a file. Unlike the run
    /// folders' private files these keep the default permissions: a library is meant to be shared.
    /// </summary>
    internal static async Task WriteAtomicallyAsync(string path, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                await stream.WriteAsync(bytes, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
