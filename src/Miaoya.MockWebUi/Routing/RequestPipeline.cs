using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// One request from arrival to answer: a box that is down drops the connection; an armed fault may answer instead of the
/// route, delay it, or cut its image short; the route table answers, its errors becoming the WebUI's error bodies; and a
/// box that went down meanwhile drops the connection rather than answer.
/// </summary>
internal sealed class RequestPipeline(MockState state, FaultInjector faults, RouteTable routes, ErrorDialect errors = ErrorDialect.A1111)
{
    /// <summary>Answers <paramref name="request"/>; <paramref name="dropConnection"/> closes its connection without a response.</summary>
    public async Task<MockHttpResult> HandleAsync(MockRequest request, Action dropConnection)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(dropConnection);
        var epoch = state.DownEpoch;
        if (state.IsDown)
        {
            dropConnection(); // a box that is down: the connection closes without an answer
            return Dropped();
        }

        var fault = faults.Take(request.Path);
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
                    return MockRouteException.Http(status, ReasonPhrase(status)).ToResult(errors);
                case MockFaultKind.DropConnection:
                    dropConnection(); // TCP connection closed without any response bytes
                    return Dropped();
                case MockFaultKind.MalformedJson:
                    return new MockHttpResult(200, """{"images":["iVBORw0KGgoAAAANSUhEUgAA","parameters":{"prompt":""");
                default:
                    break;
            }
        }

        MockHttpResult result;
        try
        {
            result = await routes.DispatchAsync(request);
        }
        catch (MockRouteException e)
        {
            result = e.ToResult(errors);
        }
        catch (JsonException e)
        {
            result = MockRouteException.Validation([new ValidationIssue(["body", 0], e.Message, "value_error.jsondecode")]).ToResult();
        }

        if (state.IsDown || state.DownEpoch != epoch)
        {
            dropConnection(); // the box went down while this call ran
            return Dropped();
        }

        if (fault?.Kind == MockFaultKind.TruncatedBase64 && result.Status == 200)
        {
            result = TruncateFirstImage(result);
        }

        return result;
    }

    /// <summary>What WireMock is given for a dropped connection (it never reaches the client).</summary>
    private static MockHttpResult Dropped() => new(200, "");

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
}
