using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Miaoya.Hosting;

namespace Miaoya.Server.Tests;

public sealed class JsonLogTests
{
    [Fact]
    public void Json_logging_writes_one_json_object_per_line_with_the_trace_ids()
    {
        using var services = new ServiceCollection()
            .AddLogging(b => b.AddMiaoyaLogging(new ConfigurationBuilder().Build(), new MiaoyaLogging(LogLevel.Information) { Json = true }))
            .BuildServiceProvider();

        var console = services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        Assert.Equal(ConsoleFormatterNames.Json, console.FormatterName);
        Assert.Equal(LogLevel.Trace, console.LogToStandardErrorThreshold);
        var factory = services.GetRequiredService<IOptions<LoggerFactoryOptions>>().Value;
        Assert.True(factory.ActivityTrackingOptions.HasFlag(ActivityTrackingOptions.TraceId));
        Assert.True(factory.ActivityTrackingOptions.HasFlag(ActivityTrackingOptions.SpanId));

        // The formatter the console logger picks, writing an entry whose message has a line break (a box's error text).
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == console.FormatterName);
        using var text = new StringWriter();
        var entry = new LogEntry<string>(LogLevel.Warning, "Miaoya.Runner.Engine.JobEngine", new EventId(3), "state", null, (_, _) => "Job j1: step inpaint failed: line one\nline two");
        formatter.Write(entry, new LoggerExternalScopeProvider(), text);

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        using var json = JsonDocument.Parse(line);
        Assert.Equal("Warning", json.RootElement.GetProperty("LogLevel").GetString());
        Assert.Equal("Miaoya.Runner.Engine.JobEngine", json.RootElement.GetProperty("Category").GetString());
        Assert.Equal("Job j1: step inpaint failed: line one\nline two", json.RootElement.GetProperty("Message").GetString());
        Assert.EndsWith("Z", json.RootElement.GetProperty("Timestamp").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Text_logging_stays_the_default()
    {
        using var services = new ServiceCollection()
            .AddLogging(b => b.AddMiaoyaLogging(new ConfigurationBuilder().Build(), new MiaoyaLogging(LogLevel.Information)))
            .BuildServiceProvider();

        Assert.Equal("miaoya", services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }
}
