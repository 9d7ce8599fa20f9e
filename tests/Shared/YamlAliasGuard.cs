using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Miaoya.TestSupport;

/// <summary>
/// Spots the YAML aliases that make YamlDotNet's representation model build a tree that is cyclic or larger than the
/// events say, so generative tests can fail on them instead of losing the test process to a stack overflow.
/// YamlDotNet resolves an alias to a list or mapping that is still open (<c>&amp;a [*a]</c>: the tree contains itself)
/// and to an anchor defined later in the document (<c>[*a, &amp;a v]</c>), and its <c>YamlAliasNode.Equals</c> recurses
/// without end when such a forward alias is a mapping key (<c>*a : 1\nk: &amp;a v</c>).
/// </summary>
public static class YamlAliasGuard
{
    /// <summary>The events of <paramref name="text"/> as YamlDotNet's parser gives them, or null when it throws.</summary>
    public static List<ParsingEvent>? TryParse(string text)
    {
        var events = new List<ParsingEvent>();
        try
        {
            var parser = new Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                events.Add(parser.Current!);
            }

            return events;
        }
#pragma warning disable CA1031 // Any failure of the parser means there is no tree to guard.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    /// <summary>
    /// The first alias that names an anchor whose list or mapping is still open, or an anchor first defined after it in
    /// the same document; null when every alias names a node already complete (or an anchor never defined).
    /// </summary>
    public static AnchorAlias? FirstUnsafeAlias(IReadOnlyList<ParsingEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var latest = new Dictionary<AnchorName, int>();
        var open = new Stack<int>();
        var openIds = new HashSet<int>();
        var next = 0;
        for (var i = 0; i < events.Count; i++)
        {
            switch (events[i])
            {
                case DocumentStart:
                    latest.Clear();
                    break;

                case AnchorAlias alias:
                    if (latest.TryGetValue(alias.Value, out var id) ? openIds.Contains(id) : DefinedLater(events, i, alias.Value))
                    {
                        return alias;
                    }

                    break;

                case Scalar { Anchor.IsEmpty: false } scalar:
                    latest[scalar.Anchor] = -1;
                    break;

                case NodeEvent { NestingIncrease: > 0 } start:
                    open.Push(++next);
                    openIds.Add(next);
                    if (!start.Anchor.IsEmpty)
                    {
                        latest[start.Anchor] = next;
                    }

                    break;

                case SequenceEnd or MappingEnd:
                    openIds.Remove(open.Pop());
                    break;
            }
        }

        return null;
    }

    /// <summary>The first unsafe alias of <paramref name="text"/> (see <see cref="FirstUnsafeAlias(IReadOnlyList{ParsingEvent})"/>), or null.</summary>
    public static AnchorAlias? FirstUnsafeAlias(string text) => TryParse(text) is { } events ? FirstUnsafeAlias(events) : null;

    /// <summary>The depth of a loaded tree in lists and mappings, walked with a stack and given up past <paramref name="cap"/>.</summary>
    public static int Depth(YamlNode root, int cap = 1000)
    {
        ArgumentNullException.ThrowIfNull(root);
        var deepest = 0;
        var pending = new Stack<(YamlNode Node, int Depth)>();
        pending.Push((root, 0));
        while (pending.TryPop(out var item))
        {
            var (node, depth) = item;
            IEnumerable<YamlNode> children = node switch
            {
                YamlSequenceNode s => s.Children,
                YamlMappingNode m => m.Children.SelectMany(c => (YamlNode[])[c.Key, c.Value]),
                _ => [],
            };
            if (node is YamlSequenceNode or YamlMappingNode)
            {
                depth++;
                deepest = Math.Max(deepest, depth);
                if (deepest > cap)
                {
                    return deepest;
                }
            }

            foreach (var child in children)
            {
                pending.Push((child, depth));
            }
        }

        return deepest;
    }

    private static bool DefinedLater(IReadOnlyList<ParsingEvent> events, int from, AnchorName name)
    {
        for (var i = from + 1; i < events.Count && events[i] is not DocumentEnd; i++)
        {
            if (events[i] is NodeEvent node && node.Anchor.Equals(name))
            {
                return true;
            }
        }

        return false;
    }
}
