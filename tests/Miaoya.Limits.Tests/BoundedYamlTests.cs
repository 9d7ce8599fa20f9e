using System.Diagnostics;
using System.Text;
using CsCheck;
using Miaoya.TestSupport;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Limits.Tests;

public sealed class BoundedYamlTests
{
    private static readonly YamlLimits Limits = InputLimits.Yaml;

    /// <summary>Nesting of <paramref name="depth"/> flow lists around one scalar: <c>[[[x]]]</c>.</summary>
    private static string FlowLists(int depth) => new string('[', depth) + "x" + new string(']', depth);

    /// <summary>Nesting of <paramref name="depth"/> flow mappings: <c>{a: {a: x}}</c>.</summary>
    private static string FlowMappings(int depth)
    {
        var b = new StringBuilder(depth * 6);
        b.Insert(0, "{a: ", depth).Append('x').Append('}', depth);
        return b.ToString();
    }

    /// <summary>Nesting of <paramref name="depth"/> block mappings, two spaces per level.</summary>
    private static string BlockMappings(int depth)
    {
        var b = new StringBuilder();
        for (var i = 0; i < depth - 1; i++)
        {
            b.Append(' ', 2 * i).Append("a:\n");
        }

        return b.Append(' ', 2 * (depth - 1)).Append("a: x\n").ToString();
    }

    private static int Depth(YamlNode root, int cap = 1000) => YamlAliasGuard.Depth(root, cap);

    private static YamlLimitException Refused(string text)
    {
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<YamlLimitException>(() => BoundedYaml.Load(text));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"refusing took {watch.Elapsed}");
        return error;
    }

    [Theory]
    [InlineData("lists")]
    [InlineData("mappings")]
    [InlineData("block")]
    public void Load_NestingExactlyAtTheLimit_IsAccepted(string shape)
    {
        var text = shape switch
        {
            "lists" => FlowLists(Limits.MaxDepth),
            "mappings" => FlowMappings(Limits.MaxDepth),
            _ => BlockMappings(Limits.MaxDepth),
        };

        var stream = BoundedYaml.Load(text);

        Assert.Equal(Limits.MaxDepth, Depth(stream.Documents[0].RootNode));
    }

    [Fact]
    public void Load_FlowListsOneDeeperThanTheLimit_NamesTheOpenerPastIt()
    {
        var error = Refused(FlowLists(Limits.MaxDepth + 1));

        Assert.Equal(1, error.Start.Line);
        Assert.Equal(Limits.MaxDepth + 1, error.Start.Column);
        Assert.Contains("nested more than 64 deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BlockMappingsOneDeeperThanTheLimit_NamesTheLinePastIt()
    {
        var error = Refused(BlockMappings(Limits.MaxDepth + 1));

        // Line n holds the key of level n; the mapping of level 65 starts on line 65 at its indentation.
        Assert.Equal(Limits.MaxDepth + 1, error.Start.Line);
        Assert.Equal((2 * Limits.MaxDepth) + 1, error.Start.Column);
        Assert.Contains("nested more than 64 deep", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(25_000)]
    [InlineData(60_000)]
    public void Load_DeepFlowLists_AreRefusedQuickly(int depth)
    {
        var error = Refused(FlowLists(depth));

        Assert.Equal(Limits.MaxDepth + 1, error.Start.Column);
    }

    [Theory]
    [InlineData(25_000)]
    [InlineData(60_000)]
    public void Load_DeepFlowMappings_AreRefusedQuickly(int depth)
    {
        var text = FlowMappings(depth);
        if (text.Length > Limits.MaxDocumentChars)
        {
            // 60,000 levels of "{a: " pass the size limit first: refused all the same, before parsing.
            Assert.Contains("characters", Refused(text).Reason, StringComparison.Ordinal);
            text = FlowMappings(depth)[..Limits.MaxDocumentChars];
        }

        var error = Refused(text);

        Assert.Contains("nested more than 64 deep", error.Reason, StringComparison.Ordinal);
        Assert.Equal(1, error.Start.Line);
        Assert.Equal((4 * Limits.MaxDepth) + 1, error.Start.Column);
    }

    [Fact]
    public void Load_BillionLaughs_IsRefusedByTheNodeCount()
    {
        // Ten levels of ten aliases each: 10^10 values once expanded, 90 aliases, a few hundred characters.
        var b = new StringBuilder("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var level = 1; level < 10; level++)
        {
            b.Append($"l{level}: &l{level} [").AppendJoin(", ", Enumerable.Repeat($"*l{level - 1}", 10)).Append("]\n");
        }

        var error = Refused(b.ToString());

        Assert.Contains("more than 10,000 values", error.Reason, StringComparison.Ordinal);
        // l2 holds 1 + 10 × 111 = 1,111 values; the ninth alias of l3 (1,111 each) passes 10,000, on line 4.
        Assert.Equal(4, error.Start.Line);
    }

    [Fact]
    public void Load_MoreAliasesThanTheLimit_IsRefused()
    {
        var text = "a: &x v\nb: [" + string.Join(", ", Enumerable.Repeat("*x", Limits.MaxAliases + 1)) + "]\n";

        var error = Refused(text);

        Assert.Contains($"more than {Limits.MaxAliases} aliases", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AliasesUpToTheLimit_AreAccepted()
    {
        var text = "a: &x v\nb: [" + string.Join(", ", Enumerable.Repeat("*x", Limits.MaxAliases)) + "]\n";

        var root = (YamlMappingNode)BoundedYaml.Load(text).Documents[0].RootNode;

        Assert.Equal(Limits.MaxAliases, ((YamlSequenceNode)root["b"]).Children.Count);
    }

    [Fact]
    public void Load_ScalarOneOverTheLimit_IsRefused_AndOneAtItAccepted()
    {
        var atLimit = "a: " + new string('x', Limits.MaxScalarChars);
        var over = "a: " + new string('x', Limits.MaxScalarChars + 1);

        BoundedYaml.Load(atLimit);
        var error = Refused(over);

        Assert.Contains("a value of 8,193 characters; at most 8,192", error.Reason, StringComparison.Ordinal);
        Assert.Equal(1, error.Start.Line);
    }

    [Fact]
    public void Load_DocumentOverTheSizeLimit_IsRefusedBeforeParsing()
    {
        // Broken YAML after the limit: refused on size, not on syntax, so nothing was parsed.
        var text = "a: [" + new string('b', 100) + "\n" + new string('#', Limits.MaxDocumentChars) + "\n: : [[[";

        var error = Refused(text);

        Assert.Contains($"the document has {text.Length:N0} characters; at most 262,144", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DocumentAtTheSizeLimit_IsRead()
    {
        var line = "# " + new string('c', 98) + "\n";
        var b = new StringBuilder("a: 1\n");
        while (b.Length + line.Length <= Limits.MaxDocumentChars)
        {
            b.Append(line);
        }

        b.Append('#', Limits.MaxDocumentChars - b.Length);

        var root = (YamlMappingNode)BoundedYaml.Load(b.ToString()).Documents[0].RootNode;

        Assert.Equal(Limits.MaxDocumentChars, b.Length);
        Assert.Equal("1", root["a"].ToString());
    }

    [Theory]
    [InlineData(4, true)]
    [InlineData(5, false)]
    public void Load_AliasOfADeepSubtree_CountsTheDepthItReaches(int extraDepth, bool accepted)
    {
        // d is 60 lists deep; the alias stands for it under the root mapping and extraDepth - 1 lists, so the tree
        // reaches 1 + (extraDepth - 1) + 60 = 60 + extraDepth levels: 64 is accepted, 65 is not.
        var subtree = FlowLists(60);
        var text = $"d: &d {subtree}\nb: {new string('[', extraDepth - 1)}*d{new string(']', extraDepth - 1)}\n";

        if (accepted)
        {
            var root = BoundedYaml.Load(text).Documents[0].RootNode;
            Assert.Equal(Limits.MaxDepth, Depth(root));
        }
        else
        {
            var error = Refused(text);
            Assert.Contains("the alias *d nests lists and mappings more than 64 deep", error.Reason, StringComparison.Ordinal);
            Assert.Equal(2, error.Start.Line);
        }
    }

    [Fact]
    public void Load_OrdinaryDocument_LoadsEveryValue()
    {
        const string text = """
            name: test
            sizes: [512, 768]
            nested:
              list:
                - a
                - {b: c, d: [e, f]}
              anchored: &base {x: 1}
              again: *base
            text: |
              two
              lines
            """;

        var root = (YamlMappingNode)BoundedYaml.Load(text).Documents[0].RootNode;

        Assert.Equal("test", root["name"].ToString());
        Assert.Equal(2, ((YamlSequenceNode)root["sizes"]).Children.Count);
        var nested = (YamlMappingNode)root["nested"];
        Assert.Same(nested["anchored"], nested["again"]);
        Assert.Equal("two\nlines", ((YamlScalarNode)root["text"]).Value);
        Assert.Equal(5, Depth(root));
    }

    [Fact]
    public void Load_SyntaxError_IsAYamlExceptionWithItsPlace()
    {
        var error = Assert.ThrowsAny<YamlException>(() => BoundedYaml.Load("{a: b\nc: d}"));

        Assert.IsNotType<YamlLimitException>(error);
        Assert.Equal(2, error.Start.Line);
    }

    [Theory]
    [InlineData("a: [1, 2\nb: c")] // an unclosed flow list before the next key: YamlDotNet's scanner throws InvalidOperationException
    [InlineData("a: [b\nc: d]")]
    [InlineData("x: *a *b")] // two aliases in a row: YamlDotNet's parser emits a key without a value, its loader throws ArgumentException
    [InlineData(": *a&b *c")]
    public void Load_SyntaxErrorsYamlDotNetReportsWithOtherExceptions_AreYamlExceptions(string text)
    {
        var error = Record.Exception(() => BoundedYaml.Load(text));

        Assert.IsAssignableFrom<YamlException>(error);
    }

    [Theory]
    [InlineData("&a [*a]")]
    [InlineData("&a {x: *a}")]
    [InlineData("k: &a [x, [*a]]")]
    [InlineData("{&a [*a]: y}")] // Load overflows the stack hashing this key (the process ends): only ReadEvents is called here
    [InlineData("? &a [*a]\n: y")]
    public void ReadEvents_AliasInsideItsOwnAnchor_IsRefused(string text)
    {
        // YamlDotNet resolves the alias to the node still being read, so the tree would contain itself: every recursive
        // walk of it (hashing, AllNodes, our validators) never ends.
        Assert.NotNull(YamlAliasGuard.FirstUnsafeAlias(text));

        Assert.ThrowsAny<YamlException>(() => BoundedYaml.ReadEvents(text));
    }

    [Theory]
    [InlineData("&a [*a]")]
    [InlineData("&a {x: *a}")]
    public void Load_AliasInsideItsOwnAnchor_IsRefused(string text)
    {
        var error = Record.Exception(() => BoundedYaml.Load(text));

        Assert.IsAssignableFrom<YamlException>(error);
    }

    [Theory]
    [InlineData("[*a, &a v]")]
    [InlineData("*a : 1\nk: &a v")] // Load overflows the stack in YamlAliasNode.Equals (the process ends): only ReadEvents is called here
    [InlineData("{*a : 1, k: &a v}")]
    [InlineData("[{*a : 1}, &a v]")]
    public void ReadEvents_AliasBeforeItsAnchor_IsRefused(string text)
    {
        // YAML allows an alias only after its anchor; YamlDotNet resolves one before it anyway, past every count made here.
        Assert.NotNull(YamlAliasGuard.FirstUnsafeAlias(text));

        Assert.ThrowsAny<YamlException>(() => BoundedYaml.ReadEvents(text));
    }

    [Fact]
    public void Load_AliasBeforeItsDeepAnchor_DoesNotPassTheDepthLimit()
    {
        // The alias sits 11 levels down and names a subtree 60 deep defined after it: a tree 71 deep if it is resolved.
        var text = "[" + new string('[', 10) + "*a" + new string(']', 10) + ", &a " + FlowLists(60) + "]";

        var error = Record.Exception(() => BoundedYaml.Load(text));

        Assert.IsAssignableFrom<YamlException>(error);
    }

    [Fact]
    public void Load_BillionLaughsWithAliasesBeforeTheirAnchors_IsRefused()
    {
        // The billion laughs again, each level naming the one defined after it: 980 characters, 10^10 values once resolved.
        var b = new StringBuilder();
        for (var level = 9; level >= 1; level--)
        {
            b.Append($"k{level}: &l{level} {{").AppendJoin(", ", Enumerable.Range(0, 10).Select(i => $"m{i}: *l{level - 1}")).Append("}\n");
        }

        b.Append("k0: &l0 {a: lol, b: lol, c: lol, d: lol, e: lol, f: lol, g: lol, h: lol, i: lol, j: lol}\n");

        var error = Record.Exception(() => BoundedYaml.Load(b.ToString()));

        Assert.IsAssignableFrom<YamlException>(error);
    }

    [Fact]
    public void Load_AliasAfterItsAnchorClosed_IsAccepted()
    {
        var root = (YamlMappingNode)BoundedYaml.Load("a: &a [x]\nb: [*a, *a]\nc: &a y\nd: *a").Documents[0].RootNode;

        Assert.Same(root["a"], ((YamlSequenceNode)root["b"]).Children[0]);
        Assert.Equal("y", root["d"].ToString());
    }

    [Fact]
    public void LoadFile_FileOfDocument_LoadsIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"miaoya-yaml-{Guid.NewGuid():N}.yaml");
        try
        {
            File.WriteAllText(path, "a: [1, 2]\n");

            var root = (YamlMappingNode)BoundedYaml.LoadFile(path).Documents[0].RootNode;

            Assert.Equal(2, ((YamlSequenceNode)root["a"]).Children.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadFile_DeeplyNestedFile_IsRefusedWithItsPlace()
    {
        var path = Path.Combine(Path.GetTempPath(), $"miaoya-yaml-{Guid.NewGuid():N}.yaml");
        try
        {
            File.WriteAllText(path, "a: " + FlowLists(25_000));

            var error = Assert.Throws<YamlLimitException>(() => BoundedYaml.LoadFile(path));

            // The root mapping is the first level: the 64th '[' (after "a: ") is the 65th.
            Assert.Equal(3 + Limits.MaxDepth, error.Start.Column);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Loads <paramref name="text"/> and checks the contract: a tree no deeper than the limit, or a <see cref="YamlException"/>
    /// (a limit or a syntax error), never any other exception, and never slowly.
    /// </summary>
    internal static void LoadsOrRefuses(string text)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var events = BoundedYaml.ReadEvents(text);

            // YamlDotNet would resolve such an alias into a cyclic or unbounded tree (and overflow the stack, ending the
            // test process, when it is a mapping key): fail here instead of loading it.
            Assert.True(
                YamlAliasGuard.FirstUnsafeAlias(events) is null,
                $"accepted the alias at {YamlAliasGuard.FirstUnsafeAlias(events)?.Start}, which names a node not complete before it");
            var stream = BoundedYaml.Load(text);
            foreach (var document in stream.Documents)
            {
                var depth = Depth(document.RootNode, Limits.MaxDepth);
                Assert.True(depth <= Limits.MaxDepth, $"a tree {depth} deep was loaded");
            }
        }
        catch (YamlException)
        {
            // Refused: a limit or a syntax error, with its place.
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Load_RandomTextOfYamlPunctuation_LoadsOrThrowsYamlException()
    {
        Gen.Char["[]{},:-&*! \nab01"].Array[0, 400]
            .Select(chars => new string(chars))
            .Sample(LoadsOrRefuses, iter: 3000);
    }

    [Fact]
    public void Load_RandomTextWithAnchorsAndAliases_LoadsOrThrowsYamlException()
    {
        // Words that make anchors and aliases meet more often than random characters do.
        var token = Gen.OneOf(
            Gen.Const("&a "), Gen.Const("&b "), Gen.Const("*a"), Gen.Const("*b"), Gen.Const("["), Gen.Const("]"), Gen.Const("{"),
            Gen.Const("}"), Gen.Const(", "), Gen.Const(": "), Gen.Const("\n"), Gen.Const("\n  "), Gen.Const("- "), Gen.Const("x"),
            Gen.Const("y"), Gen.Const("? "), Gen.Const("!t "), Gen.Const("\"q\""), Gen.Const("---\n"), Gen.Const("|\n  z\n"));
        token.Array[0, 60]
            .Select(tokens => string.Concat(tokens))
            .Sample(LoadsOrRefuses, iter: 3000);
    }

    /// <summary>A random YAML value: scalars, flow and block lists and mappings, nested up to about 200 deep.</summary>
    internal static Gen<string> Nested(int maxDepth)
    {
        static string Indent(string text, int spaces) => text.Replace("\n", "\n" + new string(' ', spaces), StringComparison.Ordinal);

        var scalar = Gen.OneOf(Gen.Const("x"), Gen.Const("1"), Gen.Const("\"s\""), Gen.Const("~"), Gen.Const("&a v"), Gen.Const("*a"));
        return Gen.Int[0, maxDepth].SelectMany(depth => Gen.Int[0, 5].Array[depth].SelectMany(kinds => scalar.Select(leaf =>
        {
            var text = leaf;
            foreach (var kind in kinds)
            {
                text = kind switch
                {
                    0 => $"[{text}]",
                    1 => $"{{k: {text}}}",
                    2 => $"[a, {text}, b]",
                    3 => $"- {Indent(text, 2)}",
                    4 => $"k:\n  {Indent(text, 2)}",
                    _ => $"{{k: [{text}], &a j: *a}}",
                };
            }

            return text;
        })));
    }

    [Fact]
    public void Load_RandomNestingOfFlowAndBlockCollections_LoadsWithinTheDepthOrThrowsYamlException()
    {
        Nested(200).Sample(LoadsOrRefuses, iter: 500);
    }

    [Fact]
    public void Load_RandomNestingAroundTheLimit_RefusesExactlyWhatIsTooDeep()
    {
        // Flow lists and mappings only: always valid YAML, so the outcome is decided by the depth alone.
        Gen.Int[0, 1].Array[1, 130].Sample(kinds =>
        {
            var text = "x";
            foreach (var kind in kinds)
            {
                text = kind == 0 ? $"[{text}]" : $"{{k: {text}}}";
            }

            if (kinds.Length <= Limits.MaxDepth)
            {
                Assert.Equal(kinds.Length, Depth(BoundedYaml.Load(text).Documents[0].RootNode));
            }
            else
            {
                var error = Assert.Throws<YamlLimitException>(() => BoundedYaml.Load(text));
                Assert.Contains("nested more than 64 deep", error.Reason, StringComparison.Ordinal);
            }
        }, iter: 500);
    }
}

