using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace Miaoya.WebUi;

/// <summary>Registers the WebUI client with its two resilience pipelines.</summary>
public static class WebUiServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="WebUiOptions"/> (validated at start, every problem listed), the <see cref="WebUiClientFactory"/>,
    /// and a <see cref="WebUiClient"/> for <see cref="WebUiOptions.BaseUrl"/>. Control calls: retry (transient only) →
    /// circuit breaker → per-attempt timeout. Generation calls: circuit breaker → one long timeout, retried only when
    /// the connection was refused (nothing reached the box).
    /// </summary>
    public static IServiceCollection AddWebUiClient(this IServiceCollection services, Action<WebUiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        // The "WebUi" configuration section applies when the host has configuration; code-given values win.
        var options = services.AddOptions<WebUiOptions>()
            .Configure<IServiceProvider>((o, sp) => sp.GetService<IConfiguration>()?.GetSection(WebUiOptions.SectionName).Bind(o))
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebUiOptions>, WebUiOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging();

        services.AddHttpClient(WebUiClientFactory.ControlClientName)
            .AddResilienceHandler("webui-control", (builder, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptionsMonitor<WebUiOptions>>().CurrentValue;
                var log = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(ResilienceLogCategory);
                builder.AddRetry(Retry(o, IsTransient, log));
                builder.AddCircuitBreaker(Breaker(o, log));
                builder.AddTimeout(o.ControlAttemptTimeout);
            })
            .SelectPipelineByAuthority();

        services.AddHttpClient(WebUiClientFactory.GenerationClientName)
            .AddResilienceHandler("webui-generation", (builder, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptionsMonitor<WebUiOptions>>().CurrentValue;
                var log = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(ResilienceLogCategory);
                // Only when nothing reached the server; never after a timeout or a dropped connection.
                builder.AddRetry(Retry(o, outcome => outcome.Exception is { } e && IsConnectionRefused(e), log));
                builder.AddCircuitBreaker(Breaker(o, log));
                builder.AddTimeout(o.GenerationTimeout);
            })
            .SelectPipelineByAuthority();

        services.TryAddSingleton<WebUiClientFactory>();
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WebUiOptions>>().Value;
            return sp.GetRequiredService<WebUiClientFactory>().Create(new WebUiEndpoint(o.BaseUrl!, o.Username, o.Password));
        });
        return services;
    }

    /// <summary>
    /// Category of the client's own resilience log lines: one line per retry and per circuit opened, without a stack
    /// trace (Polly's own events are filtered out by the CLI and the server: each carries the exception's whole trace).
    /// </summary>
    public const string ResilienceLogCategory = "Miaoya.WebUi.Resilience";

    private static HttpRetryStrategyOptions Retry(WebUiOptions o, Func<Outcome<HttpResponseMessage>, bool> retryable, ILogger log) => new()
    {
        MaxRetryAttempts = Math.Max(o.ControlRetries, 1),
        Delay = o.ControlRetryDelay,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        ShouldHandle = args => ValueTask.FromResult(o.ControlRetries > 0 && retryable(args.Outcome)),
        OnRetry = args =>
        {
            var request = args.Context.GetRequestMessage();
            log.LogInformation(
                "{Method} {Url} failed ({Reason}); retry {Attempt} of {Retries} in {Delay:0.0} s",
                request?.Method, request?.RequestUri?.GetLeftPart(UriPartial.Path), Reason(args.Outcome), args.AttemptNumber + 1, o.ControlRetries, args.RetryDelay.TotalSeconds);
            return default;
        },
    };

    private static HttpCircuitBreakerStrategyOptions Breaker(WebUiOptions o, ILogger log) => new()
    {
        FailureRatio = o.BreakerFailureRatio,
        MinimumThroughput = o.BreakerMinimumThroughput,
        SamplingDuration = o.BreakerSamplingDuration,
        BreakDuration = o.BreakerBreakDuration,
        ShouldHandle = args => ValueTask.FromResult(
            args.Outcome.Exception is HttpRequestException or TimeoutRejectedException
            || (args.Outcome.Result is { } r && (int)r.StatusCode >= 500)),
        OnOpened = args =>
        {
            var request = args.Context.GetRequestMessage();
            log.LogWarning(
                "{Box}: too many failed calls ({Reason}); calls to it are refused for {Seconds:0} s", request?.RequestUri?.Authority, Reason(args.Outcome), args.BreakDuration.TotalSeconds);
            return default;
        },
    };

    /// <summary>What went wrong, in one line: the status code, or the innermost exception's message.</summary>
    private static string Reason(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Result is { } response)
        {
            return $"HTTP {(int)response.StatusCode}";
        }

        var e = outcome.Exception;
        while (e?.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e?.Message ?? "no answer";
    }

    /// <summary>Worth another try for an idempotent control call: transport errors, timeouts, 408, 429, 502-504 (not 500: the WebUI's 500s are deterministic errors).</summary>
    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException
        || (outcome.Result is { } response && Failures.OfStatus((int)response.StatusCode) == FailureKind.Transient);

    private static bool IsConnectionRefused(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            if (current is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }
}
