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
        var at = Mark.Empty;
        while (Next(parser, at))
        {
            var current = parser.Current!;
            at = current.End;
            events.Add(current);
            if (current is DocumentStart)
            {
                // Anchors belong to their document.
                anchors.Clear();
            }

            if (current is NodeEvent or AnchorAlias && frames.TryPeek(out var container))
            {
                container.Children++;
            }

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

                    if (!start.Anchor.IsEmpty)
                    {
                        // Until this node is complete, an alias of its name would make it contain itself.
                        anchors.Remove(start.Anchor);
                    }

                    frames.Push(new Frame(start.Anchor, nodes - 1, depth, current is MappingStart));
                    break;

                case { NestingIncrease: < 0 } when current is SequenceEnd or MappingEnd:
                    var frame = frames.Pop();
                    if (frame.IsMapping && frame.Children % 2 != 0)
                    {
                        // YamlDotNet's parser lets "x: *a *b" through as a mapping of three nodes; its tree builder then throws.
                        throw new YamlException(current.Start, current.End, "a mapping key without a value");
                    }

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

                    // YamlDotNet resolves an alias to a node defined later, or to one still open (a node that contains
                    // itself); either builds a tree the events do not show, so an alias may only repeat a node complete before it.
                    if (!anchors.TryGetValue(alias.Value, out var target))
                    {
                        throw new YamlException(current.Start, current.End, $"the alias *{alias.Value} does not name a node complete before it; an alias can only repeat an earlier node, outside itself");
                    }

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

                    break;
            }

            if (nodes > limits.MaxNodes)
            {
                throw Over(current, $"more than {limits.MaxNodes:N0} values (aliases count what they repeat)");
            }
        }

        return events;
    }

    /// <summary>
    /// The parser's next event. YamlDotNet's scanner and parser throw other exceptions than <see cref="YamlException"/>
    /// for some broken text (an unclosed <c>[</c> before the next key is an <see cref="InvalidOperationException"/>):
    /// they become YAML errors at the last place read.
    /// </summary>
    private static bool Next(Parser parser, Mark at)
    {
        try
        {
            return parser.MoveNext();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            throw new YamlException(at, at, $"not valid YAML after this point ({e.Message})", e);
        }
    }

    /// <summary>
    /// The document as YamlDotNet's representation model, after <see cref="ReadEvents"/> accepted it. A key given twice
    /// in one mapping is a <see cref="YamlException"/> at the second (the model itself throws an ArgumentException).
    /// </summary>
    public static YamlStream Load(string text, YamlLimits? limits = null)
    {
        var events = ReadEvents(text, limits);
        var stream = new YamlStream();
        try
        {
            stream.Load(new EventParser(events));
        }
        catch (ArgumentException e)
        {
            var at = DuplicateKey(events) ?? Mark.Empty;
            throw new YamlException(at, at, $"a key is given twice in one mapping ({e.Message})", e);
        }

        return stream;
    }

    /// <summary>
    /// Reads a YAML file within the limits (its size is checked before it is read). Throws <see cref="InputLimitException"/>
    /// for a file that is missing, a folder or too large, else as <see cref="Load"/>.
    /// </summary>
    public static YamlStream LoadFile(string path, YamlLimits? limits = null)
    {
        limits ??= InputLimits.Yaml;
        return Load(BoundedFile.ReadAllText(path, limits.MaxDocumentChars, "YAML file"), limits);
    }

    private static YamlLimitException Over(ParsingEvent at, string what) =>
        new(at.Start, at.End, $"over the input limits: {what}");

    /// <summary>Where the first scalar key repeated within one mapping is, if any (for the message of a duplicate key).</summary>
    private static Mark? DuplicateKey(IReadOnlyList<ParsingEvent> events)
    {
        // Per open collection: the keys seen (null for a list) and how many children so far (keys are the even ones).
        var open = new Stack<(HashSet<string>? Keys, int Children)>();
        foreach (var e in events)
        {
            if (e is NodeEvent or AnchorAlias && open.TryPop(out var top))
            {
                if (top.Keys is not null && top.Children % 2 == 0 && e is Scalar key && !top.Keys.Add(key.Value))
                {
                    return key.Start;
                }

                open.Push((top.Keys, top.Children + 1));
            }

            if (e is MappingStart or SequenceStart)
            {
                open.Push((e is MappingStart ? new HashSet<string>(StringComparer.Ordinal) : null, 0));
            }
            else if (e is MappingEnd or SequenceEnd)
            {
                open.Pop();
            }
        }

        return null;
    }

    private sealed class Frame(AnchorName anchor, long nodesBefore, int depth, bool isMapping)
    {
        public AnchorName Anchor { get; } = anchor;

        public long NodesBefore { get; } = nodesBefore;

        public int Depth { get; } = depth;

        public bool IsMapping { get; } = isMapping;

        public int Deepest { get; set; } = depth;

        public int Children { get; set; }
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
