using System.Text.RegularExpressions;

namespace Miaoya.Cli.Tests;

/// <summary>
/// The README and the docs/ pages link to each other and to the repository's files: every relative link names a file
/// that exists and, with an anchor, a heading of that file (GitHub's anchors: lower case, punctuation dropped, spaces
/// as dashes), and the README links every docs page.
/// </summary>
public sealed partial class DocumentationLinksTests
{
    private static readonly DirectoryInfo Root = FindRoot();

    public static TheoryData<string> Pages() =>
        new(["README.md", .. Directory.GetFiles(Path.Combine(Root.FullName, "docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f)).Order(StringComparer.Ordinal)]);

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryRelativeLink_NamesAFileAndAHeadingThatExist(string page)
    {
        var path = Path.Combine(Root.FullName, page);
        var broken = new List<string>();
        foreach (Match link in Link().Matches(WithoutCode(File.ReadAllText(path))))
        {
            var target = link.Groups["target"].Value;
            if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var file = hash < 0 ? target : target[..hash];
            var resolved = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, file));
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add($"{target}: no such file");
            }
            else if (hash >= 0 && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(resolved).Contains(target[(hash + 1)..]))
            {
                broken.Add($"{target}: no such heading in {Path.GetRelativePath(Root.FullName, resolved)}");
            }
        }

        Assert.True(broken.Count == 0, $"{page}: " + string.Join("; ", broken));
    }

    [Fact]
    public void TheReadme_LinksEveryDocsPage()
    {
        var readme = File.ReadAllText(Path.Combine(Root.FullName, "README.md"));

        Assert.All(Directory.GetFiles(Path.Combine(Root.FullName, "docs"), "*.md"), f => Assert.Contains($"](docs/{Path.GetFileName(f)}", readme, StringComparison.Ordinal));
    }

    private static HashSet<string> Anchors(string file) =>
        WithoutCode(File.ReadAllText(file)).Split('\n')
            .Where(l => Heading().IsMatch(l))
            .Select(l => Punctuation().Replace(l.TrimStart('#').Trim().ToLowerInvariant(), "").Replace(' ', '-'))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The text without fenced code blocks, whose '#' lines and brackets are not headings or links.</summary>
    private static string WithoutCode(string text) => Fence().Replace(text.Replace("\r\n", "\n", StringComparison.Ordinal), "");

    private static DirectoryInfo FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && File.Exists(Path.Combine(dir.FullName, "Miaoya.Orchestrator.sln")))
            {
                return dir;
            }
        }

        throw new DirectoryNotFoundException("the repository root is not above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^#{1,6} ")]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\w\- ]")]
    private static partial Regex Punctuation();

    [GeneratedRegex(@"^```[^\n]*\n.*?^```[ \t]*$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();
}
