using Microsoft.Extensions.Configuration;

namespace Miaoya.WebUi.Tests;

/// <summary>
/// Settings from the environment are checked in full before anything binds them: MIAOYA_WebUi__ControlRetries=abc used to
/// be an unhandled InvalidOperationException (exit 1, stack trace) from the binder, which also stops at the first bad
/// value and ignores a misspelt key.
/// </summary>
public sealed class ConfigurationCheckTests
{
    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void WebUiProblems_ListsEveryBadValueAndUnknownKey_AtOnce()
    {
        var problems = ConfigurationCheck.WebUiProblems(Settings(
            ("WebUi:ControlRetries", "abc"),
            ("WebUi:GenerationTimeout", "soon"),
            ("WebUi:ValidateNames", "maybe"),
            ("WebUi:ControlRetrys", "3"),
            ("WebUi:BaseUrl", "http://gpu-1:7860")));

        // In the configuration's key order (sorted), every problem at once.
        Assert.Equal(
            [
                "WebUi:ControlRetries: 'abc' is not a whole number.",
                "WebUi:ControlRetrys: unknown setting; known: BaseUrl, Username, Password, ControlAttemptTimeout, ControlRetries, ControlRetryDelay, GenerationTimeout, BreakerFailureRatio, BreakerMinimumThroughput, BreakerSamplingDuration, BreakerBreakDuration, ValidateNames, CapabilitiesLifetime.",
                "WebUi:GenerationTimeout: 'soon' is not a duration such as 00:00:05 (hh:mm:ss).",
                "WebUi:ValidateNames: 'maybe' is not true or false.",
            ],
            problems);
    }

    [Fact]
    public void WebUiProblems_ValuesOfTheRightTypeButOutOfRange_AreTheOptionsOwnRules()
    {
        var problems = ConfigurationCheck.WebUiProblems(Settings(("WebUi:ControlRetries", "99"), ("WebUi:Username", "only-a-user")));

        Assert.Contains(problems, p => p.Contains("ControlRetries", StringComparison.Ordinal) && p.Contains("between 0 and 10", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Username/Password: give both", StringComparison.Ordinal));
    }

    [Fact]
    public void WebUiProblems_NoSettings_IsClean() => Assert.Empty(ConfigurationCheck.WebUiProblems(Settings()));

    [Fact]
    public void Problems_ListsAndNestedSections_AreWalked()
    {
        var problems = ConfigurationCheck.Problems(
            Settings(("Fleet:Boxes:0:Url", "http://gpu-1:7860"), ("Fleet:Boxes:0:MaxConcurrent", "two"), ("Fleet:Boxes:x:Url", "http://b"), ("Fleet:HealthInterval", "5s")).GetSection("Fleet"),
            typeof(Options));

        Assert.Equal(
            [
                "Fleet:Boxes:0:MaxConcurrent: 'two' is not a whole number.",
                "Fleet:Boxes:x: list items are numbered from 0 (Fleet:Boxes:0, Fleet:Boxes:1, ...).",
                "Fleet:HealthInterval: '5s' is not a duration such as 00:00:05 (hh:mm:ss).",
            ],
            problems);
    }

    [Fact]
    public void Problems_ValueWithControlCharacters_IsQuotedEscaped()
    {
        var problem = Assert.Single(ConfigurationCheck.Problems(Settings(("S:Count", "1\u001b[2J")).GetSection("S"), typeof(Options.Box)));

        Assert.Contains("\\u001b[2J", problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', problem);
    }

    private sealed class Options
    {
        public IList<Box> Boxes { get; } = [];

        public TimeSpan HealthInterval { get; set; }

        public sealed class Box
        {
            public Uri? Url { get; set; }

            public int MaxConcurrent { get; set; }

            public int Count { get; set; }
        }
    }
}
