using Microsoft.Extensions.Logging;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// Hands Quartz's own container the caller's loggers. Quartz's standalone builder takes the container's logging as
/// configured only when it holds both a logger factory and a provider; with the factory alone it logs to its process-wide
/// <c>LogProvider</c> instead, which nobody here sets.
/// </summary>
internal sealed class ForwardingLoggerProvider(ILoggerFactory loggerFactory) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => loggerFactory.CreateLogger(categoryName);

    public void Dispose()
    {
        // The factory is the caller's.
    }
}
