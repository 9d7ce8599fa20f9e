using Microsoft.Extensions.DependencyInjection;
using Miaoya.MockWebUi;
using Miaoya.WebUi;

namespace Miaoya.Training.Tests;

/// <summary>An in-process mock WebUI and a client for it, wired as the product wires it.</summary>
internal sealed class MockBox : IDisposable
{
    private readonly ServiceProvider _provider;

    public MockBox(MockWebUiOptions? options = null)
    {
        Server = MockWebUiServer.Start(options ?? new MockWebUiOptions());
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddWebUiClient(o =>
        {
            o.BaseUrl = Server.Url;
            o.ControlRetryDelay = TimeSpan.FromMilliseconds(10);
        });
        _provider = services.BuildServiceProvider();
        Client = _provider.GetRequiredService<WebUiClient>();
    }

    public MockWebUiServer Server { get; }

    public WebUiClient Client { get; }

    public void Dispose()
    {
        _provider.Dispose();
        Server.Dispose();
    }
}
