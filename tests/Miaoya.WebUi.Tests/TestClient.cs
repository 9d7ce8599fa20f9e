using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Miaoya.WebUi.Tests;

/// <summary>A WebUiClient wired exactly as the product wires it, with durations scaled down for tests.</summary>
internal sealed class TestClient : IDisposable
{
    private readonly ServiceProvider _provider;

    public TestClient(Uri baseUrl, Action<WebUiOptions>? configure = null, string? auth = null, ILoggerProvider? logs = null)
    {
        var services = new ServiceCollection();
        if (logs is not null)
        {
            services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        }

        services.AddWebUiClient(o =>
        {
            o.BaseUrl = baseUrl;
            o.ControlAttemptTimeout = TimeSpan.FromSeconds(5); // generous: a loaded CI machine must not turn a 503 test into a timeout test
            o.ControlRetryDelay = TimeSpan.FromMilliseconds(10);
            o.GenerationTimeout = TimeSpan.FromSeconds(20);
            o.BreakerSamplingDuration = TimeSpan.FromSeconds(30);
            configure?.Invoke(o);
        });
        _provider = services.BuildServiceProvider();
        Options = _provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebUiOptions>>().Value;
        Client = _provider.GetRequiredService<WebUiClientFactory>().Create(WebUiEndpoint.WithAuth(baseUrl, auth));
    }

    public WebUiClient Client { get; }

    public WebUiOptions Options { get; }

    public void Dispose() => _provider.Dispose();
}
