using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace Miaoya.MockWebUi;

/// <summary>A WireMock-based imitation of an AUTOMATIC1111 WebUI API server with its ControlNet, WD14 tagger and rembg extensions.</summary>
public sealed partial class MockWebUiServer : IDisposable
{
    private static readonly AsyncLocal<HttpContext?> CurrentContext = new();

    private readonly MockWebUiOptions _options;
    private readonly MockRandom _random;
    private readonly MockState _state = new();
    private readonly FaultInjector _faults;
    private readonly JobQueue _jobs;
    private readonly Lacking _lacking;
    private readonly LoraFolder _loras;
    private readonly (string User, string Password)[] _credentials;
    private long _requestCount;
    private bool _disposed;

    private MockWebUiServer(MockWebUiOptions options)
    {
        _options = options;
        Profile = options.Profile;
        _random = new MockRandom(options.Seed);
        _faults = new FaultInjector(_random);
        _jobs = new JobQueue(options, _state, _random);
        _lacking = new Lacking(options.Without);
        _loras = new LoraFolder(options.LoraDirectory);
        _credentials = ParseCredentials(options.Auth);
        var host = options.ListenOnAllInterfaces ? "0.0.0.0" : "127.0.0.1";
        WireMock = WireMockServer.Start(new WireMockServerSettings
        {
            Urls = [string.Create(CultureInfo.InvariantCulture, $"http://{host}:{options.Port}")],
            StartAdminInterface = true,
            // The admin API lists every request with its Authorization header: behind the same credentials as the API.
            AdminUsername = _credentials.Length == 0 ? null : _credentials[0].User,
            AdminPassword = _credentials.Length == 0 ? null : _credentials[0].Password,
            DisableJsonBodyParsing = true, // bodies stay strings; parsed once with System.Text.Json
            DoNotSaveDynamicResponseInLogEntry = true,
            MaxRequestLogCount = 200,
            PreWireMockMiddlewareInit = app => ((IApplicationBuilder)app).Use(async (ctx, next) =>
            {
                CurrentContext.Value = ctx;
                await next(ctx);
            }),
        });
        WireMock
            .Given(Request.Create().WithPath(new RegexMatcher(MatchBehaviour.RejectOnMatch, "^/__admin")).UsingAnyMethod())
            .AtPriority(int.MaxValue / 2)
            .RespondWith(Response.Create().WithCallback(HandleAsync));
        var port = WireMock.Ports[0];
        Url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
    }

    /// <summary>Base address, e.g. http://127.0.0.1:45678/.</summary>
    public Uri Url { get; }

    /// <summary>The underlying WireMock server (LogEntries; admin interface at /__admin/requests).</summary>
    public WireMockServer WireMock { get; }

    /// <summary>The imitated server generation.</summary>
    public MockWebUiProfile Profile { get; }

    /// <summary>Requests answered so far (any route but WireMock's admin API).</summary>
    public long RequestCount => Interlocked.Read(ref _requestCount);

    /// <summary>Number of POST /sdapi/v1/interrupt calls received.</summary>
    public int InterruptCount => _jobs.InterruptCount;

    /// <summary>Starts a mock on loopback (or all interfaces) with the given options.</summary>
    public static MockWebUiServer Start(MockWebUiOptions? options = null) => new(options ?? new MockWebUiOptions());

    /// <summary>Adds a per-path fault; faults are checked in the order added.</summary>
    public void AddFault(MockFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _faults.Add(fault);
    }

    /// <summary>Removes every fault.</summary>
    public void ClearFaults() => _faults.Clear();

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        WireMock.Stop();
        WireMock.Dispose();
        _jobs.Dispose();
    }

    /// <summary>Drops the oldest request-log entries while their bodies hold more than <see cref="MockWebUiOptions.MaxRequestLogBytes"/>.</summary>
    private void PruneRequestLog()
    {
        var entries = WireMock.LogEntries.ToArray();
        var total = entries.Sum(e => (long)(e.RequestMessage?.Body?.Length ?? 0) * 2);
        foreach (var entry in entries)
        {
            if (total <= _options.MaxRequestLogBytes)
            {
                break;
            }

            total -= (long)(entry.RequestMessage?.Body?.Length ?? 0) * 2;
            WireMock.DeleteLogEntry(entry.Guid);
        }
    }

    private async Task<IResponseMessage> HandleAsync(IRequestMessage request)
    {
        Interlocked.Increment(ref _requestCount);
        PruneRequestLog();
        var path = request.AbsolutePath.Length > 1 ? request.AbsolutePath.TrimEnd('/') : request.AbsolutePath;
        var epoch = _state.DownEpoch;
        if (_state.IsDown)
        {
            CurrentContext.Value?.Abort(); // a box that is down: the connection closes without an answer
            return ToMessage(new MockHttpResult(200, ""));
        }

        var fault = _faults.Take(path);
        if (fault is not null)
        {
            if (fault.Latency > TimeSpan.Zero)
            {
                await Task.Delay(fault.Latency);
            }

            switch (fault.Kind)
            {
                case MockFaultKind.Status:
                    var status = fault.StatusCode ?? 500;
                    var phrase = ReasonPhrase(status);
                    return ToMessage(MockRouteException.Http(status, phrase).ToResult());
                case MockFaultKind.DropConnection:
                    CurrentContext.Value?.Abort(); // TCP connection closed without any response bytes
                    return ToMessage(new MockHttpResult(200, ""));
                case MockFaultKind.MalformedJson:
                    return ToMessage(new MockHttpResult(200, """{"images":["iVBORw0KGgoAAAANSUhEUgAA","parameters":{"prompt":"""));
                default:
                    break;
            }
        }

        MockHttpResult result;
        try
        {
            result = await RouteAsync(request, path);
        }
        catch (MockRouteException e)
        {
            result = e.ToResult();
        }
        catch (JsonException e)
        {
            result = MockRouteException.Validation([new ValidationIssue(["body", 0], e.Message, "value_error.jsondecode")]).ToResult();
        }

        if (_state.IsDown || _state.DownEpoch != epoch)
        {
            CurrentContext.Value?.Abort(); // the box went down while this call ran
            return ToMessage(new MockHttpResult(200, ""));
        }

        if (fault?.Kind == MockFaultKind.TruncatedBase64 && result.Status == 200)
        {
            result = TruncateFirstImage(result);
        }

        return ToMessage(result);
    }

    private static MockHttpResult TruncateFirstImage(MockHttpResult result)
    {
        var node = JsonNode.Parse(result.Body);
        if (node is not JsonObject obj)
        {
            return result;
        }

        static string Cut(string b64)
        {
            // Length ≡ 1 (mod 4) is never valid base64, padded or not; the PNG/JPEG stream is cut as well.
            var keep = (b64.Length / 2) & ~3;
            return b64[..(keep + 1)];
        }

        if (obj["images"] is JsonArray { Count: > 0 } images && images[0] is JsonValue v && v.TryGetValue(out string? s))
        {
            images[0] = Cut(s);
        }
        else if (obj["image"] is JsonValue iv && iv.TryGetValue(out string? single))
        {
            obj["image"] = Cut(single);
        }

        return result with { Body = obj.ToJsonString(MockHttpResult.WireOptions) };
    }

    private static ResponseMessage ToMessage(MockHttpResult result)
    {
        var message = new ResponseMessage
        {
            StatusCode = result.Status,
            BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = result.Body, Encoding = Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", "application/json");
        return message;
    }

    private static string ReasonPhrase(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };

    private static (string, string)[] ParseCredentials(string? auth)
    {
        if (string.IsNullOrEmpty(auth))
        {
            return [];
        }

        // --api-auth "u1:p1,u2:p2" (A1111 cmd_args.py:102; api.py:200-205)
        return [.. auth.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split(':', 2))
            .Select(parts => (parts[0], parts.Length > 1 ? parts[1] : ""))];
    }

    private void CheckAuth(IRequestMessage request)
    {
        if (_credentials.Length == 0)
        {
            return;
        }

        // FastAPI HTTPBasic: no/invalid header → "Not authenticated"; wrong pair → "Incorrect username or password" (A1111 api.py:274-284)
        string? header = null;
        if (request.Headers is { } headers)
        {
            foreach (var (key, values) in headers)
            {
                if (string.Equals(key, "Authorization", StringComparison.OrdinalIgnoreCase) && values.Count > 0)
                {
                    header = values[0];
                }
            }
        }

        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            throw MockRouteException.Http(401, "Not authenticated");
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            throw MockRouteException.Http(401, "Invalid authentication credentials");
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw MockRouteException.Http(401, "Invalid authentication credentials");
        }

        var user = decoded[..colon];
        var password = decoded[(colon + 1)..];
        if (!_credentials.Any(c => c.User == user && c.Password == password))
        {
            throw MockRouteException.Http(401, "Incorrect username or password");
        }
    }

    /// <summary>Parses the body as a JSON object; FastAPI answers 422 for a missing or non-object body.</summary>
    private static JsonObject BodyObject(IRequestMessage request)
    {
        var text = request.Body;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw MockRouteException.Validation([new ValidationIssue(["body"], "field required", "value_error.missing")]);
        }

        var node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        return node as JsonObject
            ?? throw MockRouteException.Validation([new ValidationIssue(["body"], "value is not a valid dict", "type_error.dict")]);
    }

    private static string? Query(IRequestMessage request, string name)
    {
        if (request.Query is { } q && q.TryGetValue(name, out var values) && values.Count > 0)
        {
            return values[0];
        }

        return null;
    }
}
