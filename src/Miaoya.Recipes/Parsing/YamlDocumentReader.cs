using System.Text.RegularExpressions;
using Miaoya.Limits;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Recipes.Parsing;

/// <summary>
/// Loads one YAML document into YamlDotNet's representation model. Duplicate keys are reported (each one, with the
/// place of the first) and dropped before loading, because <see cref="YamlMappingNode"/> would stop at the first.
/// </summary>
internal static partial class YamlDocumentReader
{
    public static YamlMappingNode? Read(string yaml, Diagnostics diagnostics)
    {
        List<ParsingEvent> events;
        try
        {
            // Limits first (depth, nodes, aliases, sizes): everything below recurses over the tree.
            events = [.. BoundedYaml.ReadEvents(yaml)];
        }
        catch (YamlException e)
        {
            diagnostics.Report(e.Start, string.Empty, e is YamlLimitException ? Describe(e) : $"not valid YAML: {Describe(e)}");
            return null;
        }

        var documents = events.Select((e, i) => (Event: e, Index: i)).Where(x => x.Event is DocumentStart).ToArray();
        if (documents.Length == 0)
        {
            diagnostics.ReportAt(1, 1, string.Empty, "the recipe is empty");
            return null;
        }

        if (documents.Length > 1)
        {
            diagnostics.Report(documents[1].Event.Start, string.Empty, "a recipe file holds one YAML document; remove the second '---'");
            return null;
        }

        var skip = new bool[events.Count];
        var rootIndex = documents[0].Index + 1;
        if (events[rootIndex] is not MappingStart)
        {
            diagnostics.Report(events[rootIndex].Start, string.Empty, "a recipe is a mapping of keys (name:, pipeline:, interrogate:, ...)");
            return null;
        }

        FindDuplicates(events, rootIndex, string.Empty, skip, diagnostics);
        try
        {
            var stream = new YamlStream();
            stream.Load(new BoundedYaml.EventParser(events.Where((_, i) => !skip[i]).ToList()));
            return (YamlMappingNode)stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            diagnostics.Report(e.Start, string.Empty, $"not valid YAML: {Describe(e)}");
            return null;
        }
    }

    /// <summary>Walks the node starting at <paramref name="index"/>; returns the index after it.</summary>
    private static int FindDuplicates(List<ParsingEvent> events, int index, string path, bool[] skip, Diagnostics diagnostics)
    {
        switch (events[index])
        {
            case MappingStart:
                {
                    var seen = new Dictionary<string, Mark>(StringComparer.Ordinal);
                    var i = index + 1;
                    while (events[i] is not MappingEnd)
                    {
                        var keyIndex = i;
                        var keyEvent = events[keyIndex];
                        var keyText = keyEvent is Scalar s ? s.Value : null;
                        var childPath = keyText is null ? path : Join(path, keyText);
                        var valueIndex = FindDuplicates(events, keyIndex, path, skip, diagnostics);
                        if (keyText is not null && seen.TryGetValue(keyText, out var first))
                        {
                            var end = Skip(events, valueIndex);
                            diagnostics.Report(keyEvent.Start, childPath, $"duplicate key '{keyText}' (first at line {first.Line}); remove one");
                            for (var k = keyIndex; k < end; k++)
                            {
                                skip[k] = true;
                            }

                            i = end;
                            continue;
                        }

                        if (keyText is not null)
                        {
                            seen[keyText] = keyEvent.Start;
                        }

                        i = FindDuplicates(events, valueIndex, childPath, skip, diagnostics);
                    }

                    return i + 1;
                }

            case SequenceStart:
                {
                    var i = index + 1;
                    var item = 0;
                    while (events[i] is not SequenceEnd)
                    {
                        i = FindDuplicates(events, i, $"{path}[{item++}]", skip, diagnostics);
                    }

                    return i + 1;
                }

            default:
                return index + 1;
        }
    }

    /// <summary>The index after the node starting at <paramref name="index"/>.</summary>
    private static int Skip(List<ParsingEvent> events, int index)
    {
        var depth = 0;
        var i = index;
        do
        {
            depth += events[i].NestingIncrease;
            i++;
        }
        while (depth > 0);
        return i;
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string Describe(YamlException e)
    {
        if (e is YamlLimitException limit)
        {
            return limit.Reason;
        }

        var text = PlacePrefix().Replace(e.Message, string.Empty);
        return e.InnerException is { } inner && text.Length == 0 ? inner.Message : text;
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*", RegexOptions.CultureInvariant)]
    private static partial Regex PlacePrefix();
}
