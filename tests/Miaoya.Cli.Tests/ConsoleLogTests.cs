using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Miaoya.Hosting;

namespace Miaoya.Cli.Tests;

/// <summary>What the console log makes of user text and failures: one line each, nothing a terminal would obey.</summary>
public sealed class ConsoleLogTests
{
    private static string Write(string message, Exception? exception, bool stackTraces)
    {
        var formatter = new ConsoleLog.OneLineFormatter(new Monitor(new ConsoleLog.OneLineFormatterOptions { StackTraces = stackTraces }));
        using var writer = new StringWriter();
        var entry = new LogEntry<string>(LogLevel.Warning, "Miaoya.Runner.JobWorker", default, message, exception, (s, _) => s);
        formatter.Write(in entry, null, writer);
        return writer.ToString();
    }

    private static InvalidOperationException Thrown()
    {
        try
        {
            throw new InvalidOperationException("box said \u001b[2Jno");
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }

    [Fact]
    public void Write_UserTextWithEscapesAndNewlines_IsOneEscapedLine()
    {
        var line = Write("Job queued (recipe \u001b[31mred\nfake: line)", null, stackTraces: false);

        Assert.Matches(@"^\d\d:\d\d:\d\d warn JobWorker: Job queued \(recipe \\u001b\[31mred \| fake: line\)\r?\n$", line);
    }

    [Fact]
    public void Write_Exception_IsItsTypeAndMessage_WithoutTheStackTrace()
    {
        var line = Write("step failed", Thrown(), stackTraces: false);

        Assert.EndsWith("step failed (InvalidOperationException: box said \\u001b[2Jno)" + Environment.NewLine, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_ExceptionWhenVerbose_KeepsTheStackTrace()
    {
        var text = Write("step failed", Thrown(), stackTraces: true);

        Assert.Contains("   at Miaoya.Cli.Tests.ConsoleLogTests.Thrown()", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', text);
    }

    private sealed class Monitor(ConsoleLog.OneLineFormatterOptions value) : IOptionsMonitor<ConsoleLog.OneLineFormatterOptions>
    {
        public ConsoleLog.OneLineFormatterOptions CurrentValue => value;

        public ConsoleLog.OneLineFormatterOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ConsoleLog.OneLineFormatterOptions, string?> listener) => null;
    }
}
