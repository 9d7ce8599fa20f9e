using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Miaoya.Faces;
using Miaoya.Fleet;
using Miaoya.Jobs;
using Miaoya.Pipeline;
using Miaoya.Runner;
using Miaoya.Runner.Engine;
using Miaoya.Runner.Telemetry;

namespace Miaoya.Hosting;

/// <summary>The composition every host starts from (each command of the CLI, and <c>serve</c>).</summary>
public static class MiaoyaServiceCollectionExtensions
{
    /// <summary>
    /// The defaults of every host: <paramref name="configuration"/> as the host's <see cref="IConfiguration"/> (the
    /// <c>WebUi</c> and <c>Fleet</c> options bind from it, validated at start: <c>AddWebUiClient</c>, <c>AddWebUiFleet</c>),
    /// the system clock, and <see cref="MiaoyaLoggingExtensions.AddMiaoyaLogging"/>. Build <paramref name="configuration"/>
    /// with <see cref="MiaoyaConfiguration.Load"/>, and report its problems before running anything.
    /// </summary>
    public static IServiceCollection AddMiaoyaDefaults(this IServiceCollection services, IConfiguration configuration, MiaoyaLogging logging)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(logging);
        services.TryAddSingleton(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging(b => b.AddMiaoyaLogging(configuration, logging));
        return services;
    }

    /// <summary>
    /// Jobs on <paramref name="store"/> over the fleet (<c>AddWebUiFleet</c> and <c>AddPortraitPipeline</c> first):
    /// <paramref name="runner"/>, a <see cref="JobSubmitter"/> that checks each submission against the template's face and
    /// the boxes' LoRAs, and the <see cref="JobEngine"/> that schedules and runs the steps on Quartz.NET in the store's
    /// database (<paramref name="storeLocation"/>), counting into a <see cref="JobMetrics"/>. The caller owns the store and starts the engine.
    /// </summary>
    public static IServiceCollection AddMiaoyaJobRunner(
        this IServiceCollection services, IJobStore store, string storeLocation, JobRunnerOptions runner, string? postgresSchema = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(storeLocation);
        ArgumentNullException.ThrowIfNull(runner);
        services.AddSingleton(store);
        services.AddSingleton(runner);
        services.AddSingleton(sp => new JobSubmitter(
            store, runner, sp.GetRequiredService<IFaceDetector>(), sp.GetRequiredService<WebUiFleet>().LoraProblemAsync));
        services.AddSingleton(sp => new JobMetrics(store, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new JobEngine(
            store, storeLocation, sp.GetRequiredService<PortraitPipeline>(), runner, sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>(), postgresSchema, sp.GetRequiredService<WebUiFleet>(), sp.GetRequiredService<JobMetrics>()));
        return services;
    }
}
