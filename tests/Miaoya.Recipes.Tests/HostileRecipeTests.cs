using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsCheck;
using Miaoya.Limits;
using Miaoya.TestSupport;
using YamlDotNet.Core;

namespace Miaoya.Recipes.Tests;

/// <summary>
/// Recipes and overrides from someone hostile or careless: every refusal is a problem naming its place or field, nothing
/// throws, nothing is slow. Before the input limits a 25,000-deep <c>[[[...]]]</c> recipe overflowed the stack.
/// </summary>
public sealed class HostileRecipeTests
{
    private const string Source = "recipes/test.yaml";

    private static readonly string V1Face = RecipeLoader.ReadBuiltIn("v1-face").TrimEnd('\n');

    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>The 1-based line of the first occurrence of <paramref name="text"/>.</summary>
    private static int LineOf(string yaml, string text) => yaml[..yaml.IndexOf(text, StringComparison.Ordinal)].Count(c => c == '\n') + 1;

    /// <summary>Validates, failing on any exception and on taking longer than <paramref name="seconds"/>.</summary>
    private static IReadOnlyList<RecipeProblem> Validate(string yaml, IEnumerable<string>? overrides = null, double seconds = 6)
    {
        var watch = Stopwatch.StartNew();
        var problems = RecipeLoader.Validate(yaml, Source, overrides);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(seconds), $"validating took {watch.Elapsed}");
        return problems;
    }

    [Fact]
    public void Validate_BuiltInV1Face_HasNoProblems()
    {
        Assert.Empty(Validate(V1Face));
    }

    [Fact]
    public void Validate_KeyNested25000Deep_IsOneProblemAtTheOpenerPastTheLimit()
    {
        var yaml = V1Face + "\nfoo: " + Deep(25_000);

        var problem = Assert.Single(Validate(yaml));

        // "foo: " then '[': the root mapping is level 1, so the 64th '[' (column 6 + 63) is level 65.
        Assert.Equal(new RecipeProblem(Source, LineOf(yaml, "foo:"), 69, string.Empty, "over the input limits: lists and mappings nested more than 64 deep"), problem);
    }

    [Theory]
    [InlineData("{a: ")]
    [InlineData("- ")]
    public void Validate_OtherDeepNesting_IsOneProblem(string opener)
    {
        var nesting = opener == "- "
            ? string.Concat(Enumerable.Range(0, 200).Select(i => "\n" + new string(' ', 2 + i) + "- ")) + "x"
            : string.Concat(Enumerable.Repeat(opener, 25_000)) + "x" + new string('}', 25_000);
        var yaml = V1Face + "\nfoo: " + nesting;

        var problem = Assert.Single(Validate(yaml));

        Assert.Contains("nested more than 64 deep", problem.Message, StringComparison.Ordinal);
        Assert.True(problem.Line >= LineOf(yaml, "foo:"), problem.ToString());
    }

    [Fact]
    public void Validate_Override60000Deep_IsAProblemOfTheOverride()
    {
        var problem = Assert.Single(Validate(V1Face, ["interrogate.exclude=" + Deep(60_000)]));

        Assert.Equal(RecipeProblem.OverrideSource, problem.Source);
        Assert.True(problem.IsOverride);
        Assert.Contains("interrogate.exclude=[[[", problem.Path, StringComparison.Ordinal);
        Assert.Contains($"120,020 characters; at most {InputLimits.Text.MaxOverrideChars:N0} are accepted", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OverrideNestedPastTheDepthLimitWithinItsLength_IsAProblemNamingTheField()
    {
        var problem = Assert.Single(Validate(V1Face, ["interrogate.exclude=" + Deep(400)]));

        Assert.Equal(new RecipeProblem(RecipeProblem.OverrideSource, 0, 0, "interrogate.exclude", problem.Message), problem);
        Assert.Contains("is not valid YAML: over the input limits: lists and mappings nested more than 64 deep", problem.Message, StringComparison.Ordinal);
        Assert.Contains("… (800 characters)", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_200KilobytesOfUnknownKeys_ListsFiftyProblemsAndCountsTheRest()
    {
        var b = new StringBuilder(V1Face).Append('\n');
        var keys = 0;
        while (b.Length < 200 * 1024)
        {
            b.Append(CultureInfo.InvariantCulture, $"unknown_key_number_{keys++:D5}_of_a_long_hostile_file: 1\n");
        }

        var problems = Validate(b.ToString());

        Assert.Equal(InputLimits.Reports.MaxProblems + 1, problems.Count);
        Assert.All(problems.Take(50), p => Assert.Contains("unknown key", p.Message, StringComparison.Ordinal));
        Assert.Equal(new RecipeProblem(Source, 0, 0, string.Empty, $"... and {keys - 50:N0} more problems (the first 50 are listed)"), problems[^1]);
    }

    [Fact]
    public void Validate_200KilobytesOfShortUnknownKeys_IsOneProblemOfTheNodeLimit()
    {
        var b = new StringBuilder(V1Face).Append('\n');
        for (var i = 0; b.Length < 200 * 1024; i++)
        {
            b.Append(CultureInfo.InvariantCulture, $"k{i}: 1\n");
        }

        var problem = Assert.Single(Validate(b.ToString()));

        Assert.Contains("more than 10,000 values", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../../evil")]
    [InlineData("/abs")]
    [InlineData(".hidden")]
    [InlineData("..")]
    [InlineData("-rf")]
    [InlineData("a/b")]
    [InlineData("a\\\\b")]
    [InlineData("two words")]
    [InlineData("C:x")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123x")]
    public void Validate_NameThatIsNoFolderName_IsAProblemNamingName(string name)
    {
        var yaml = V1Face.Replace("name: v1-face", $"name: \"{name}\"", StringComparison.Ordinal);

        var problem = Assert.Single(Validate(yaml));

        Assert.Equal("name", problem.Path);
        Assert.Equal(LineOf(yaml, "name:"), problem.Line);
        Assert.Contains("is not a recipe name", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1-face")]
    [InlineData("a")]
    [InlineData("9.b_c-D")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123")]
    public void Validate_FolderSafeName_IsAccepted(string name)
    {
        Assert.Equal(name, RecipeLoader.Parse(V1Face.Replace("name: v1-face", $"name: \"{name}\"", StringComparison.Ordinal), Source).Name);
    }

    [Fact]
    public void Validate_AnyName_IsAcceptedExactlyWhenFolderSafe()
    {
        // Any characters but surrogates, written as YAML escapes so that the name is exactly these characters.
        var names = Gen.Frequency(
            (3, Gen.Char.Where(c => !char.IsSurrogate(c)).Array[0, 70].Select(c => new string(c))),
            (2, Gen.Char["abz09.-_/\\ \u001b"].Array[0, 70].Select(c => new string(c))));
        names.Sample(
            name =>
            {
                var escaped = string.Concat(name.Select(c => $"\\u{(int)c:x4}"));
                var yaml = V1Face.Replace("name: v1-face", $"name: \"{escaped}\"", StringComparison.Ordinal);
                var problems = Validate(yaml);
                var safe = name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0])
                    && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
                if (safe)
                {
                    Assert.Empty(problems);
                }
                else
                {
                    var problem = Assert.Single(problems);
                    Assert.Equal("name", problem.Path);
                    Assert.DoesNotContain('\u001b', problem.ToString());
                }
            },
            iter: 300);
    }

    [Fact]
    public void Validate_ThreeMegabytePrompt_IsRefusedBySize()
    {
        var yaml = V1Face.Replace("best quality,", new string('x', 3 * 1024 * 1024), StringComparison.Ordinal);

        var problem = Assert.Single(Validate(yaml));

        Assert.Contains($"the document has {yaml.Length:N0} characters; at most 262,144 are accepted", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ThreeMegabyteRecipeFile_IsRefusedBySizeUnread()
    {
        var path = Path.Combine(Path.GetTempPath(), $"miaoya-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, V1Face.Replace("best quality,", new string('x', 3 * 1024 * 1024), StringComparison.Ordinal));
        try
        {
            var problem = Assert.Single(Assert.Throws<RecipeException>(() => RecipeLoader.Load(path)).Problems);

            Assert.Equal(path, problem.Source);
            Assert.Contains("bytes; at most 1,048,576 are accepted", problem.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(4000, false)]
    [InlineData(4001, true)]
    [InlineData(5000, true)]
    public void Validate_LongPositivePrompt_IsAProblemNamingTheField(int length, bool refused)
    {
        var prompt = new string('p', length);
        var yaml = V1Face.Replace("best quality, masterpiece, ultra high res, (photorealistic:1.4), RAW photo", prompt, StringComparison.Ordinal);

        var problems = Validate(yaml);

        if (refused)
        {
            Assert.Equal(new RecipeProblem(Source, LineOf(yaml, "positive:"), 13, "prompt.positive", $"{length:N0} characters; at most 4,000 are accepted"), Assert.Single(problems));
        }
        else
        {
            Assert.Empty(problems);
        }
    }

    [Fact]
    public void Validate_OverrideLongerThanTheOverrideLimit_IsAProblemOfTheOverride()
    {
        var set = "prompt.positive=" + new string('p', InputLimits.Text.MaxOverrideChars);

        var problem = Assert.Single(Validate(V1Face, [set]));

        Assert.True(problem.IsOverride);
        Assert.StartsWith("prompt.positive=ppp", problem.Path, StringComparison.Ordinal);
        Assert.Contains($"{set.Length:N0} characters; at most {InputLimits.Text.MaxOverrideChars:N0} are accepted", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OverrideOfAPromptOverThePromptLimit_IsAProblemNamingTheField()
    {
        var length = InputLimits.Text.MaxTextChars + 1;
        var set = "prompt.positive=" + new string('p', length);
        Assert.True(set.Length <= InputLimits.Text.MaxOverrideChars, "an override may hold a whole prompt");

        var problem = Assert.Single(Validate(V1Face, [set]));

        Assert.Equal(new RecipeProblem(RecipeProblem.OverrideSource, 0, 0, "prompt.positive", $"{length:N0} characters; at most 4,000 are accepted"), problem);
    }

    [Theory]
    [InlineData("face_words: [detailed face,", "face_words: [\"soft\\e[31mlight\", detailed face,", "prompt.face_words[0]")]
    [InlineData("exclude: [black hair,", "exclude: [\"black\\ehair\",", "interrogate.exclude[0]")]
    [InlineData("positive: \"best quality,", "positive: \"\\e]0;owned\\a best quality,", "prompt.positive")]
    [InlineData("base_model: chilloutmix_NiPrunedFp32Fix", "base_model: \"\\u202echilloutmix_NiPrunedFp32Fix\"", "base_model")]
    [InlineData("name: v1-face", "name: \"v1\\e[2J-face\"", "name")]
    public void Validate_TerminalEscapeInText_IsAProblemNamingTheField_AndIsNotEchoed(string original, string hostile, string field)
    {
        var yaml = V1Face.Replace(original, hostile, StringComparison.Ordinal);
        Assert.NotEqual(V1Face, yaml);

        var problem = Assert.Single(Validate(yaml));

        Assert.Equal(field, problem.Path);
        Assert.DoesNotContain('\u001b', problem.ToString());
        Assert.DoesNotContain('\u0007', problem.ToString());
        Assert.DoesNotContain('\u202e', problem.ToString());
    }

    [Fact]
    public void Validate_TerminalEscapeInAnOverride_IsAProblemOfTheOverride_AndIsNotEchoed()
    {
        var problem = Assert.Single(Validate(V1Face, ["prompt.face_words=soft\u001b[31mlight"]));

        Assert.True(problem.IsOverride);
        Assert.Contains("control character \\u001b", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', problem.ToString());
    }

    [Fact]
    public void Validate_65Overrides_IsOneProblem_And64AreAccepted()
    {
        var sixtyFour = Enumerable.Repeat("inpaint.steps=31", 64).ToArray();

        Assert.Empty(Validate(V1Face, sixtyFour));
        var problem = Assert.Single(Validate(V1Face, [.. sixtyFour, "inpaint.steps=32"]));

        Assert.True(problem.IsOverride);
        Assert.Contains("more than 64 overrides", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ListOf65Words_IsAProblemNamingTheList()
    {
        var words = string.Join(", ", Enumerable.Range(0, 65).Select(i => $"w{i}"));
        var yaml = V1Face.Replace("face_words: [detailed face, detailed eyes, natural skin texture]", $"face_words: [{words}]", StringComparison.Ordinal);

        var problem = Assert.Single(Validate(yaml));

        Assert.Equal("prompt.face_words", problem.Path);
        Assert.Contains("65 items; at most 64", problem.Message, StringComparison.Ordinal);
    }

    // Found by the generative tests below; each one threw out of Validate (or ended the process) on main.

    [Fact]
    public void Validate_UnclosedFlowListBeforeTheNextKey_IsAProblem()
    {
        // Forgetting one ']' in the shipped recipe: YamlDotNet's scanner throws InvalidOperationException.
        var yaml = V1Face.Replace("natural skin texture]", "natural skin texture", StringComparison.Ordinal);

        var problems = Record.Exception(() => Assert.NotEmpty(Validate(yaml)));

        Assert.Null(problems);
    }

    [Fact]
    public void Validate_TwoAliasesInARow_IsAProblem()
    {
        // YamlDotNet's parser gives the mapping a key without a value; the duplicate-key walk runs past its end.
        var error = Record.Exception(() => Assert.NotEmpty(Validate(V1Face + "\nx: *a *b")));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_OverrideWhoseValueContainsItself_IsAProblemOfTheOverride()
    {
        // [&a [*a]]: YamlDotNet resolves *a to the list still being read, so the value contains itself.
        var error = Record.Exception(() =>
        {
            var problem = Assert.Single(Validate(V1Face, ["interrogate.exclude=[&a [*a]]"]));
            Assert.True(problem.IsOverride);
        });

        Assert.Null(error);
    }

    [Fact]
    public void Validate_SectionThatContainsItself_IsAProblemAtTheAlias()
    {
        var yaml = V1Face + "\nfoo: &a {x: *a}";

        var problems = Validate(yaml);

        Assert.Contains(problems, p => p.Line == LineOf(yaml, "foo:") && p.Message.Contains("alias", StringComparison.OrdinalIgnoreCase));

        // Only once the reader refuses it is it safe to add an override: looking for a near path then walks the cycle
        // (Overrides.CollectPaths) until the stack overflows and the process ends.
        var withOverride = Validate(yaml, ["no.such.field=1"]);
        Assert.NotEmpty(withOverride);
    }

    [Theory]
    [InlineData("\n*a : 1\nfoo: &a v")] // as a mapping key, YamlAliasNode.Equals recurses until the stack overflows
    [InlineData("\nfoo: [[[[[[[[*a]]]]]]]]\nbar: &a [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")]
    public void Validate_AliasBeforeItsAnchor_IsAProblem(string tail)
    {
        var yaml = V1Face + tail;

        // Guard: unless the limits refuse it, Validate would end the test process (first case) or pass the depth limit.
        Assert.ThrowsAny<YamlException>(() => BoundedYaml.ReadEvents(yaml));

        Assert.Contains(Validate(yaml), p => p.Line > LineOf(yaml, "controlnet:"));
    }

    [Fact]
    public void Validate_BillionLaughsWithAliasesBeforeTheirAnchors_AndAnUnknownOverride_IsQuick()
    {
        // 980 characters that resolve to 10^10 values: looking for a near path walked them all (minutes of CPU).
        var b = new StringBuilder(V1Face).Append("\nfoo:\n");
        for (var level = 9; level >= 1; level--)
        {
            b.Append(CultureInfo.InvariantCulture, $"  k{level}: &l{level} {{").AppendJoin(", ", Enumerable.Range(0, 10).Select(i => $"m{i}: *l{level - 1}")).Append("}\n");
        }

        b.Append("  k0: &l0 {a: lol, b: lol, c: lol, d: lol, e: lol, f: lol, g: lol, h: lol, i: lol, j: lol}\n");
        var yaml = b.ToString();

        // Guard: unless the limits refuse it, the next call would not return for minutes.
        Assert.ThrowsAny<YamlException>(() => BoundedYaml.ReadEvents(yaml));

        Assert.NotEmpty(Validate(yaml, ["no.such.field=1"]));
    }

    // Generative tests.

    /// <summary>
    /// Validates text that may hold aliases YamlDotNet turns into cyclic trees; when the limits let such an alias through,
    /// fails instead of calling Validate (which would end the test process with a stack overflow).
    /// </summary>
    private static IReadOnlyList<RecipeProblem> ValidateGuarded(string yaml, IReadOnlyList<string>? overrides = null)
    {
        Guard(yaml, "the recipe");
        foreach (var text in overrides ?? [])
        {
            var value = text[(text.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim();
            if (value.Length > 0 && value[0] is '[' or '{' or '"' or '\'')
            {
                Guard(value, "the override " + text);
            }
        }

        return Validate(yaml, overrides, seconds: 3);
    }

    private static void Guard(string yaml, string what)
    {
        // Only what the limits accept can reach the tree builder; the guard's own unbounded parse is slow on what they refuse.
        if (Record.Exception(() => BoundedYaml.ReadEvents(yaml)) is YamlException)
        {
            return;
        }

        if (YamlAliasGuard.FirstUnsafeAlias(yaml) is { } alias)
        {
            Assert.Fail($"{what} has an alias inside or before its anchor at {alias.Start} that the limits let through");
        }
    }

    /// <summary>One random edit of a recipe's text.</summary>
    public sealed record Edit(int Kind, double Where, double Other, string Text, int Depth)
    {
        public string Apply(string yaml)
        {
            var lines = yaml.Split('\n').ToList();
            var line = Math.Min((int)(Where * lines.Count), lines.Count - 1);
            var at = Math.Min((int)(Where * yaml.Length), yaml.Length);
            switch (Kind)
            {
                case 0:
                    return yaml.Insert(at, Text);
                case 1:
                    lines.Insert(line, lines[line]);
                    break;
                case 2:
                    lines.RemoveAt(line);
                    break;
                case 3:
                    var other = Math.Min((int)(Other * lines.Count), lines.Count - 1);
                    (lines[line], lines[other]) = (lines[other], lines[line]);
                    break;
                case 4:
                    lines[line] = Other < 0.5 ? "  " + lines[line] : lines[line].TrimStart();
                    break;
                case 5:
                    return yaml.Insert(at, new string('[', Depth) + (Other < 0.5 ? new string(']', Depth) : string.Empty));
                case 6:
                    return yaml.Insert(at, string.Concat(Enumerable.Repeat("{a: ", Depth)) + "x" + new string('}', Other < 0.5 ? Depth : 0));
                default:
                    lines.Insert(line, new string(' ', (int)(Other * 8)) + Text.Replace("\n", " ", StringComparison.Ordinal) + ":" + (Depth % 2 == 0 ? " v" : string.Empty));
                    break;
            }

            return string.Join('\n', lines);
        }
    }

    private static readonly Gen<string> Punctuation = Gen.Char["[]{},:-&*!|>'\"#%@`? \n\tab1"].Array[1, 12].Select(c => new string(c));

    private static readonly Gen<Edit> AnyEdit = Gen.Select(
        Gen.Int[0, 7], Gen.Double[0, 1], Gen.Double[0, 1], Punctuation, Gen.Frequency((4, Gen.Int[1, 80]), (1, Gen.Int[60, 30_000])),
        (k, w, o, t, d) => new Edit(k, w, o, t, d));

    [Fact]
    public void Validate_RandomEditsOfTheBuiltInRecipe_ReturnProblemsAndNeverThrow()
    {
        AnyEdit.Array[1, 6]
            .Select(edits => edits.Aggregate(V1Face, (yaml, edit) => edit.Apply(yaml)))
            .Sample(
                yaml =>
                {
                    var problems = ValidateGuarded(yaml);
                    Assert.True(problems.Count <= InputLimits.Reports.MaxProblems + 1, $"{problems.Count} problems");
                    Assert.All(problems, p => Assert.True(p.Line >= 0 && p.Column >= 0, p.ToString()));
                },
                iter: 400);
    }

    [Fact]
    public void Parse_RandomEditsThatStillValidate_RoundTrip()
    {
        // Edits that keep a recipe valid (swapped or duplicated comment lines, moved whitespace) must not change what it
        // means, and what is written back must read the same.
        AnyEdit.Array[1, 3]
            .Select(edits => edits.Aggregate(V1Face, (yaml, edit) => edit.Apply(yaml)))
            .Sample(
                yaml =>
                {
                    if (ValidateGuarded(yaml).Count > 0)
                    {
                        return;
                    }

                    var recipe = RecipeLoader.Parse(yaml, Source);
                    var written = RecipeYaml.Write(recipe);
                    var again = RecipeLoader.Parse(written, Source);
                    Assert.Equal(recipe, again);
                    Assert.Equal(written, RecipeYaml.Write(again));
                },
                iter: 400);
    }

    private static readonly string[] Paths =
    [
        "name", "description", "pipeline", "base_model", "interrogate.threshold", "interrogate.exclude", "interrogate.include",
        "interrogate.max_tags", "prompt.lora_weight", "prompt.face_words", "prompt.face_words.0", "prompt.positive", "mask.kind",
        "mask.grow", "mask.file", "inpaint.steps", "inpaint.width", "inpaint.controlnet", "inpaint.controlnet.softedge.weight",
        "inpaint.controlnet.softedge", "img2img.steps", "no.such", "", ".", "..", "a..b", "interrogate..exclude",
        "prompt.face_words.99", "prompt.face_words.-1", "inpaint.controlnet.reference.model",
    ];

    /// <summary>Random flow YAML: lists and mappings to <paramref name="depth"/>, some anchored, some leaves aliases.</summary>
    private static Gen<string> Flow(int depth, bool anchored = true)
    {
        var leaf = Gen.OneOf("x", "1", "*a", "*b", "''", "null", "a b");
        if (depth == 0)
        {
            return leaf;
        }

        var anchor = anchored ? Gen.OneOf("", "", "&a ", "&b ") : Gen.Const(string.Empty);
        var items = Gen.Frequency((2, leaf), (1, Flow(depth - 1))).Array[0, 3];
        var list = Gen.Select(anchor, items, (a, i) => $"{a}[{string.Join(", ", i)}]");
        var map = Gen.Select(anchor, items, (a, i) => $"{a}{{{string.Join(", ", i.Select((v, k) => $"k{k}: {v}"))}}}");
        return Gen.OneOf(list, map);
    }

    private static readonly Gen<string> AnyOverride = Gen.Select(
        Gen.Frequency((4, Gen.OneOf(Paths)), (1, Gen.Char["abz._0 -=\u001b"].Array[0, 20].Select(c => new string(c)))),
        Gen.OneOf(Gen.Const("="), Gen.Const(" = "), Gen.Const(""), Gen.Const("==")),
        Gen.Frequency(
            (3, Gen.Char["[]{},:-&*!|'\" ab1"].Array[0, 40].Select(c => new string(c))),
            (2, Gen.OneOf("[", "]", "{", "}", "&a ", "*a", ", ", ": ", "x", "? ").Array[1, 16].Select(string.Concat)),
            (2, Flow(4, anchored: false)),
            (1, Gen.Int[1, 600].Select(d => new string('[', d) + "x" + new string(']', d))),
            (1, Gen.OneOf(Gen.Const("0.5"), Gen.Const("null"), Gen.Const("~"), Gen.Const("face_neck"), Gen.Const("a, b, c"), Gen.Const("NaN"), Gen.Const("1e309"),
                Gen.Const("-0"), Gen.Const("[a, b]"), Gen.Const("{a: 1}"), Gen.Const("'quoted'"), Gen.Const("\"x\\e\""), Gen.Const("[&a x, *a]")))),
        (path, equals, value) => path + equals + value);

    [Fact]
    public void Validate_RandomOverrides_ReturnProblemsAndNeverThrow()
    {
        AnyOverride.Array[0, 8].Sample(
            overrides =>
            {
                var problems = ValidateGuarded(V1Face, overrides);
                Assert.True(problems.Count <= InputLimits.Reports.MaxProblems + 1, $"{problems.Count} problems");
                Assert.All(problems, p => Assert.DoesNotContain('\u001b', p.ToString()));
            },
            iter: 600);
    }

    [Fact]
    public void Parse_RandomOverridesThatValidate_RoundTrip()
    {
        AnyOverride.Array[1, 4].Sample(
            overrides =>
            {
                if (ValidateGuarded(V1Face, overrides).Count > 0)
                {
                    return;
                }

                var recipe = RecipeLoader.Parse(V1Face, Source, overrides);
                var again = RecipeLoader.Parse(RecipeYaml.Write(recipe), Source);
                Assert.Equal(recipe, again);
            },
            iter: 600);
    }
}
