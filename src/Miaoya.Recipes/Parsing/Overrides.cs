using System.Globalization;
using Miaoya.Limits;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Recipes.Parsing;

/// <summary>
/// Applies <c>--set path=value</c> overrides to the node tree before mapping, so an overridden value is validated like
/// the file's. A field the schema knows may be set even when the file leaves it out; anything else must exist.
/// </summary>
internal static class Overrides
{
    public static void Apply(YamlMappingNode root, IEnumerable<string> overrides, Diagnostics diagnostics)
    {
        var limits = InputLimits.Text;
        var count = 0;
        foreach (var text in overrides)
        {
            if (++count > limits.MaxOverrides)
            {
                diagnostics.ReportOverride(string.Empty, $"more than {limits.MaxOverrides} overrides; at most {limits.MaxOverrides} are accepted at once");
                return;
            }

            if (UserText.Problem(text, limits.MaxOverrideChars) is { } problem)
            {
                diagnostics.ReportOverride(UserText.Quote(text), problem);
                continue;
            }

            var equals = text.IndexOf('=', StringComparison.Ordinal);
            var path = equals < 0 ? text.Trim() : text[..equals].Trim();
            if (equals <= 0 || path.Length == 0)
            {
                diagnostics.ReportOverride(UserText.Quote(path), $"'{UserText.Quote(text)}' is not path=value (e.g. inpaint.controlnet.softedge.weight=0.6)");
                continue;
            }

            Apply(root, path, text[(equals + 1)..].Trim(), diagnostics);
        }
    }

    private static void Apply(YamlMappingNode root, string path, string value, Diagnostics diagnostics)
    {
        var segments = path.Split('.');
        YamlNode current = root;
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (current is YamlMappingNode mapping)
            {
                var key = mapping.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: { } v } && v == segment);
                if (key is not null)
                {
                    if (!last)
                    {
                        current = mapping.Children[key];
                        continue;
                    }

                    var existing = mapping.Children[key];
                    if (existing is YamlMappingNode)
                    {
                        var field = FirstLeaf(existing, path);
                        diagnostics.ReportOverride(UserText.Quote(path), $"is a section, not a value; set one of its fields{(field is null ? string.Empty : $", such as {field}")}");
                        return;
                    }

                    var shape = RecipeSchema.FieldsAt(segments[..i])?.FirstOrDefault(f => f.Key == segment)?.Shape;
                    var wantList = existing is YamlSequenceNode || shape == FieldShape.List;
                    if (Value(value, wantList, path, diagnostics) is { } node)
                    {
                        mapping.Children[key] = node;
                    }

                    return;
                }

                var spec = RecipeSchema.FieldsAt(segments[..i])?.FirstOrDefault(f => f.Key == segment);
                if (last && spec is { Shape: FieldShape.Scalar or FieldShape.List })
                {
                    if (Value(value, spec.Shape == FieldShape.List, path, diagnostics) is { } node)
                    {
                        var keyNode = new YamlScalarNode(segment);
                        diagnostics.MarkOverride(keyNode);
                        mapping.Children.Add(keyNode, node);
                    }

                    return;
                }

                // An optional section the file leaves out (candidates, finish) is added by setting one of its fields; the
                // pipeline's own steps are not, so a typo there still gets "did you mean".
                if (!last && spec is { Shape: FieldShape.Section } && i == 0 && segment is "candidates" or "finish")
                {
                    var keyNode = new YamlScalarNode(segment);
                    diagnostics.MarkOverride(keyNode);
                    var section = new YamlMappingNode();
                    mapping.Children.Add(keyNode, section);
                    current = section;
                    continue;
                }
            }
            else if (current is YamlSequenceNode sequence
                && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && index < sequence.Children.Count)
            {
                if (!last)
                {
                    current = sequence.Children[index];
                    continue;
                }

                if (Value(value, wantList: false, path, diagnostics) is { } node)
                {
                    sequence.Children[index] = node;
                }

                return;
            }

            ReportUnknown(root, path, diagnostics);
            return;
        }
    }

    private static void ReportUnknown(YamlMappingNode root, string path, Diagnostics diagnostics)
    {
        // A suggestion only for a path of a plausible length: the edit distance costs its length times each candidate's.
        string? closest = null;
        if (path.Length <= InputLimits.Text.MaxNameChars)
        {
            var candidates = new List<string>();
            CollectPaths(root, [], candidates);
            closest = Similarity.Closest(path, candidates);
        }

        diagnostics.ReportOverride(UserText.Quote(path), closest is null ? "no such field in the recipe" : $"no such field in the recipe; did you mean {closest}?");
    }

    /// <summary>Every settable path: the values in the tree, and the schema's fields the tree's sections leave out.</summary>
    private static void CollectPaths(YamlMappingNode mapping, List<string> segments, List<string> paths)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in mapping.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                continue;
            }

            present.Add(name);
            segments.Add(name);
            if (value is YamlMappingNode child)
            {
                CollectPaths(child, segments, paths);
            }
            else
            {
                paths.Add(string.Join('.', segments));
            }

            segments.RemoveAt(segments.Count - 1);
        }

        foreach (var field in RecipeSchema.FieldsAt(segments) ?? [])
        {
            if (field.Shape is FieldShape.Scalar or FieldShape.List && !present.Contains(field.Key))
            {
                paths.Add(string.Join('.', [.. segments, field.Key]));
            }
        }
    }

    private static string? FirstLeaf(YamlNode node, string path)
    {
        var paths = new List<string>();
        if (node is YamlMappingNode mapping)
        {
            CollectPaths(mapping, [.. path.Split('.')], paths);
        }

        return paths.FirstOrDefault();
    }

    /// <summary>
    /// The node for an override value: YAML flow text (<c>[a, b]</c>, <c>{...}</c>, quoted) is parsed as YAML; for a
    /// list field <c>a,b,c</c> becomes a list; anything else is one plain value.
    /// </summary>
    private static YamlNode? Value(string value, bool wantList, string path, Diagnostics diagnostics)
    {
        YamlNode node;
        if (value.Length > 0 && value[0] is '[' or '{' or '"' or '\'')
        {
            try
            {
                node = BoundedYaml.Load(value).Documents[0].RootNode;
            }
            catch (YamlException e)
            {
                diagnostics.ReportOverride(path, $"'{UserText.Quote(value)}' is not valid YAML: {(e as YamlLimitException)?.Reason ?? e.Message}");
                return null;
            }
        }
        else if (wantList)
        {
            var items = value.Length == 0
                ? []
                : value.Split(',', StringSplitOptions.TrimEntries).Select(v => (YamlNode)new YamlScalarNode(v) { Style = ScalarStyle.Plain });
            node = new YamlSequenceNode(items);
        }
        else
        {
            node = new YamlScalarNode(value) { Style = ScalarStyle.Plain };
        }

        diagnostics.MarkOverride(node);
        return node;
    }
}
