using System.Globalization;
using System.Text.RegularExpressions;

namespace Miaoya.Limits.Tests;

/// <summary>The "Limits and security" page's table (docs/security.md) says what the code enforces: every limit, with its value.</summary>
public sealed partial class LimitsPageTests
{
    [Fact]
    public void LimitsPage_ListsEveryLimit_WithTheValueInTheCode()
    {
        var readme = File.ReadAllLines(FindPage());
        var rows = readme.Select(l => Row().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups["key"].Value, m => long.Parse(m.Groups["value"].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture));

        var limits = new Dictionary<string, object> { ["Yaml"] = InputLimits.Yaml, ["Text"] = InputLimits.Text, ["Images"] = InputLimits.Images, ["Reports"] = InputLimits.Reports };
        foreach (var (group, value) in limits)
        {
            foreach (var property in value.GetType().GetProperties())
            {
                var key = $"{group}.{property.Name}";
                Assert.True(rows.TryGetValue(key, out var documented), $"docs/security.md lists no row for `{key}`");
                Assert.True(Convert.ToInt64(property.GetValue(value), CultureInfo.InvariantCulture) == documented, $"docs/security.md says `{key}` is {documented}, the code {property.GetValue(value)}");
            }
        }

        Assert.Equal(limits.Values.Sum(v => v.GetType().GetProperties().Length), rows.Count);
    }

    private static string FindPage()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "docs", "security.md");
            if (File.Exists(path) && File.Exists(Path.Combine(folder.FullName, "Miaoya.Orchestrator.sln")))
            {
                return path;
            }
        }

        throw new FileNotFoundException("docs/security.md of the repository not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^\| `(?<key>(Yaml|Text|Images|Reports)\.\w+)` \| (?<value>[\d,]+) ")]
    private static partial Regex Row();
}
