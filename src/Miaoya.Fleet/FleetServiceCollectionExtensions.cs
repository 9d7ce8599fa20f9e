using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Miaoya.WebUi;

namespace Miaoya.Fleet;

/// <summary>Registers a <see cref="WebUiFleet"/> as the pipeline's <see cref="IWebUiBoxes"/>.</summary>
public static class FleetServiceCollectionExtensions
{
    /// <summary>
    /// Adds the WebUI client plumbing and a fleet of the boxes in <paramref name="configure"/> (after the host's <c>Fleet</c>
    /// configuration section). The caller starts it (<see cref="WebUiFleet.StartAsync"/>) before running jobs.
    /// </summary>
    public static IServiceCollection AddWebUiFleet(this IServiceCollection services, Action<FleetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddWebUiClient();
        services.TryAddSingleton(sp =>
        {
            var options = new FleetOptions();
            sp.GetService<IConfiguration>()?.GetSection(FleetOptions.SectionName).Bind(options);
            configure?.Invoke(options);
            return WebUiFleet.Create(options, sp.GetRequiredService<WebUiClientFactory>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>());
        });
        services.RemoveAll<IWebUiBoxes>();
        services.AddSingleton<IWebUiBoxes>(sp => sp.GetRequiredService<WebUiFleet>());
        return services;
    }
}
