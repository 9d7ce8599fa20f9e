using System.Globalization;
using Miaoya.Imaging;
using Miaoya.Limits;
using Miaoya.WebUi;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Miaoya.IdPhoto;

/// <summary>The shipped ID-photo specifications (<c>recipes/id-specs/*.yaml</c>, embedded) and spec-file loading.</summary>
public static class IdSpecs
{
    private const string ResourcePrefix = "Miaoya.IdPhoto.Specs.";

    private static readonly string[] Keys =
    [
        "name", "title", "width_mm", "height_mm", "dpi", "head_height", "top_margin", "eye_line", "centre_tolerance", "max_roll_deg",
        "backgrounds", "background_delta_e", "uniformity_delta_e", "rim_delta_e", "formats", "min_kb", "max_kb", "sources",
    ];

    /// <summary>The names of the shipped specs, sorted.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = typeof(IdSpecs).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..^".yaml".Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    private static readonly Lazy<IReadOnlyList<IdSpec>> BuiltInSpecs = new(() => BuiltInNames!.Select(n => Parse(ReadBuiltIn(n), $"recipes/id-specs/{n}.yaml")).ToArray());

    /// <summary>Every shipped spec, by name.</summary>
    public static IReadOnlyList<IdSpec> BuiltIn => BuiltInSpecs.Value;

    /// <summary>
    /// A spec by built-in name, or from a spec file when <paramref name="nameOrPath"/> is an existing file.
    /// </summary>
    /// <exception cref="IdSpecException">Unknown name (the message names the closest ones), or a bad file.</exception>
    public static IdSpec Find(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (File.Exists(nameOrPath))
        {
            string text;
            try
            {
                text = BoundedFile.ReadAllText(nameOrPath, InputLimits.Yaml.MaxDocumentChars, "spec");
            }
            catch (InputLimitException e)
            {
                throw new IdSpecException(e.Message);
            }

            return Parse(text, nameOrPath);
        }

        return FindBuiltIn(nameOrPath, orFile: true);
    }

    /// <summary>
    /// A shipped spec by name, never a file: what a recipe's <c>finish.spec</c> and the service take, so a file that
    /// happens to have a spec's name in the working folder cannot stand in for it.
    /// </summary>
    /// <exception cref="IdSpecException">Unknown name (the message names the closest ones).</exception>
    public static IdSpec FindBuiltIn(string name) => FindBuiltIn(name, orFile: false);

    private static IdSpec FindBuiltIn(string nameOrPath, bool orFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        var name = nameOrPath.EndsWith(".yaml", StringComparison.Ordinal) ? nameOrPath[..^".yaml".Length] : nameOrPath;
        return BuiltIn.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new IdSpecException($"unknown ID-photo spec '{UserText.Quote(nameOrPath)}'{Hint(name, BuiltInNames)}; the specs are {string.Join(", ", BuiltInNames)}{(orFile ? " (or give a spec file)" : "")}.");
    }

    /// <summary>The text of a built-in spec.</summary>
    public static string ReadBuiltIn(string name)
    {
        using var stream = typeof(IdSpecs).Assembly.GetManifestResourceStream($"{ResourcePrefix}{name}.yaml")
            ?? throw new IdSpecException($"no built-in spec '{name}'{Hint(name, BuiltInNames)}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Parses spec text; every problem is reported at once as <c>source:line:column: key: message</c>.</summary>
    public static IdSpec Parse(string yaml, string sourceName)
    {
        var problems = new List<string>();
        YamlMappingNode? root = null;
        try
        {
            var stream = BoundedYaml.Load(yaml);
            root = stream.Documents.Count == 1 ? stream.Documents[0].RootNode as YamlMappingNode : null;
            if (root is null)
            {
                problems.Add($"{sourceName}:1:1: the file must hold one mapping of spec fields");
            }
        }
        catch (YamlException e)
        {
            problems.Add($"{sourceName}:{e.Start.Line}:{e.Start.Column}: {(e as YamlLimitException)?.Reason ?? e.Message}");
        }

        if (root is null)
        {
            throw new IdSpecException(string.Join(Environment.NewLine, problems));
        }

        var r = new Reader(root, sourceName, problems);
        foreach (var (key, _) in root.Children)
        {
            var k = (key as YamlScalarNode)?.Value ?? string.Empty;
            if (!Keys.Contains(k, StringComparer.Ordinal))
            {
                r.Report(key, k, $"unknown key{Hint(k, Keys)}");
            }
        }

        var spec = new IdSpec
        {
            Name = r.Text("name") ?? string.Empty,
            Title = r.Text("title") ?? string.Empty,
            WidthMm = r.Number("width_mm", null, 5, 300) ?? 0,
            HeightMm = r.Number("height_mm", null, 5, 300) ?? 0,
            Dpi = r.Dpi(),
            HeadHeight = r.Range("head_height"),
            TopMargin = r.Range("top_margin"),
            EyeLine = r.Range("eye_line"),
            CentreTolerance = r.Number("centre_tolerance", 0.05, 0, 0.5) ?? 0,
            MaxRollDegrees = r.Number("max_roll_deg", 5, 0, 45) ?? 0,
            Backgrounds = r.Words("backgrounds", required: true, word => BackgroundColours.TryParseColour(word, out _) ? null : $"'{word}' is not a colour name ({string.Join(", ", BackgroundColours.Names)}) or #RRGGBB"),
            BackgroundDeltaE = r.Number("background_delta_e", BackgroundColours.DefaultAllowedDeltaE, 0, 100) ?? 0,
            UniformityDeltaE = r.Number("uniformity_delta_e", 6, 0, 100) ?? 0,
            RimDeltaE = r.Number("rim_delta_e", IdSpec.DefaultRimDeltaE, 0, 100) ?? 0,
            Formats = r.Words("formats", required: true, word => word is "jpeg" or "png" ? null : $"'{word}' is not a format; use jpeg or png"),
            MinKb = r.Integer("min_kb"),
            MaxKb = r.Integer("max_kb"),
            Sources = r.Words("sources", required: false, _ => null),
        };
        if (spec.MinKb is { } min && spec.MaxKb is { } max && min > max)
        {
            r.Report(root, "min_kb", $"min_kb {min} is above max_kb {max}");
        }

        if (problems.Count > 0)
        {
            throw new IdSpecException(string.Join(Environment.NewLine, problems));
        }

        return spec;
    }

    private static string Hint(string wanted, IEnumerable<string> known) => $" ({NameMatcher.Suggest(wanted, known)})";

    private sealed class Reader(YamlMappingNode root, string source, List<string> problems)
    {
        public void Report(YamlNode node, string key, string message) =>
            problems.Add($"{source}:{node.Start.Line}:{node.Start.Column}: {key}: {message}");

        public string? Text(string key)
        {
            var node = Get(key, required: true);
            if (node is YamlScalarNode { Value: { Length: > 0 } text })
            {
                return text;
            }

            if (node is not null)
            {
                Report(node, key, "expected a text value");
            }

            return null;
        }

        public double? Number(string key, double? defaultValue, double min, double max)
        {
            var node = Get(key, required: defaultValue is null);
            if (node is null)
            {
                return defaultValue;
            }

            return Value(node, key, min, max);
        }

        public int? Integer(string key)
        {
            var node = Get(key, required: false);
            if (node is null || node is YamlScalarNode { Value: null or "" or "null" or "~" })
            {
                return null;
            }

            if (node is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
            {
                return value;
            }

            Report(node, key, "expected a whole number of KB above 0, or null");
            return null;
        }

        public int Dpi()
        {
            var value = Number("dpi", 300, 1, 10000) ?? 300;
            if (!IdSpec.SupportedDpis.Contains((int)value) || value != Math.Floor(value))
            {
                Report(Get("dpi", false) ?? root, "dpi", $"{value} is not one of {string.Join(", ", IdSpec.SupportedDpis)}");
            }

            return (int)value;
        }

        public FractionRange Range(string key)
        {
            var node = Get(key, required: true);
            if (node is null)
            {
                return default;
            }

            if (node is YamlSequenceNode { Children.Count: 2 } seq && Value(seq[0], key, 0, 1) is { } min && Value(seq[1], key, 0, 1) is { } max)
            {
                if (min <= max)
                {
                    return new FractionRange(min, max);
                }

                Report(node, key, $"the range [{min}, {max}] runs backwards");
            }
            else if (node is not YamlSequenceNode { Children.Count: 2 })
            {
                Report(node, key, "expected [min, max] as fractions of the photo (0..1)");
            }

            return default;
        }

        public List<string> Words(string key, bool required, Func<string, string?> check)
        {
            var node = Get(key, required);
            if (node is null)
            {
                return [];
            }

            if (node is not YamlSequenceNode { Children.Count: > 0 } seq)
            {
                Report(node, key, "expected a non-empty list such as [a, b]");
                return [];
            }

            var words = new List<string>();
            foreach (var item in seq.Children)
            {
                if (item is YamlScalarNode { Value: { Length: > 0 } text } && check(text) is not { } why)
                {
                    words.Add(text);
                }
                else
                {
                    Report(item, key, item is YamlScalarNode { Value: { Length: > 0 } t } ? check(t)! : "list items must be words");
                }
            }

            return words;
        }

        private double? Value(YamlNode node, string key, double min, double max)
        {
            if (node is YamlScalarNode { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
            {
                if (value >= min && value <= max)
                {
                    return value;
                }

                Report(node, key, string.Create(CultureInfo.InvariantCulture, $"{text} is outside {min}..{max}"));
                return null;
            }

            Report(node, key, "expected a number");
            return null;
        }

        private YamlNode? Get(string key, bool required)
        {
            if (root.Children.TryGetValue(new YamlScalarNode(key), out var node))
            {
                return node;
            }

            if (required)
            {
                problems.Add($"{source}:{root.Start.Line}:{root.Start.Column}: {key}: required field is missing");
            }

            return null;
        }
    }
}

/// <summary>A spec that cannot be found or read; the message says which and why.</summary>
public sealed class IdSpecException : Exception
{
    /// <inheritdoc />
    public IdSpecException()
    {
    }

    /// <inheritdoc />
    public IdSpecException(string message)
        : base(message)
    {
    }

    /// <inheritdoc />
    public IdSpecException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
