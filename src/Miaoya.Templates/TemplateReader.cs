using System.Globalization;
using System.Text.RegularExpressions;
using Miaoya.Limits;
using Miaoya.Recipes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Templates;

/// <summary>
/// Reads a template's metadata file and reports every problem at once, each at <c>file:line:column</c> with its field path,
/// as recipes are reported (an unknown key gets "did you mean" from <see cref="NameDistance"/>).
/// </summary>
internal static partial class TemplateReader
{
    /// <summary>The top-level keys, in the order <see cref="TemplateWriter"/> writes them.</summary>
    public static readonly string[] Keys = ["title", "tags", "people", "hints", "model_family", "recipe", "overrides", "style_lora", "prompt", "licence"];

    private static readonly string[] HintKeys = ["gender", "age"];
    private static readonly string[] LoraKeys = ["name", "weight"];
    private static readonly string[] PromptKeys = ["positive_add", "negative_add"];
    private static readonly string[] LicenceKeys = ["name", "source", "author"];

    /// <summary>The most faces a template may declare (the pipeline replaces one face per run; a group photo names which).</summary>
    public const int MaxPeople = 16;

    /// <summary>The most tags a template may carry.</summary>
    public const int MaxTags = 32;

    /// <summary>
    /// Parses <paramref name="yaml"/> (the text of <paramref name="metadataPath"/>); adds problems to <paramref name="problems"/>
    /// and returns the template only when there were none.
    /// </summary>
    public static LibraryTemplate? Parse(string yaml, string name, string metadataPath, string imagePath, string sourceName, List<RecipeProblem> problems)
    {
        var before = problems.Count;
        var r = new Reporter(sourceName, problems);
        YamlMappingNode root;
        try
        {
            var stream = BoundedYaml.Load(yaml);
            if (stream.Documents.Count == 0)
            {
                r.At(1, 1, string.Empty, "the file is empty; a template's metadata is a mapping of title:, people:, licence:, ...");
                return null;
            }

            if (stream.Documents.Count > 1)
            {
                r.At(stream.Documents[1].RootNode.Start, string.Empty, "a metadata file holds one YAML document; remove the second '---'");
                return null;
            }

            if (stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                r.At(stream.Documents[0].RootNode.Start, string.Empty, "a template's metadata is a mapping of keys (title:, people:, licence:, ...)");
                return null;
            }

            root = mapping;
        }
        catch (YamlException e)
        {
            r.At(e.Start, string.Empty, e is YamlLimitException limit ? limit.Reason : $"not valid YAML: {Describe(e)}");
            return null;
        }

        var top = new Section(root, string.Empty, Keys, r);
        var title = top.Text("title", required: true, InputLimits.Text.MaxNameChars * 2);
        var tags = top.Words("tags") ?? [];
        if (tags.Count > MaxTags)
        {
            top.Report("tags", $"{tags.Count} tags; at most {MaxTags}");
        }

        var people = top.Integer("people", required: true, 1, MaxPeople);
        var hints = new List<FaceHint>();
        if (top.Node("hints") is { } hintsNode)
        {
            if (hintsNode is not YamlSequenceNode list)
            {
                r.At(hintsNode.Start, "hints", "expected a list of faces, each {gender: ..., age: ...}");
            }
            else
            {
                for (var i = 0; i < list.Children.Count; i++)
                {
                    var path = $"hints[{i}]";
                    if (list.Children[i] is not YamlMappingNode face)
                    {
                        r.At(list.Children[i].Start, path, "expected a mapping {gender: ..., age: ...}");
                        continue;
                    }

                    var s = new Section(face, path, HintKeys, r);
                    var gender = s.Word("gender", FaceHint.Genders) ?? "any";
                    var age = s.Word("age", FaceHint.Ages) ?? "any";
                    hints.Add(new FaceHint(gender, age));
                }

                if (people is { } count && list.Children.Count != count)
                {
                    r.At(hintsNode.Start, "hints", $"{list.Children.Count} hint{(list.Children.Count == 1 ? "" : "s")} for {count} {(count == 1 ? "person" : "people")}; give one per face (largest first) or none");
                }
            }
        }

        var familyWord = top.Word("model_family", ["sd15", "sdxl"], required: true);
        var recipe = top.Text("recipe", required: false, Section.MaxPathChars);
        if (recipe is not null && !RecipeLoader.BuiltInNames.Contains(recipe, StringComparer.Ordinal)
            && !(recipe.EndsWith(".yaml", StringComparison.Ordinal) || recipe.EndsWith(".yml", StringComparison.Ordinal)))
        {
            var near = NameDistance.DidYouMean(recipe, RecipeLoader.BuiltInNames);
            top.Report("recipe", $"'{UserText.Quote(recipe)}' is neither a built-in recipe{(near is null ? "" : $" (did you mean '{near}'?)")} ({string.Join(", ", RecipeLoader.BuiltInNames)}) nor a .yaml file relative to the library folder");
        }

        var overrides = new List<string>();
        if (top.Node("overrides") is { } overridesNode)
        {
            if (overridesNode is not YamlSequenceNode list)
            {
                r.At(overridesNode.Start, "overrides", "expected a list of path=value strings, as --set takes them");
            }
            else
            {
                for (var i = 0; i < list.Children.Count; i++)
                {
                    var path = $"overrides[{i}]";
                    if (list.Children[i] is not YamlScalarNode { Value: { } text } item)
                    {
                        r.At(list.Children[i].Start, path, "expected a path=value string (e.g. inpaint.denoising_strength=0.5)");
                        continue;
                    }

                    var equals = text.IndexOf('=', StringComparison.Ordinal);
                    if (UserText.Problem(text, InputLimits.Text.MaxOverrideChars) is { } problem)
                    {
                        r.At(item.Start, path, problem);
                    }
                    else if (equals <= 0 || text[..equals].Trim().Length == 0)
                    {
                        r.At(item.Start, path, $"'{UserText.Quote(text)}' is not path=value (e.g. inpaint.denoising_strength=0.5)");
                    }
                    else if (text[..equals].Trim() is "prompt.positive" or "prompt.negative")
                    {
                        r.At(item.Start, path, "the template's prompt text goes in prompt.positive_add / prompt.negative_add (added to the recipe's, not replacing it)");
                    }
                    else
                    {
                        overrides.Add(text.Trim());
                    }
                }
            }
        }

        StyleLora? lora = null;
        if (top.Mapping("style_lora", LoraKeys) is { } loraSection)
        {
            var loraName = loraSection.Text("name", required: true, InputLimits.Text.MaxNameChars);
            if (loraName is not null && loraName.IndexOfAny(['<', '>', ':']) >= 0)
            {
                loraSection.Report("name", "is not a LoRA name: '<', '>' and ':' are prompt syntax (<lora:NAME:WEIGHT> is written for you)");
                loraName = null;
            }

            var weight = loraSection.Number("weight", required: true, 0, 2);
            if (loraName is not null && weight is { } w)
            {
                lora = new StyleLora(loraName, w);
            }
        }

        string positive = string.Empty, negative = string.Empty;
        if (top.Mapping("prompt", PromptKeys) is { } prompt)
        {
            positive = prompt.Text("positive_add", required: false, InputLimits.Text.MaxTextChars / 2, multiline: true)?.Trim() ?? string.Empty;
            negative = prompt.Text("negative_add", required: false, InputLimits.Text.MaxTextChars / 2, multiline: true)?.Trim() ?? string.Empty;
            if (LoraTag().IsMatch(positive))
            {
                prompt.Report("positive_add", "holds a <lora:...> tag; give a style LoRA as style_lora {name, weight} so the box is checked for it before the run");
            }
        }

        TemplateLicence? licence = null;
        if (top.Mapping("licence", LicenceKeys, required: true) is { } licenceSection)
        {
            var licenceName = licenceSection.Text("name", required: true, InputLimits.Text.MaxNameChars);
            var source = licenceSection.Text("source", required: true, Section.MaxPathChars);
            var author = licenceSection.Text("author", required: true, InputLimits.Text.MaxNameChars * 2);
            if (source is not null && !(Uri.TryCreate(source, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)))
            {
                licenceSection.Report("source", $"'{UserText.Quote(source)}' is not an http(s) URL; give the page the image came from");
                source = null;
            }

            if (licenceName is not null && source is not null && author is not null)
            {
                licence = new TemplateLicence(licenceName, source, author);
            }
        }

        if (problems.Count > before || title is null || people is null || familyWord is null || licence is null)
        {
            return null;
        }

        return new LibraryTemplate
        {
            Name = name,
            MetadataPath = metadataPath,
            ImagePath = imagePath,
            Title = title,
            Tags = tags,
            People = people.Value,
            Hints = hints,
            ModelFamily = familyWord == "sdxl" ? ModelFamily.Sdxl : ModelFamily.Sd15,
            Recipe = recipe,
            Overrides = overrides,
            StyleLora = lora,
            PositiveAdd = positive,
            NegativeAdd = negative,
            Licence = licence,
        };
    }

    /// <summary>Where the key <paramref name="key"/> of the top-level mapping starts, for problems found after parsing (image, recipe); 0,0 when absent.</summary>
    public static (int Line, int Column) PlaceOf(string yaml, string key)
    {
        try
        {
            if (BoundedYaml.Load(yaml).Documents is [{ RootNode: YamlMappingNode root }]
                && root.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: { } v } && v == key) is { } node)
            {
                return ((int)node.Start.Line, (int)node.Start.Column);
            }
        }
        catch (YamlException)
        {
        }

        return (0, 0);
    }

    /// <summary>Where item <paramref name="index"/> of the top-level list <paramref name="key"/> starts; 0,0 when absent.</summary>
    public static (int Line, int Column) PlaceOfItem(string yaml, string key, int index)
    {
        try
        {
            if (BoundedYaml.Load(yaml).Documents is [{ RootNode: YamlMappingNode root }]
                && root.Children.FirstOrDefault(k => k.Key is YamlScalarNode { Value: { } v } && v == key).Value is YamlSequenceNode list
                && index < list.Children.Count)
            {
                return ((int)list.Children[index].Start.Line, (int)list.Children[index].Start.Column);
            }
        }
        catch (YamlException)
        {
        }

        return PlaceOf(yaml, key);
    }

    private static string Describe(YamlException e)
    {
        var text = PlacePrefix().Replace(e.Message, string.Empty);
        return e.InnerException is { } inner && text.Length == 0 ? inner.Message : text;
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*", RegexOptions.CultureInvariant)]
    private static partial Regex PlacePrefix();

    [GeneratedRegex(@"<\s*lora\s*:", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex LoraTag();

    /// <summary>Adds problems at places.</summary>
    internal sealed class Reporter(string source, List<RecipeProblem> problems)
    {
        public void At(Mark mark, string path, string message) => At((int)mark.Line, (int)mark.Column, path, message);

        public void At(int line, int column, string path, string message) => problems.Add(new RecipeProblem(source, line, column, path, message));
    }

    /// <summary>One mapping: its known keys (anything else is reported with "did you mean"), and typed reads of its fields.</summary>
    internal sealed class Section
    {
        public const int MaxPathChars = 1024;

        private readonly YamlMappingNode _mapping;
        private readonly string _path;
        private readonly Reporter _r;
        private readonly Dictionary<string, (YamlNode Key, YamlNode Value)> _fields = new(StringComparer.Ordinal);

        public Section(YamlMappingNode mapping, string path, IReadOnlyList<string> known, Reporter reporter)
        {
            _mapping = mapping;
            _path = path;
            _r = reporter;
            foreach (var (key, value) in mapping.Children)
            {
                if (key is not YamlScalarNode { Value: { } name })
                {
                    _r.At(key.Start, path, "keys are plain words");
                    continue;
                }

                if (!known.Contains(name, StringComparer.Ordinal))
                {
                    var near = NameDistance.DidYouMean(name, known);
                    _r.At(key.Start, Join(name), near is null
                        ? $"unknown key '{UserText.Quote(name)}'; known keys here: {string.Join(", ", known)}"
                        : $"unknown key '{UserText.Quote(name)}'; did you mean '{near}'?");
                    continue;
                }

                _fields[name] = (key, value);
            }
        }

        public string Join(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

        public void Report(string key, string message)
        {
            var mark = _fields.TryGetValue(key, out var field) ? field.Value.Start : _mapping.Start;
            _r.At(mark, Join(key), message);
        }

        public YamlNode? Node(string key) => _fields.TryGetValue(key, out var field) && !IsNull(field.Value) ? field.Value : null;

        public Section? Mapping(string key, IReadOnlyList<string> known, bool required = false)
        {
            if (Node(key) is not { } node)
            {
                if (required)
                {
                    _r.At(_mapping.Start, Join(key), $"required; give {{{string.Join(", ", known)}}}");
                }

                return null;
            }

            if (node is not YamlMappingNode mapping)
            {
                _r.At(node.Start, Join(key), $"expected a mapping of {string.Join(", ", known)}");
                return null;
            }

            return new Section(mapping, Join(key), known, _r);
        }

        public string? Text(string key, bool required, int maxChars, bool multiline = false)
        {
            if (Scalar(key, required, "text") is not { } scalar)
            {
                return null;
            }

            var value = scalar.Value ?? string.Empty;
            if (value.Trim().Length == 0)
            {
                _r.At(scalar.Start, Join(key), "is empty");
                return null;
            }

            if (UserText.Problem(value, maxChars, multiline) is { } problem)
            {
                _r.At(scalar.Start, Join(key), problem);
                return null;
            }

            return value.Trim();
        }

        public string? Word(string key, IReadOnlyList<string> allowed, bool required = false)
        {
            if (Scalar(key, required, string.Join(" or ", allowed)) is not { } scalar)
            {
                return null;
            }

            var value = scalar.Value ?? string.Empty;
            if (allowed.Contains(value, StringComparer.Ordinal))
            {
                return value;
            }

            var near = NameDistance.DidYouMean(value, allowed);
            _r.At(scalar.Start, Join(key), $"'{UserText.Quote(value)}' is not one of {string.Join(", ", allowed)}{(near is null ? "" : $"; did you mean '{near}'?")}");
            return null;
        }

        public int? Integer(string key, bool required, int min, int max)
        {
            if (Scalar(key, required, "a whole number") is not { } scalar)
            {
                return null;
            }

            if (!int.TryParse(scalar.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                _r.At(scalar.Start, Join(key), $"expected a whole number, got '{UserText.Quote(scalar.Value)}'");
                return null;
            }

            if (value < min || value > max)
            {
                _r.At(scalar.Start, Join(key), string.Create(CultureInfo.InvariantCulture, $"{value} is outside {min}..{max}"));
                return null;
            }

            return value;
        }

        public double? Number(string key, bool required, double min, double max)
        {
            if (Scalar(key, required, "a number") is not { } scalar)
            {
                return null;
            }

            if (!double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                _r.At(scalar.Start, Join(key), $"expected a number, got '{UserText.Quote(scalar.Value)}'");
                return null;
            }

            if (value < min || value > max)
            {
                _r.At(scalar.Start, Join(key), string.Create(CultureInfo.InvariantCulture, $"{value} is outside {min}..{max}"));
                return null;
            }

            return value;
        }

        /// <summary>A list of short words (tags): a YAML list, or one comma-separated string.</summary>
        public IReadOnlyList<string>? Words(string key)
        {
            if (Node(key) is not { } node)
            {
                return null;
            }

            IEnumerable<YamlNode> items = node switch
            {
                YamlSequenceNode list => list.Children,
                YamlScalarNode => [node],
                _ => [],
            };
            if (node is YamlMappingNode)
            {
                _r.At(node.Start, Join(key), "expected a list of words, e.g. [portrait, outdoor]");
                return null;
            }

            var words = new List<string>();
            foreach (var item in items)
            {
                if (item is not YamlScalarNode { Value: { } text })
                {
                    _r.At(item.Start, Join(key), "expected a word");
                    continue;
                }

                foreach (var word in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (UserText.Problem(word, InputLimits.Text.MaxWordChars) is { } problem)
                    {
                        _r.At(item.Start, Join(key), $"'{UserText.Quote(word)}': {problem}");
                    }
                    else if (!words.Contains(word, StringComparer.OrdinalIgnoreCase))
                    {
                        words.Add(word);
                    }
                }
            }

            return words;
        }

        private YamlScalarNode? Scalar(string key, bool required, string expected)
        {
            if (Node(key) is not { } node)
            {
                if (required)
                {
                    _r.At(_mapping.Start, Join(key), $"required ({expected})");
                }

                return null;
            }

            if (node is not YamlScalarNode scalar)
            {
                _r.At(node.Start, Join(key), $"expected {expected}, got a {(node is YamlSequenceNode ? "list" : "mapping")}");
                return null;
            }

            return scalar;
        }

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" or "Null" or "NULL" };
    }
}
