using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Miaoya.Hosting;

/// <summary>
/// How a host logs: the one-line console (<see cref="ConsoleLog"/>) at <see cref="Minimum"/>, with stack traces, Polly's
/// own events and every HTTP call only when <see cref="Verbose"/>; the configuration's <c>Logging</c> section applies
/// between the two.
/// </summary>
/// <param name="Minimum">The least level written.</param>
/// <param name="Verbose">Stack traces and the HTTP plumbing's own lines (<c>--verbose</c>).</param>
public sealed record MiaoyaLogging(LogLevel Minimum, bool Verbose = false)
{
    /// <summary>
    /// One JSON object per line (Microsoft.Extensions.Logging's JSON console formatter: UTC timestamp, level, category,
    /// message, the message's named values, the exception with its stack trace, and the trace and span ids of the current
    /// activity) instead of the one-line text (<c>serve --log-format json</c>).
    /// </summary>
    public bool Json { get; init; }

    /// <summary>A command's logging: debug lines with <c>--verbose</c>, else only from <paramref name="quiet"/> up.</summary>
    public static MiaoyaLogging For(bool verbose, LogLevel quiet) => new(verbose ? LogLevel.Debug : quiet, verbose);
}

/// <summary>Sets up a host's logging in one way.</summary>
public static class MiaoyaLoggingExtensions
{
    /// <summary>
    /// Replaces the providers with the one-line console on stderr: <paramref name="logging"/>'s level, the
    /// <c>Logging</c> section of <paramref name="configuration"/> over it, and <c>--verbose</c> over both.
    /// </summary>
    public static ILoggingBuilder AddMiaoyaLogging(this ILoggingBuilder builder, IConfiguration configuration, MiaoyaLogging logging)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(logging);
        builder.ClearProviders();
        builder.AddConfiguration(configuration.GetSection(MiaoyaConfiguration.LoggingSectionName));
        builder.AddMiaoyaConsole(logging.Verbose, logging.Minimum, logging.Json);
        if (logging.Verbose)
        {
            // The flag wins over a configured default level (rules of equal reach: the last one added applies).
            builder.AddFilter((string?)null, LogLevel.Debug);
        }

        return builder;
    }
}
