using Microsoft.Extensions.Logging;

namespace Miaoya.Runner.Tests;

internal sealed class DebugLog : ILoggerProvider, ILogger
{
    public static readonly ILoggerFactory Factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new DebugLog()));
    private static readonly Lock Gate = new();

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Gate)
        {
            File.AppendAllText("/tmp/runner-debug.log", $"{DateTime.Now:HH:mm:ss.fff} {logLevel} {formatter(state, exception)} {exception?.Message}\n");
        }
    }
}
