using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.FileSystemGlobbing;
using Miaoya.Limits;
using Miaoya.Recipes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Cli.Commands;

/// <summary>
/// A person of a batch: a name, their face LoRA (none: only recipes with an identity section can use them), its trigger
/// words and their face photos (V3 swaps the first in; an identity unit takes each; candidates are scored against all).
/// </summary>
internal sealed record BatchIdentity(string Name, string? Lora, IReadOnlyList<string> Trigger, IReadOnlyList<string> Faces)
{
    /// <summary>Several people in one template (docs/multi-person.md), each on their own face; then <see cref="Lora"/>, <see cref="Faces"/> and <see cref="Trigger"/> are empty.</summary>
    public IReadOnlyList<BatchPerson> People { get; init; } = [];
}

/// <summary>
/// A recipe of a batch: how it is shown (<see cref="Label"/>), what the submitter loads, its overrides, and whether it takes
/// the person from face photos (<see cref="HasIdentity"/>: an identity section) or uses them at all (V3, identity, candidates).
/// </summary>
internal sealed record BatchRecipe(string Label, string Reference, IReadOnlyList<string> Overrides, PipelineKind Pipeline, bool HasIdentity = false, bool UsesFaces = false, bool HasCandidates = false);

/// <summary>
/// One job of a batch: a template × identity × recipe, with the job id it gets in the store. <c>FromLibrary</c>: the
/// library template the entry's photo is (<c>templates: [NAME]</c>), whose overrides, style LoRA and prompt additions the job gets.
/// </summary>
internal sealed record BatchEntry(int Index, string Template, BatchIdentity Identity, BatchRecipe Recipe, long Seed, Miaoya.Templates.LibraryTemplate? FromLibrary = null)
{
    /// <summary>
    /// The job's id: a hash of the output folder and everything the job is made of, so that running the same batch again
    /// finds its jobs in the store (and the store refuses a second job with the same id) instead of queuing duplicates.
    /// </summary>
    public string JobId(string outFolder)
    {
        var text = string.Join('\n', [
            Path.GetFullPath(outFolder), Template, Identity.Name, Identity.Lora ?? "", string.Join(',', Identity.Trigger), string.Join('\n', Identity.Faces),
            Recipe.Label, Recipe.Reference, string.Join('\n', Recipe.Overrides), Seed.ToString(CultureInfo.InvariantCulture),
            .. FromLibrary is { } t ? [string.Join('\n', t.Overrides), t.PositiveAdd, t.NegativeAdd, t.StyleLora?.ToString() ?? ""] : Array.Empty<string>(),
            // Added only for people, so the ids of one-person entries stay what they were.
            .. Identity.People.Count > 0 ? ["people", .. Identity.People.Select(p => p.ToString())] : Array.Empty<string>(),
        ]);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return new Guid(hash.AsSpan(0, 16)).ToString("D", CultureInfo.InvariantCulture);
    }
}

/// <summary>A problem of a batch file: <c>jobs.yaml: identities[1].lora: missing (line 7)</c>.</summary>
internal sealed record BatchProblem(string File, string Path, string Message, int Line)
{
    public override string ToString() =>
        $"{File}: {(Path.Length > 0 ? Path + ": " : "")}{Message}{(Line > 0 ? string.Create(CultureInfo.InvariantCulture, $" (line {Line})") : "")}";
}

/// <summary>The batch file is not usable; every problem is listed (the first <see cref="ReportLimits.MaxProblems"/>, then how many more).</summary>
internal sealed class BatchFileException(IReadOnlyList<BatchProblem> problems) : Exception(Describe(problems))
{
    public IReadOnlyList<BatchProblem> Problems { get; } = problems;

    private static string Describe(IReadOnlyList<BatchProblem> problems)
    {
        var max = InputLimits.Reports.MaxProblems;
        var shown = string.Join(Environment.NewLine, problems.Take(max));
        return problems.Count <= max ? shown : $"{shown}{Environment.NewLine}... and {problems.Count - max:N0} more problems (the first {max} are listed)";
    }
}

/// <summary>
/// <c>JOBS.yaml</c> of <c>miaoya batch</c>: templates (paths or globs relative to the file), identities, recipes (names or
/// paths, optionally with their own overrides), an optional seed, overrides for every job and the boxes to use.
/// </summary>
internal sealed partial class BatchFile
{
    private static readonly string[] TopKeys = ["templates", "identities", "recipes", "seed", "overrides", "boxes"];
    private static readonly string[] IdentityKeys = ["name", "lora", "trigger", "face", "people"];
    private static readonly string[] RecipeKeys = ["recipe", "name", "overrides"];

    private readonly List<BatchProblem> _problems = [];
    private readonly string _display;
    private readonly string _directory;

    private readonly Miaoya.Templates.TemplateLibrary? _library;
    private readonly Dictionary<string, Miaoya.Templates.LibraryTemplate> _fromLibrary = new(StringComparer.Ordinal);

    private BatchFile(string path, Miaoya.Templates.TemplateLibrary? library)
    {
        _library = library;
        Path = System.IO.Path.GetFullPath(path);
        _display = System.IO.Path.GetFileName(path);
        _directory = System.IO.Path.GetDirectoryName(Path)!;
    }

    public string Path { get; }

    public IReadOnlyList<string> Templates { get; private set; } = [];

    public IReadOnlyList<BatchIdentity> Identities { get; private set; } = [];

    public IReadOnlyList<BatchRecipe> Recipes { get; private set; } = [];

    /// <summary>The seed of every job; -1: each job draws its own (recorded in its manifest).</summary>
    public long Seed { get; private set; } = -1;

    public IReadOnlyList<Uri> Boxes { get; private set; } = [];

    /// <summary>Templates × identities × recipes, in that order (the order the jobs are queued and run).</summary>
    public IReadOnlyList<BatchEntry> Entries()
    {
        var entries = new List<BatchEntry>();
        foreach (var template in Templates)
        {
            foreach (var identity in Identities)
            {
                foreach (var recipe in Recipes)
                {
                    entries.Add(new BatchEntry(entries.Count, template, identity, recipe, Seed, _fromLibrary.GetValueOrDefault(template)));
                }
            }
        }

        return entries;
    }

    /// <summary>Reads and checks a batch file; <see cref="BatchFileException"/> lists every problem at once.</summary>
    /// <param name="path">The batch file.</param>
    /// <param name="library">Where <c>templates:</c> items that are template names (not files) are looked up.</param>
    public static BatchFile Load(string path, Miaoya.Templates.TemplateLibrary? library = null)
    {
        var file = new BatchFile(path, library);
        file.Parse();
        return file._problems.Count > 0 ? throw new BatchFileException(file._problems) : file;
    }

    private void Parse()
    {
        if (!File.Exists(Path))
        {
            Problem("", "no such file", null);
            return;
        }

        YamlMappingNode root;
        try
        {
            // Within the input limits (size, depth, nodes, aliases) before the tree is built and walked.
            var stream = BoundedYaml.LoadFile(Path);

            if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                Problem("", "expected one YAML document with templates, identities and recipes", null);
                return;
            }

            root = mapping;
        }
        catch (YamlLimitException e)
        {
            _problems.Add(new BatchProblem(_display, "", e.Reason, (int)e.Start.Line));
            return;
        }
        catch (YamlException e)
        {
            _problems.Add(new BatchProblem(_display, "", $"not valid YAML: {e.InnerException?.Message ?? e.Message}", (int)e.Start.Line));
            return;
        }
        catch (InputLimitException e)
        {
            Problem("", e.Message.Replace(Path + ": ", "", StringComparison.Ordinal), null);
            return;
        }

        CheckKeys(root, "", TopKeys);
        var overrides = ParseOverrides(Get(root, "overrides"), "overrides");
        Templates = ParseTemplates(Get(root, "templates"));
        Identities = ParseIdentities(Get(root, "identities"));
        if (Get(root, "seed") is { } seedNode)
        {
            if (seedNode is YamlScalarNode { Value: { } s } && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) && seed >= -1)
            {
                Seed = seed;
            }
            else
            {
                Problem("seed", "expected a whole number (-1: a random seed per job)", seedNode);
            }
        }

        Recipes = ParseRecipes(Get(root, "recipes"), overrides);
        Boxes = ParseBoxes(Get(root, "boxes"));
        foreach (var (recipe, i) in Recipes.Select((r, i) => (r, i)))
        {
            foreach (var (identity, j) in Identities.Select((id, j) => (id, j)))
            {
                if (identity.People.Count > 0)
                {
                    CheckPeople(root, recipe, i, identity, j);
                    continue;
                }

                if (identity.Faces.Count == 0 && recipe.UsesFaces)
                {
                    Problem($"identities[{j}].face", recipe.Pipeline == PipelineKind.V3
                        ? $"missing: recipe {recipe.Label} (recipes[{i}]) swaps faces (V3) and needs the person's face photo"
                        : $"missing: recipe {recipe.Label} (recipes[{i}]) takes the person's face photos (one path or a list)", Seq(root, "identities")?.Children[j]);
                }

                if (identity.Lora is null && !recipe.HasIdentity)
                {
                    Problem($"identities[{j}].lora", $"missing: recipe {recipe.Label} (recipes[{i}]) takes the person from their face LoRA (only recipes with an identity section, such as v4-faceid, take face photos alone)", Seq(root, "identities")?.Children[j]);
                }
            }
        }
    }

    private List<string> ParseTemplates(YamlNode? node)
    {
        var templates = new List<string>();
        foreach (var (item, i) in Items(node, "templates"))
        {
            var path = $"templates[{i}]";
            if (item is not YamlScalarNode { Value: { Length: > 0 } pattern })
            {
                Problem(path, "expected a file path, a glob such as templates/*.png, or a library template's name", item);
                continue;
            }

            var matches = Glob(pattern);
            if (matches.Count == 0 && _library is not null && Miaoya.Templates.TemplateLibrary.IsName(pattern) && File.Exists(_library.MetadataPath(pattern)))
            {
                // A library template by name: its photo, and its metadata for the job's overrides.
                try
                {
                    var libraryTemplate = _library.Get(pattern);
                    _fromLibrary[libraryTemplate.ImagePath] = libraryTemplate;
                    matches = [libraryTemplate.ImagePath];
                }
                catch (Miaoya.Templates.TemplateException e)
                {
                    foreach (var problem in e.Problems)
                    {
                        Problem(path, problem.ToString(), item);
                    }

                    continue;
                }
            }

            if (matches.Count == 0)
            {
                // A name-like item (no dot, no slash) is most likely a misspelt template name: the library's "did you mean".
                Problem(path, pattern.IndexOfAny(['*', '?']) >= 0
                    ? $"\"{pattern}\" matches no file (relative to {_directory})"
                    : _library is not null && Miaoya.Templates.TemplateLibrary.IsName(pattern)
                        ? $"{_library.NotFound(pattern)} (and no file {System.IO.Path.GetFullPath(pattern, _directory)})"
                        : $"{System.IO.Path.GetFullPath(pattern, _directory)}: no such file", item);
            }

            templates.AddRange(matches.Where(m => !templates.Contains(m, StringComparer.Ordinal)));
        }

        return templates;
    }

    private List<string> Glob(string pattern)
    {
        if (pattern.IndexOfAny(['*', '?']) < 0)
        {
            var full = System.IO.Path.GetFullPath(pattern, _directory);
            return File.Exists(full) ? [full] : [];
        }

        // The part before the first wildcard segment is the root (it may climb out with ../); the rest is matched below it.
        var segments = pattern.Replace('\\', '/').Split('/');
        var fixedCount = Array.FindIndex(segments, s => s.IndexOfAny(['*', '?']) >= 0);
        var root = System.IO.Path.GetFullPath(string.Join('/', segments[..fixedCount]) is { Length: > 0 } prefix ? prefix : ".", _directory);
        if (!Directory.Exists(root))
        {
            return [];
        }

        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(string.Join('/', segments[fixedCount..]));
        return matcher.GetResultsInFullPath(root).Order(StringComparer.Ordinal).ToList();
    }

    private List<BatchRecipe> ParseRecipes(YamlNode? node, IReadOnlyList<string> common)
    {
        var recipes = new List<BatchRecipe>();
        foreach (var (item, i) in Items(node, "recipes"))
        {
            var path = $"recipes[{i}]";
            string? reference;
            string? label = null;
            IReadOnlyList<string> own = [];
            switch (item)
            {
                case YamlScalarNode { Value: { Length: > 0 } value }:
                    reference = value;
                    break;
                case YamlMappingNode map:
                    CheckKeys(map, path, RecipeKeys);
                    reference = Scalar(map, "recipe", path, required: true);
                    label = Scalar(map, "name", path, required: false);
                    own = ParseOverrides(Get(map, "overrides"), $"{path}.overrides");
                    break;
                default:
                    Problem(path, "expected a recipe name or file, or a mapping with recipe, name and overrides", item);
                    continue;
            }

            if (reference is null)
            {
                continue;
            }

            var file = System.IO.Path.GetFullPath(reference, _directory);
            var resolved = File.Exists(file) ? file : reference;
            label ??= System.IO.Path.GetFileNameWithoutExtension(reference);
            if (UserText.Problem(label, InputLimits.Text.MaxNameChars) is { } labelProblem)
            {
                Problem($"{path}.name", labelProblem, item);
                continue;
            }

            if (recipes.Any(r => r.Label == label))
            {
                Problem(path, $"\"{UserText.Quote(label)}\" is listed twice; give this entry its own name: (recipe: {reference}, name: ..., overrides: ...)", item);
                continue;
            }

            var overrides = common.Concat(own).ToArray();
            try
            {
                var recipe = RecipeLoader.Load(resolved, overrides);
                recipes.Add(new BatchRecipe(
                    label, resolved, overrides, recipe.Pipeline, recipe.Identity is not null,
                    recipe.Pipeline == PipelineKind.V3 || recipe.Identity is not null || recipe.Candidates is not null, recipe.Candidates is not null));
            }
            catch (RecipeException e)
            {
                foreach (var problem in e.Problems)
                {
                    Problem(path, problem.ToString(), item);
                }
            }
        }

        return recipes;
    }

    private List<string> ParseOverrides(YamlNode? node, string path)
    {
        var overrides = new List<string>();
        switch (node)
        {
            case null:
                break;
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    if (value is YamlScalarNode { Value: { } v } && key is YamlScalarNode { Value: { Length: > 0 } k })
                    {
                        overrides.Add($"{k}={v}");
                    }
                    else
                    {
                        Problem($"{path}.{UserText.Quote((key as YamlScalarNode)?.Value ?? "?")}", "expected key: value (a recipe path such as inpaint.denoising_strength and one value)", value);
                    }
                }

                break;
            case YamlSequenceNode seq:
                foreach (var (item, i) in seq.Children.Select((x, i) => (x, i)))
                {
                    if (item is YamlScalarNode { Value: { } text } && text.IndexOf('=', StringComparison.Ordinal) > 0)
                    {
                        overrides.Add(text);
                    }
                    else
                    {
                        Problem($"{path}[{i}]", "expected key=value, as with miaoya run --set", item);
                    }
                }

                break;
            default:
                Problem(path, "expected a mapping (key: value) or a list of key=value", node);
                break;
        }

        return overrides;
    }

    private List<Uri> ParseBoxes(YamlNode? node)
    {
        var boxes = new List<Uri>();
        if (node is null)
        {
            return boxes;
        }

        foreach (var (item, i) in Items(node, "boxes"))
        {
            if (item is YamlScalarNode { Value: { } text } && Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                boxes.Add(uri);
            }
            else
            {
                Problem($"boxes[{i}]", "expected an http:// or https:// URL of a WebUI box", item);
            }
        }

        return boxes;
    }

    /// <summary>The items of a required, non-empty list.</summary>
    private IEnumerable<(YamlNode Item, int Index)> Items(YamlNode? node, string path)
    {
        switch (node)
        {
            case null:
                Problem(path, "missing", null);
                return [];
            case YamlSequenceNode { Children.Count: > 0 } seq:
                return seq.Children.Select((x, i) => (x, i));
            default:
                Problem(path, "expected a non-empty list", node);
                return [];
        }
    }

    private string? Scalar(YamlMappingNode map, string key, string path, bool required)
    {
        switch (Get(map, key))
        {
            case null:
                if (required)
                {
                    Problem($"{path}.{key}", "missing", map);
                }

                return null;
            case YamlScalarNode { Value: { Length: > 0 } value }:
                return value;
            case var other:
                Problem($"{path}.{key}", "expected text", other);
                return null;
        }
    }

    private void CheckKeys(YamlMappingNode map, string path, string[] known)
    {
        foreach (var key in map.Children.Keys)
        {
            var name = UserText.Quote((key as YamlScalarNode)?.Value ?? "?");
            if (!known.Contains(name, StringComparer.Ordinal))
            {
                Problem(path.Length == 0 ? name : $"{path}.{name}", $"unknown key; expected one of {string.Join(", ", known)}", key);
            }
        }
    }

    private static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) && !(value is YamlScalarNode { Value: null or "" } s && s.Style == ScalarStyle.Plain) ? value : null;

    private static YamlSequenceNode? Seq(YamlMappingNode map, string key) => Get(map, key) as YamlSequenceNode;

    private void Problem(string path, string message, YamlNode? at) =>
        _problems.Add(new BatchProblem(_display, path, message, at is null ? 0 : (int)at.Start.Line));
}
