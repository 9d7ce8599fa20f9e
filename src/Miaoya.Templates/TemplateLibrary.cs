using System.Text.RegularExpressions;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Limits;
using Miaoya.Recipes;

namespace Miaoya.Templates;

/// <summary>
/// A folder of templates, one pair of files each: <c>NAME.yaml</c> (metadata) and <c>NAME.png</c> (or .jpg, .jpeg, .webp).
/// Flat pairs rather than a folder per template: the library is one folder to browse, copy or share, a file manager shows
/// the photos beside their metadata, and the name is the file stem, so it cannot disagree with a folder name.
/// </summary>
public sealed partial class TemplateLibrary
{
    /// <summary>The library's folder name in the repository and in a working folder.</summary>
    public const string FolderName = "templates";

    /// <summary>The metadata file's extension.</summary>
    public const string MetadataExtension = ".yaml";

    /// <summary>Image extensions, in the order a name's image is looked for.</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = [".png", ".jpg", ".jpeg", ".webp"];

    public TemplateLibrary(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The library's folder (full path).</summary>
    public string Directory { get; }

    /// <summary>
    /// Which folder is the library: <paramref name="given"/> (<c>--templates DIR</c>), else <paramref name="configured"/>
    /// (<c>Templates:Directory</c> in miaoya.json / appsettings.json / <c>MIAOYA_Templates__Directory</c>), else
    /// <c>templates/</c> in <paramref name="workingDirectory"/> when it exists (the repository's own, run from its root),
    /// else the copy shipped beside the program (<paramref name="appDirectory"/>/templates).
    /// </summary>
    public static TemplateLibrary Locate(string? given, string? configured, string? workingDirectory = null, string? appDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(given))
        {
            return new TemplateLibrary(given);
        }

        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new TemplateLibrary(configured);
        }

        var local = Path.Combine(workingDirectory ?? System.IO.Directory.GetCurrentDirectory(), FolderName);
        return new TemplateLibrary(System.IO.Directory.Exists(local) ? local : Path.Combine(appDirectory ?? AppContext.BaseDirectory, FolderName));
    }

    /// <summary>Whether <paramref name="name"/> may name a template: lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 64.</summary>
    public static bool IsName(string name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>The names of the metadata files in the library, sorted; empty when the folder does not exist.</summary>
    public IReadOnlyList<string> Names() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory, "*" + MetadataExtension).Select(Path.GetFileNameWithoutExtension).OfType<string>()
                .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray()
            : [];

    /// <summary>Every template whose metadata reads cleanly, and the problems of those that do not (images are not decoded; see <see cref="CheckAsync"/>).</summary>
    public (IReadOnlyList<LibraryTemplate> Templates, IReadOnlyList<RecipeProblem> Problems) Load()
    {
        var templates = new List<LibraryTemplate>();
        var problems = new List<RecipeProblem>();
        foreach (var name in Names())
        {
            if (Read(name, problems) is { } template)
            {
                templates.Add(template);
            }
        }

        return (templates, problems);
    }

    /// <summary>The template <paramref name="name"/>; throws <see cref="TemplateException"/> listing its problems, or saying it is not in the library (with "did you mean").</summary>
    public LibraryTemplate Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsName(name) || !File.Exists(MetadataPath(name)))
        {
            throw new TemplateException(NotFound(name));
        }

        var problems = new List<RecipeProblem>();
        return Read(name, problems) ?? throw new TemplateException(problems);
    }

    /// <summary>
    /// What <see cref="Get"/> says of a name the library lacks: "no template 'X' in the library DIR (did you mean 'Y'?);
    /// it holds …", for callers that report it within their own message (a batch file's line).
    /// </summary>
    public string NotFound(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var known = Names();
        var near = NameDistance.DidYouMean(name, known);
        return $"no template '{UserText.Quote(name)}' in the library {Directory}{(near is null ? "" : $" (did you mean '{near}'?)")}; "
            + (known.Count == 0 ? "it holds none (see 'miaoya templates add')" : $"it holds {string.Join(", ", known.Take(20))}{(known.Count > 20 ? ", ..." : "")}");
    }

    /// <summary>
    /// Checks the whole library: every metadata file (as <see cref="Load"/>), every image (there, one per name, decodes,
    /// within the size limits), the face count against <c>people</c> (the embedded BlazeFace detector), and the suggested
    /// recipe with the template's overrides and prompt additions applied (also its model family). Images without metadata
    /// are problems too. Returns every problem, empty when the library is fine.
    /// </summary>
    public async Task<IReadOnlyList<RecipeProblem>> CheckAsync(CancellationToken cancellationToken = default)
    {
        var problems = new List<RecipeProblem>();
        if (!System.IO.Directory.Exists(Directory))
        {
            problems.Add(new RecipeProblem(Directory, 0, 0, string.Empty, "no such folder"));
            return problems;
        }

        var names = Names();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory).Order(StringComparer.Ordinal))
        {
            var fileName = Path.GetFileName(file);
            var stem = Path.GetFileNameWithoutExtension(file);
            var extension = Path.GetExtension(file).ToLowerInvariant();
            if (fileName.StartsWith('.') || fileName.Equals("LICENCES.md", StringComparison.OrdinalIgnoreCase) || fileName.Equals("README.md", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (extension == ".yml")
            {
                problems.Add(new RecipeProblem(Relative(file), 0, 0, string.Empty, $"name metadata files {stem}{MetadataExtension}"));
            }
            else if (ImageExtensions.Contains(extension) && !names.Contains(stem, StringComparer.Ordinal))
            {
                problems.Add(new RecipeProblem(Relative(file), 0, 0, string.Empty, $"an image without metadata: add {stem}{MetadataExtension} beside it (miaoya templates add writes one)"));
            }
        }

        BlazeFaceDetector? detector = null;
        try
        {
            foreach (var name in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Read(name, problems) is not { } template)
                {
                    continue;
                }

                detector ??= BlazeFaceDetector.CreateDefault();
                problems.AddRange(await CheckTemplateAsync(template, detector, cancellationToken));
            }
        }
        finally
        {
            detector?.Dispose();
        }

        return problems;
    }

    /// <summary>The image, face-count and recipe checks of one template whose metadata reads (see <see cref="CheckAsync"/>).</summary>
    internal static async Task<IReadOnlyList<RecipeProblem>> CheckTemplateAsync(LibraryTemplate template, IFaceDetector detector, CancellationToken cancellationToken)
    {
        var problems = new List<RecipeProblem>();
        var yaml = await File.ReadAllTextAsync(template.MetadataPath, cancellationToken);
        var source = Relative(template.MetadataPath);
        void At(string key, string path, string message)
        {
            var (line, column) = TemplateReader.PlaceOf(yaml, key);
            problems.Add(new RecipeProblem(source, line, column, path, message));
        }

        try
        {
            var image = await EncodedImage.ReadFileAsync(template.ImagePath, InputLimits.Images.MaxUploadBytes, cancellationToken);
            image.Check(InputLimits.Images.MaxTemplateSide);
            using var pixels = await FaceImages.LoadAsync(image, cancellationToken);
            var faces = detector.Detect(pixels, cancellationToken).Count;
            if (faces != template.People)
            {
                At("people", "people", $"says {template.People}, but the face detector (BlazeFace) finds {faces} face{(faces == 1 ? "" : "s")} in {Path.GetFileName(template.ImagePath)}; set people: {faces}, or use a photo whose faces are clear and frontal");
            }
        }
        catch (InvalidImageDataException e)
        {
            problems.Add(new RecipeProblem(Relative(template.ImagePath), 0, 0, string.Empty, UserText.EscapeControl(e.Message.Replace(template.ImagePath + ": ", "", StringComparison.Ordinal))));
        }

        if (template.RecipeReference is { } reference)
        {
            problems.AddRange(CheckRecipe(template, reference, yaml, source));
        }

        return problems;
    }

    private static List<RecipeProblem> CheckRecipe(LibraryTemplate template, string reference, string yaml, string source)
    {
        var problems = new List<RecipeProblem>();
        Recipe Load(IReadOnlyList<string> overrides) => RecipeLoader.Load(reference, overrides);
        try
        {
            var recipe = Load(TemplateRun.Overrides(template, Load, []));
            if (recipe.ModelFamily != template.ModelFamily)
            {
                var (line, column) = TemplateReader.PlaceOf(yaml, "model_family");
                problems.Add(new RecipeProblem(source, line, column, "model_family", $"is {RecipeYaml.Word(template.ModelFamily)}, but recipe {template.Recipe} is for {RecipeYaml.Word(recipe.ModelFamily)}"));
            }
        }
        catch (RecipeException e)
        {
            foreach (var p in e.Problems)
            {
                if (!p.IsOverride)
                {
                    // The recipe file itself: its own place, and one line here saying which recipe.
                    problems.Add(p);
                    continue;
                }

                var path = p.Path.Trim();
                var index = template.Overrides.ToList().FindIndex(o => o.Split('=', 2)[0].Trim() == path);
                var (line, column) = index >= 0 ? TemplateReader.PlaceOfItem(yaml, "overrides", index)
                    : path.StartsWith("prompt.", StringComparison.Ordinal) ? TemplateReader.PlaceOf(yaml, template.StyleLora is not null && path == "prompt.positive" && template.PositiveAdd.Length == 0 ? "style_lora" : "prompt")
                    : TemplateReader.PlaceOf(yaml, "overrides");
                var field = index >= 0 ? $"overrides[{index}]" : path.StartsWith("prompt.", StringComparison.Ordinal) ? "prompt" : "overrides";
                problems.Add(new RecipeProblem(source, line, column, field, $"with recipe {template.Recipe}: {(p.Path.Length == 0 ? p.Message : $"{p.Path}: {p.Message}")}"));
            }

            if (problems.Any(p => !p.IsOverride && p.Source != source))
            {
                var (line, column) = TemplateReader.PlaceOf(yaml, "recipe");
                problems.Add(new RecipeProblem(source, line, column, "recipe", $"recipe {template.Recipe} does not load (its problems are listed)"));
            }
        }

        return problems;
    }

    /// <summary>The metadata file of <paramref name="name"/>.</summary>
    public string MetadataPath(string name) => Path.Combine(Directory, name + MetadataExtension);

    /// <summary>The images named <paramref name="name"/> (any of <see cref="ImageExtensions"/>).</summary>
    public IReadOnlyList<string> ImagesOf(string name) =>
        ImageExtensions.Select(e => Path.Combine(Directory, name + e)).Where(File.Exists).ToArray();

    /// <summary>A path as problems show it: relative to the working folder when under it, else in full.</summary>
    internal static string Relative(string path)
    {
        var relative = Path.GetRelativePath(System.IO.Directory.GetCurrentDirectory(), path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    private LibraryTemplate? Read(string name, List<RecipeProblem> problems)
    {
        var metadata = MetadataPath(name);
        var source = Relative(metadata);
        if (!IsName(name))
        {
            problems.Add(new RecipeProblem(source, 0, 0, string.Empty, $"'{UserText.Quote(name)}' is not a template name: use lower-case letters, digits, '-' and '_' (at most 64), starting with a letter or digit"));
            return null;
        }

        string yaml;
        try
        {
            yaml = BoundedFile.ReadAllText(metadata, InputLimits.Yaml.MaxDocumentChars, "template metadata");
        }
        catch (InputLimitException e)
        {
            problems.Add(new RecipeProblem(source, 0, 0, string.Empty, e.Message.Replace(metadata + ": ", "", StringComparison.Ordinal)));
            return null;
        }

        var images = ImagesOf(name);
        var before = problems.Count;
        var template = TemplateReader.Parse(yaml, name, metadata, images.Count > 0 ? images[0] : Path.Combine(Directory, name + ".png"), source, problems);
        if (images.Count == 0)
        {
            problems.Add(new RecipeProblem(source, 1, 1, "image", $"no image beside it: add {name}.png (or {string.Join(", ", ImageExtensions.Skip(1).Select(e => name + e))})"));
        }
        else if (images.Count > 1)
        {
            problems.Add(new RecipeProblem(source, 1, 1, "image", $"{images.Count} images share the name: {string.Join(", ", images.Select(Path.GetFileName))}; keep one"));
        }

        if (problems.Count > before)
        {
            // By place in the file, as a recipe's problems are listed.
            var mine = problems.Skip(before).OrderBy(p => p.Line == 0 ? int.MaxValue : p.Line).ThenBy(p => p.Column).ToList();
            problems.RemoveRange(before, mine.Count);
            problems.AddRange(mine);
            return null;
        }

        return template;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
