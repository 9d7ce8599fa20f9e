using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Miaoya.Fleet;
using Miaoya.Runner.Telemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Miaoya.Server;

/// <summary>
/// <c>miaoya serve</c>'s OpenTelemetry: the fleet's and the jobs' meters, ASP.NET Core's, the HTTP client's and the
/// runtime's, scraped at <c>/metrics</c> in Prometheus text format (behind the API key, or alone on
/// <see cref="ServerOptions.MetricsPort"/> without it); and, when <see cref="ServerOptions.OtlpEndpoint"/> is set, traces
/// (a job's span, its steps' spans, their box calls and the HTTP calls under them, and the API's requests) sent there.
/// </summary>
internal static class ServerTelemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>Scrapes within this long of one another reuse the store's job counts.</summary>
    private static readonly TimeSpan CountsMaxAge = TimeSpan.FromSeconds(2);

    public static void AddServerTelemetry(this IServiceCollection services, ServerOptions options)
    {
        var version = typeof(ServerTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("miaoya", serviceVersion: version))
            .WithMetrics(m => m
                .AddMeter(FleetTelemetry.MeterName, JobTelemetry.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        if (options.OtlpEndpoint is { } endpoint)
        {
            telemetry.WithTracing(t => t
                .AddSource(JobTelemetry.ActivitySourceName, FleetTelemetry.ActivitySourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = c => !IsScrapeOrHealth(c.Request.Path))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(o =>
                {
                    o.Protocol = options.OtlpProtocol;
                    o.Endpoint = TracesEndpoint(endpoint, options.OtlpProtocol);
                }));
        }
    }

    /// <summary>
    /// The collector's address for traces: over HTTP the signal's path is added to a base address, as the
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable means it; gRPC takes the address as it is.
    /// </summary>
    public static Uri TracesEndpoint(Uri endpoint, OtlpExportProtocol protocol)
    {
        if (protocol != OtlpExportProtocol.HttpProtobuf || endpoint.AbsolutePath.EndsWith("/v1/traces", StringComparison.Ordinal))
        {
            return endpoint;
        }

        var text = endpoint.AbsoluteUri;
        return new Uri(text + (text.EndsWith('/') ? "" : "/") + "v1/traces");
    }

    /// <summary>
    /// The URLs to listen on for <see cref="ServerOptions.MetricsPort"/>: plain HTTP on the port, on each host of
    /// <see cref="ServerOptions.Urls"/> (a service on loopback is scraped on loopback).
    /// </summary>
    public static IReadOnlyList<string> MetricsUrls(ServerOptions options) =>
        options.MetricsPort is not { } port
            ? []
            : options.Urls.Select(u => new Uri(u)).Select(u => $"http://{u.Host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}").Distinct(StringComparer.OrdinalIgnoreCase).ToArray();

    /// <summary>
    /// Before the API key check: on <see cref="ServerOptions.MetricsPort"/>, <c>GET /metrics</c> is answered without a key
    /// and every other request is 404 (the API is never served there).
    /// </summary>
    public static void UseMetricsPort(this WebApplication app, ServerOptions options)
    {
        if (options.MetricsPort is not { } port)
        {
            return;
        }

        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: c => c.Connection.LocalPort == port && c.Request.Path.Equals(MetricsPath, StringComparison.Ordinal),
            path: null,
            configureBranchedPipeline: RefreshJobCounts,
            optionsName: null);
        app.Use((context, next) => context.Connection.LocalPort == port
            ? Problems.WriteAsync(context, Problems.Create(StatusCodes.Status404NotFound, "Not Found", $"Only {MetricsPath} is served on the metrics port."))
            : next(context));
    }

    /// <summary>After the API key check: <c>GET /metrics</c> on the API's addresses, unless a metrics port serves it.</summary>
    public static void UseMetricsBehindKey(this WebApplication app, ServerOptions options)
    {
        if (options.MetricsPort is null)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(
                meterProvider: null,
                predicate: c => c.Request.Path.Equals(MetricsPath, StringComparison.Ordinal),
                path: null,
                configureBranchedPipeline: RefreshJobCounts,
                optionsName: null);
        }
    }

    private static bool IsScrapeOrHealth(PathString path) =>
        path.Equals(MetricsPath, StringComparison.Ordinal) || path.Equals("/healthz", StringComparison.Ordinal);

    /// <summary>The store's job counts are read before a scrape (at most every <see cref="CountsMaxAge"/>).</summary>
    private static void RefreshJobCounts(IApplicationBuilder branch) =>
        branch.Use(async (context, next) =>
        {
            var services = context.RequestServices;
            try
            {
                await services.GetRequiredService<JobMetrics>().RefreshAsync(CountsMaxAge, context.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store is unreachable for a moment: the scrape reports the last counts.
                services.GetRequiredService<ILogger<JobMetrics>>().LogWarning("Could not count the jobs for /metrics: {Error}", e.Message);
            }

            await next(context);
        });
}
