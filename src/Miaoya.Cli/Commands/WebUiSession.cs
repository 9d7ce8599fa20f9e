using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary>A WebUI client for one command run, with console logging.</summary>
internal sealed class WebUiSession : IDisposable
{
    private readonly ServiceProvider _provider;

    public WebUiSession(WebUiEndpoint endpoint, bool verbose)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning)
            .AddFilter("System.Net.Http", LogLevel.Warning)
            .AddFilter("Polly", verbose ? LogLevel.Information : LogLevel.None));
        services.AddWebUiClient(o => o.BaseUrl = endpoint.BaseUrl);
        _provider = services.BuildServiceProvider();
        Client = _provider.GetRequiredService<WebUiClientFactory>().Create(endpoint);
    }

    public WebUiClient Client { get; }

    public void Dispose() => _provider.Dispose();

    /// <summary>Runs a command body; WebUI failures become one line on stderr and exit code 1.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (WebUiException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled.");
            return 130;
        }
    }
}
