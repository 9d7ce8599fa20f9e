using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Miaoya.WebUi.Json;
using Refit;

namespace Miaoya.WebUi;

/// <summary>Creates a <see cref="WebUiClient"/> per box; the HTTP pipelines (and so the circuit breakers) are per base URL authority.</summary>
public sealed class WebUiClientFactory
{
    internal const string ControlClientName = "Miaoya.WebUi.Control";
    internal const string GenerationClientName = "Miaoya.WebUi.Generation";

    private static readonly RefitSettings Settings = new(new SystemTextJsonContentSerializer(WebUiJson.Options));

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly IOptions<WebUiOptions> _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;

    public WebUiClientFactory(IHttpClientFactory httpClientFactory, IOptions<WebUiOptions> options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _httpClientFactory = httpClientFactory;
        _options = options;
        _loggerFactory = loggerFactory;
        _time = time;
    }

    /// <summary>A client for the box at <paramref name="endpoint"/>.</summary>
    public WebUiClient Create(WebUiEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var generation = HttpClient(GenerationClientName, endpoint);
        return new WebUiClient(
            endpoint,
            RestService.ForGenerated<IWebUiApi>(HttpClient(ControlClientName, endpoint), Settings),
            RestService.ForGenerated<IWebUiApi>(generation, Settings),
            _options.Value,
            _loggerFactory.CreateLogger<WebUiClient>(),
            _time)
        {
            GenerationHttp = generation,
            RefitSettings = Settings,
        };
    }

    private HttpClient HttpClient(string name, WebUiEndpoint endpoint)
    {
        var client = _httpClientFactory.CreateClient(name);
        client.BaseAddress = endpoint.BaseUrl;

        // Polly's timeouts govern; HttpClient's own 100 s default would cut generations short.
        client.Timeout = Timeout.InfiniteTimeSpan;
        if (endpoint.Username is not null)
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{endpoint.Username}:{endpoint.Password}"));
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", token);
        }

        return client;
    }
}
