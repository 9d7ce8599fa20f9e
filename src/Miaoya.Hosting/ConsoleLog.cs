using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Miaoya.Limits;

namespace Miaoya.Hosting;

/// <summary>
/// The console logging of every command: one line per event (<c>HH:mm:ss level Category: message</c>), control characters
/// in messages (line breaks, terminal escape codes from a recipe name or a box's error text) written as escapes, and an
/// exception as its type and message only — its stack trace only with <c>--verbose</c>. Polly's own events are off unless
/// verbose: the WebUI client logs one line per retry itself.
/// </summary>
internal static class ConsoleLog
{
    public const string FormatterName = "miaoya";

    public static ILoggingBuilder AddMiaoyaConsole(this ILoggingBuilder builder, bool verbose, LogLevel minimum, bool json = false)
    {
        builder.AddConsole(o =>
        {
            o.FormatterName = json ? ConsoleFormatterNames.Json : FormatterName;
            o.LogToStandardErrorThreshold = LogLevel.Trace;
        });
        builder.AddConsoleFormatter<OneLineFormatter, OneLineFormatterOptions>(o => o.StackTraces = verbose);
        if (json)
        {
            // A log collector parses each line; the trace and span ids (as a scope) tie a line to its job's trace.
            builder.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
                o.IncludeScopes = true;
            });
            builder.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        }

        builder.SetMinimumLevel(minimum);
        builder.AddFilter("Polly", verbose ? LogLevel.Debug : LogLevel.None);
        builder.AddFilter("System.Net.Http", verbose ? LogLevel.Information : LogLevel.Warning);
        // On SQLite, Quartz's transactions retry (every 50 ms) while ours hold the file's write gate, each retry a warning;
        // a store that stays unreachable still ends in an error.
        builder.AddFilter("Quartz.Impl.AdoJobStore.LocalTransactionJobStore", verbose ? LogLevel.Debug : LogLevel.Error);
        return builder;
    }

    internal sealed class OneLineFormatterOptions : ConsoleFormatterOptions
    {
        public bool StackTraces { get; set; }
    }

    internal sealed class OneLineFormatter(IOptionsMonitor<OneLineFormatterOptions> options) : ConsoleFormatter(FormatterName)
    {
        public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
        {
            var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? logEntry.State?.ToString() ?? "";
            var category = logEntry.Category.Length > 0 && logEntry.Category.LastIndexOf('.') is var dot and >= 0 ? logEntry.Category[(dot + 1)..] : logEntry.Category;
            textWriter.Write(TimeProvider.System.GetLocalNow().ToString("HH:mm:ss ", CultureInfo.InvariantCulture));
            textWriter.Write(Level(logEntry.LogLevel));
            textWriter.Write(' ');
            textWriter.Write(category);
            textWriter.Write(": ");
            textWriter.Write(OneLine(message));
            if (logEntry.Exception is { } e)
            {
                if (options.CurrentValue.StackTraces)
                {
                    textWriter.Write(Environment.NewLine);
                    textWriter.Write(UserText.EscapeControl(e.ToString()));
                }
                else if (!message.Contains(e.Message, StringComparison.Ordinal))
                {
                    textWriter.Write($" ({e.GetType().Name}: {OneLine(e.Message)})");
                }
            }

            textWriter.Write(Environment.NewLine);
        }

        private static string OneLine(string text) => UserText.EscapeControl(text).Replace("\n", " | ", StringComparison.Ordinal);

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            LogLevel.Critical => "crit",
            _ => "none",
        };
    }
}
