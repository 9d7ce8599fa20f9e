using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Limits;

/// <summary>
/// Reads untrusted YAML within <see cref="YamlLimits"/>. YamlDotNet's parser is a state machine (no recursion), so the
/// events are read one by one and the document is refused at the first event past a limit — depth, nodes (an alias counts
/// its whole subtree again, so "billion laughs" documents stop early), aliases, scalar length — before any tree is built
/// or walked. Only then does anything recursive (the representation model, our own validators) see the document, and
/// its depth is bounded by <see cref="YamlLimits.MaxDepth"/>.
/// </summary>
public static class BoundedYaml
{
    /// <summary>
    /// Every parsing event of <paramref name="text"/>, checked against <paramref name="limits"/> (default
    /// <see cref="InputLimits.Yaml"/>). Throws <see cref="YamlLimitException"/> at the first event over a limit, or
    /// YamlDotNet's <see cref="YamlException"/> for a syntax error; both carry the place.
    /// </summary>
    public static IReadOnlyList<ParsingEvent> ReadEvents(string text, YamlLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        limits ??= InputLimits.Yaml;
        if (text.Length > limits.MaxDocumentChars)
        {
            throw new YamlLimitException(Mark.Empty, Mark.Empty, $"the document has {text.Length:N0} characters; at most {limits.MaxDocumentChars:N0} are accepted");
        }

        var events = new List<ParsingEvent>();
        var frames = new Stack<Frame>();
        var anchors = new Dictionary<AnchorName, (long Nodes, int Depth)>();
        long nodes = 0;
        var aliases = 0;
        var parser = new Parser(new StringReader(text));
        while (parser.MoveNext())
        {
            var current = parser.Current!;
            events.Add(current);
            switch (current)
            {
                case Scalar scalar:
                    nodes++;
                    if (scalar.Value.Length > limits.MaxScalarChars)
                    {
                        throw Over(current, $"a value of {scalar.Value.Length:N0} characters; at most {limits.MaxScalarChars:N0} are accepted");
                    }

                    if (!scalar.Anchor.IsEmpty)
                    {
                        anchors[scalar.Anchor] = (1, 0);
                    }

                    break;

                case NodeEvent { NestingIncrease: > 0 } start:
                    nodes++;
                    var depth = frames.Count + 1;
                    if (depth > limits.MaxDepth)
                    {
                        throw Over(current, $"lists and mappings nested more than {limits.MaxDepth} deep");
                    }

                    frames.Push(new Frame(start.Anchor, nodes - 1, depth));
                    break;

                case { NestingIncrease: < 0 } when current is SequenceEnd or MappingEnd:
                    var frame = frames.Pop();
                    if (!frame.Anchor.IsEmpty)
                    {
                        anchors[frame.Anchor] = (nodes - frame.NodesBefore, frame.Deepest - frame.Depth + 1);
                    }

                    if (frames.TryPeek(out var parent))
                    {
                        parent.Deepest = Math.Max(parent.Deepest, frame.Deepest);
                    }

                    break;

                case AnchorAlias alias:
                    if (++aliases > limits.MaxAliases)
                    {
                        throw Over(current, $"more than {limits.MaxAliases} aliases");
                    }

                    // An unknown anchor is YamlDotNet's to report when the tree is built.
                    if (anchors.TryGetValue(alias.Value, out var target))
                    {
                        nodes += target.Nodes;
                        var reached = frames.Count + target.Depth;
                        if (reached > limits.MaxDepth)
                        {
                            throw Over(current, $"the alias *{alias.Value} nests lists and mappings more than {limits.MaxDepth} deep");
                        }

                        if (frames.TryPeek(out var holder))
                        {
                            holder.Deepest = Math.Max(holder.Deepest, reached);
                        }
                    }
                    else
                    {
                        nodes++;
                    }

                    break;
            }

            if (nodes > limits.MaxNodes)
            {
                throw Over(current, $"more than {limits.MaxNodes:N0} values (aliases count what they repeat)");
            }
        }

        return events;
    }

    /// <summary>The document as YamlDotNet's representation model, after <see cref="ReadEvents"/> accepted it.</summary>
    public static YamlStream Load(string text, YamlLimits? limits = null)
    {
        var stream = new YamlStream();
        stream.Load(new EventParser(ReadEvents(text, limits)));
        return stream;
    }

    /// <summary>Reads a YAML file within the limits (its size is checked before it is read).</summary>
    public static YamlStream LoadFile(string path, YamlLimits? limits = null)
    {
        limits ??= InputLimits.Yaml;
        return Load(BoundedFile.ReadAllText(path, limits.MaxDocumentChars, "YAML file"), limits);
    }

    private static YamlLimitException Over(ParsingEvent at, string what) =>
        new(at.Start, at.End, $"over the input limits: {what}");

    private sealed class Frame(AnchorName anchor, long nodesBefore, int depth)
    {
        public AnchorName Anchor { get; } = anchor;

        public long NodesBefore { get; } = nodesBefore;

        public int Depth { get; } = depth;

        public int Deepest { get; set; } = depth;
    }

    /// <summary>Replays events already read (an <see cref="IParser"/> over a list).</summary>
    public sealed class EventParser(IReadOnlyList<ParsingEvent> events) : IParser
    {
        private int position = -1;

        public ParsingEvent? Current => position >= 0 && position < events.Count ? events[position] : null;

        public bool MoveNext()
        {
            if (position < events.Count)
            {
                position++;
            }

            return position < events.Count;
        }
    }
}
