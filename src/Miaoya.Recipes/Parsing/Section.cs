using System.Globalization;
using Miaoya.Limits;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Recipes.Parsing;

/// <summary>
/// Typed reads of one YAML mapping with its field path. Every read reports its own problem and returns null (or the
/// default) so mapping goes on and all problems are found in one pass.
/// </summary>
internal sealed class Section
{
    private readonly Diagnostics diagnostics;
    private readonly YamlNode anchor;
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> entries = new(StringComparer.Ordinal);
    private readonly List<(string Name, YamlScalarNode Key, YamlNode Value)> ordered = [];

    /// <param name="diagnostics">Where problems go.</param>
    /// <param name="node">The mapping.</param>
    /// <param name="anchor">Where "missing field" problems point: the section's key, or the mapping for the root.</param>
    /// <param name="path">The section's field path; empty for the root.</param>
    /// <param name="fields">Known fields; null accepts any key (an open map such as <c>controlnet</c>).</param>
    /// <param name="misplaced">Keys refused with a specific reason instead of "unknown key".</param>
    public Section(
        Diagnostics diagnostics, YamlMappingNode node, YamlNode anchor, string path, IReadOnlyList<FieldSpec>? fields, IReadOnlyDictionary<string, string>? misplaced = null)
    {
        this.diagnostics = diagnostics;
        this.anchor = anchor;
        Path = path;
        var known = fields is null ? null : RecipeSchema.Keys(fields);
        foreach (var (key, value) in node.Children)
        {
            if (key is not YamlScalarNode { Value: { Length: > 0 } name } scalarKey)
            {
                diagnostics.Report(key, path, "keys must be plain words, not lists, sections or empty");
                continue;
            }

            if (UserText.Problem(name, InputLimits.Text.MaxNameChars) is { } keyProblem)
            {
                diagnostics.Report(scalarKey, Join(UserText.Quote(name)), $"not a key: {keyProblem}");
                continue;
            }

            if (known is not null && !known.Contains(name, StringComparer.Ordinal))
            {
                var reason = misplaced is not null && misplaced.TryGetValue(name, out var why) ? why : Similarity.UnknownKey(name, known);
                diagnostics.Report(scalarKey, Join(name), reason);
                continue;
            }

            entries[name] = (scalarKey, value);
            ordered.Add((name, scalarKey, value));
        }
    }

    public string Path { get; }

    /// <summary>Where problems about the whole section point.</summary>
    public YamlNode Anchor => anchor;

    public Diagnostics Diagnostics => diagnostics;

    /// <summary>The accepted entries in file order.</summary>
    public IReadOnlyList<(string Name, YamlScalarNode Key, YamlNode Value)> Entries => ordered;

    public string Join(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public bool Has(string key) => entries.TryGetValue(key, out var e) && !IsNull(e.Value);

    /// <summary>The value node of <paramref name="key"/>, else its key node, else the section's anchor: where to point a problem.</summary>
    public YamlNode PlaceOf(string key) =>
        entries.TryGetValue(key, out var e) ? (IsNull(e.Value) ? diagnostics.KeyOrOverride(e.Key, e.Value) : e.Value) : anchor;

    public YamlScalarNode? KeyNode(string key) => entries.TryGetValue(key, out var e) ? e.Key : null;

    public void Report(string key, string message) => diagnostics.Report(PlaceOf(key), Join(key), message);

    /// <summary>A text value of the given kind: a name (one line, <see cref="TextLimits.MaxNameChars"/>), free text or a path.</summary>
    public string? String(string key, bool required, TextKind kind = TextKind.Name)
    {
        var scalar = Scalar(key, required, "a text value");
        if (scalar is null)
        {
            return null;
        }

        if (required && string.IsNullOrWhiteSpace(scalar.Value))
        {
            diagnostics.Report(scalar, Join(key), "must not be empty");
            return null;
        }

        var limits = InputLimits.Text;
        var (max, multiline) = kind switch
        {
            TextKind.Text => (limits.MaxTextChars, true),
            TextKind.Path => (MaxPathChars, false),
            _ => (limits.MaxNameChars, false),
        };
        if (UserText.Problem(scalar.Value ?? string.Empty, max, multiline) is { } problem)
        {
            diagnostics.Report(scalar, Join(key), problem);
            return null;
        }

        return scalar.Value;
    }

    /// <summary>Longest file path in a recipe.</summary>
    public const int MaxPathChars = 1024;

    /// <summary>A number in min..max; required when there is no default unless <paramref name="optional"/> (then absent is null).</summary>
    public double? Number(string key, double? defaultValue, double min, double max, bool optional = false)
    {
        var scalar = Scalar(key, defaultValue is null && !optional, "a number");
        if (scalar is null)
        {
            return Has(key) ? null : defaultValue;
        }

        if (!IsPlain(scalar) || !double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            diagnostics.Report(scalar, Join(key), $"expected a number, got {Quote(scalar)}");
            return null;
        }

        if (value < min || value > max)
        {
            diagnostics.Report(scalar, Join(key), $"{UserText.Quote(scalar.Value)} is outside {Format(min)}..{Format(max)}");
            return null;
        }

        return value;
    }

    /// <summary>A whole number in min..max; <paramref name="belowMinimum"/> words the message for a value under min.</summary>
    public int? Integer(string key, int? defaultValue, int min, int max, string? belowMinimum = null, bool optional = false)
    {
        var scalar = Scalar(key, defaultValue is null && !optional, "a whole number");
        if (scalar is null)
        {
            return Has(key) ? null : defaultValue;
        }

        if (!IsPlain(scalar) || !int.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            diagnostics.Report(scalar, Join(key), $"expected a whole number, got {Quote(scalar)}");
            return null;
        }

        if (value < min && belowMinimum is not null)
        {
            diagnostics.Report(scalar, Join(key), belowMinimum.Replace("{value}", scalar.Value, StringComparison.Ordinal));
            return null;
        }

        if (value < min || value > max)
        {
            diagnostics.Report(scalar, Join(key), $"{UserText.Quote(scalar.Value)} is outside {min}..{max}");
            return null;
        }

        return value;
    }

    public bool? Boolean(string key, bool defaultValue)
    {
        var scalar = Scalar(key, false, "true or false");
        if (scalar is null)
        {
            return Has(key) ? null : defaultValue;
        }

        if (IsPlain(scalar) && bool.TryParse(scalar.Value, out var value))
        {
            return value;
        }

        diagnostics.Report(scalar, Join(key), $"expected true or false, got {Quote(scalar)}");
        return null;
    }

    public T? Enum<T>(string key, T? defaultValue)
        where T : struct, Enum
    {
        var words = EnumWords.All<T>();
        var scalar = Scalar(key, defaultValue is null, $"one of {string.Join(", ", words)}");
        if (scalar is null)
        {
            return Has(key) ? null : defaultValue;
        }

        if (EnumWords.TryParse<T>(scalar.Value ?? string.Empty, out var value))
        {
            return value;
        }

        var closest = scalar.Value is { Length: <= 64 } ? Similarity.Closest(scalar.Value, words) : null;
        var hint = closest is not null && Similarity.Distance(scalar.Value!, closest) <= 3 ? $" (did you mean '{closest}'?)" : string.Empty;
        diagnostics.Report(scalar, Join(key), $"{Quote(scalar)} is not one of {string.Join(", ", words)}{hint}");
        return null;
    }

    /// <summary>A list of words; absent or null is the empty list.</summary>
    public IReadOnlyList<string>? StringList(string key)
    {
        if (!entries.TryGetValue(key, out var e) || IsNull(e.Value))
        {
            return [];
        }

        if (e.Value is not YamlSequenceNode sequence)
        {
            diagnostics.Report(e.Value, Join(key), $"expected a list such as [a, b], got {Describe(e.Value)}");
            return null;
        }

        var limits = InputLimits.Text;
        if (sequence.Children.Count > limits.MaxWords)
        {
            diagnostics.Report(e.Value, Join(key), $"{sequence.Children.Count} items; at most {limits.MaxWords} are accepted");
            return null;
        }

        var items = new List<string>();
        var ok = true;
        var index = 0;
        foreach (var item in sequence.Children)
        {
            if (item is YamlScalarNode { Value: { } text } scalar && !IsNull(scalar) && text.Trim().Length > 0)
            {
                if (UserText.Problem(text.Trim(), limits.MaxWordChars) is { } problem)
                {
                    diagnostics.Report(item, $"{Join(key)}[{index}]", problem);
                    ok = false;
                }
                else
                {
                    items.Add(text.Trim());
                }
            }
            else
            {
                diagnostics.Report(item, $"{Join(key)}[{index}]", $"list items must be non-empty words, got {Describe(item)}");
                ok = false;
            }

            index++;
        }

        return ok ? items : null;
    }

    /// <summary>A nested section; reports a missing required one at this section's anchor.</summary>
    public Section? Child(string key, IReadOnlyList<FieldSpec>? fields, bool required, IReadOnlyDictionary<string, string>? misplaced = null)
    {
        if (!entries.TryGetValue(key, out var e) || IsNull(e.Value))
        {
            if (required)
            {
                diagnostics.Report(e.Key ?? anchor, Join(key), "required section is missing");
            }

            return null;
        }

        if (e.Value is not YamlMappingNode mapping)
        {
            diagnostics.Report(e.Value, Join(key), $"expected a section of fields, got {Describe(e.Value)}");
            return null;
        }

        return new Section(diagnostics, mapping, e.Key, Join(key), fields, misplaced);
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Value: null or "" or "~" or "null" or "Null" or "NULL" } scalar && IsPlain(scalar);

    private static bool IsPlain(YamlScalarNode scalar) => scalar.Style is ScalarStyle.Plain or ScalarStyle.Any;

    private YamlScalarNode? Scalar(string key, bool required, string expected)
    {
        if (!entries.TryGetValue(key, out var e))
        {
            if (required)
            {
                diagnostics.Report(anchor, Join(key), "required field is missing");
            }

            return null;
        }

        if (IsNull(e.Value))
        {
            if (required)
            {
                diagnostics.Report(diagnostics.KeyOrOverride(e.Key, e.Value), Join(key), $"required field has no value; expected {expected}");
            }

            return null;
        }

        if (e.Value is not YamlScalarNode scalar)
        {
            diagnostics.Report(e.Value, Join(key), $"expected {expected}, got {Describe(e.Value)}");
            return null;
        }

        return scalar;
    }

    private static string Quote(YamlScalarNode scalar) => IsPlain(scalar) ? $"'{UserText.Quote(scalar.Value)}'" : $"the quoted text \"{UserText.Quote(scalar.Value)}\"";

    private static string Describe(YamlNode node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlMappingNode => "a section",
        YamlScalarNode s => Quote(s),
        _ => "something else",
    };

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>What a text field holds, which sets its limit.</summary>
internal enum TextKind
{
    /// <summary>A name or word: one line, <see cref="TextLimits.MaxNameChars"/>.</summary>
    Name,

    /// <summary>Free text such as a prompt: line breaks allowed, <see cref="TextLimits.MaxTextChars"/>.</summary>
    Text,

    /// <summary>A file path: one line, <see cref="Section.MaxPathChars"/>.</summary>
    Path,
}
