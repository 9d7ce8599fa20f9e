using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace Miaoya.MockWebUi.Recording;

/// <summary>Start-up settings of <see cref="RecordingProxy"/>.</summary>
public sealed class RecordingProxyOptions
{
    /// <summary>The real box; <c>user:password@</c> in it is used like <see cref="Auth"/> and never saved.</summary>
    public required Uri Upstream { get; init; }

    /// <summary>The recording folder (created; an existing recording is appended to).</summary>
    public required string Directory { get; init; }

    /// <summary>Credentials for the box as <c>user:password</c>, sent when the client sends no Authorization of its own.</summary>
    public string? Auth { get; init; }

    /// <summary>TCP port; 0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Bind 0.0.0.0 instead of 127.0.0.1.</summary>
    public bool ListenOnAllInterfaces { get; init; }

    /// <summary>The longest a call to the box may take (a large render is minutes).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);
}

/// <summary>
/// A recording proxy: every request is forwarded to a real box and the exchange saved into a <see cref="RecordingFolder"/>.
/// </summary>
/// <remarks>
/// WireMock's own proxy-and-record (<c>ProxyAndRecordSettings</c>) saves bodies inline and headers as sent, and cannot add
/// the box's credentials; this proxy answers from a WireMock callback instead, so that it can send <c>--auth</c>, keep
/// images as files and write only what a recording needs (no request headers, no cookies, credentials redacted), still as
/// WireMock mappings.
/// </remarks>
public sealed class RecordingProxy : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _upstream;
    private readonly string? _auth;
    private readonly RecordingFolder _folder;
    private int _exchanges;
    private bool _disposed;

    private RecordingProxy(RecordingProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options.Upstream);
        (_upstream, var urlAuth) = WithoutCredentials(options.Upstream);
        _auth = options.Auth ?? urlAuth;
        _folder = new RecordingFolder(options.Directory);
        _folder.AddSecret(_auth);
        _folder.AddSecret(urlAuth);
#pragma warning disable CA2000 // the HttpClient owns the handler (disposeHandler: true) and is disposed with the proxy
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }, disposeHandler: true) { Timeout = options.Timeout };
#pragma warning restore CA2000
        WireMock = CatchAllServer.Start(options.Port, options.ListenOnAllInterfaces, ForwardAsync);
        Url = CatchAllServer.LoopbackUrl(WireMock);
        BaseUrlForDisplay = _upstream;
    }

    /// <summary>Where clients connect, e.g. http://127.0.0.1:45678/.</summary>
    public Uri Url { get; }

    /// <summary>The box, without credentials.</summary>
    public Uri BaseUrlForDisplay { get; }

    /// <summary>The recording folder.</summary>
    public string Directory => _folder.Directory;

    /// <summary>Exchanges saved so far.</summary>
    public int Exchanges => Volatile.Read(ref _exchanges);

    /// <summary>The underlying WireMock server.</summary>
    public WireMockServer WireMock { get; }

    public static RecordingProxy Start(RecordingProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RecordingProxy(options);
    }

    /// <summary>The URL without <c>user:password@</c>, and those credentials (unescaped) if any.</summary>
    public static (Uri Url, string? Auth) WithoutCredentials(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (string.IsNullOrEmpty(url.UserInfo))
        {
            return (url, null);
        }

        var builder = new UriBuilder(url) { UserName = "", Password = "" };
        return (builder.Uri, Uri.UnescapeDataString(url.UserInfo));
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        WireMock.Stop();
        WireMock.Dispose();
        _http.Dispose();
    }

    private async Task<IResponseMessage> ForwardAsync(IRequestMessage request)
    {
        var path = RecordingFolder.NormalisePath(request.AbsolutePath);
        var body = request.Body ?? (request.BodyAsBytes is { Length: > 0 } bytes ? Encoding.UTF8.GetString(bytes) : null);
        var target = new Uri(_upstream, _upstream.AbsolutePath.TrimEnd('/') + request.AbsolutePath + (string.IsNullOrEmpty(request.RawQuery) ? "" : (request.RawQuery.StartsWith('?') ? "" : "?") + request.RawQuery));
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), target);
        if (body is not null)
        {
            message.Content = new StringContent(body, Encoding.UTF8);
            message.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(Header(request, "Content-Type"), out var type) ? type : new MediaTypeHeaderValue("application/json");
        }

        var authorization = Header(request, "Authorization");
        if (authorization is not null)
        {
            _folder.AddSecret(authorization);
            if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                _folder.AddSecret(DecodeBasic(authorization[6..].Trim()));
            }

            message.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        else if (_auth is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_auth)));
        }

        if (Header(request, "Accept") is { } accept)
        {
            message.Headers.TryAddWithoutValidation("Accept", accept);
        }

        int status;
        string? contentType;
        string responseBody;
        try
        {
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead);
            status = (int)response.StatusCode;
            contentType = response.Content.Headers.ContentType?.ToString();
            responseBody = await response.Content.ReadAsStringAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Not an answer of the box: nothing to record.
            return Answer(502, "application/json", new JsonObject
            {
                ["error"] = "BadGateway",
                ["detail"] = $"recording proxy: {request.Method} {path}: {_upstream} did not answer: {e.Message}",
            }.ToJsonString());
        }

        var query = (request.Query ?? new Dictionary<string, WireMockList<string>>()).ToDictionary(q => q.Key, q => q.Value.ToArray(), StringComparer.Ordinal);
        _folder.Write(request.Method, path, query, body, status, contentType, responseBody);
        Interlocked.Increment(ref _exchanges);
        return Answer(status, contentType, responseBody);
    }

    private static string? DecodeBasic(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    internal static ResponseMessage Answer(int status, string? contentType, string body)
    {
        var message = new ResponseMessage
        {
            StatusCode = status,
            BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = body, Encoding = Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", contentType ?? "application/json");
        return message;
    }

    private static string? Header(IRequestMessage request, string name) =>
        request.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value is { Count: > 0 } values ? values[0] : null;
}
