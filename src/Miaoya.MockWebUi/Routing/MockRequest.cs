using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;

namespace Miaoya.MockWebUi;

/// <summary>A request as the routes see it: method, path without a trailing slash, body text, and first header and query values.</summary>
internal sealed class MockRequest
{
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly Dictionary<string, string> _query;

    /// <param name="method">The HTTP method as sent.</param>
    /// <param name="path">The absolute path; a trailing slash is removed (but "/" stays).</param>
    /// <param name="body">The body text, if any.</param>
    /// <param name="headers">Each header's first value, in the order received.</param>
    /// <param name="query">Each query parameter's first value (names compared ordinally).</param>
    public MockRequest(string method, string path, string? body = null, IEnumerable<KeyValuePair<string, string>>? headers = null,
        IEnumerable<KeyValuePair<string, string>>? query = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        Method = method;
        Path = path.Length > 1 ? path.TrimEnd('/') : path;
        Body = body;
        _headers = headers?.ToArray() ?? [];
        _query = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in query ?? [])
        {
            _query.TryAdd(name, value);
        }
    }

    public string Method { get; }

    public string Path { get; }

    public string? Body { get; }

    /// <summary>WireMock's request as the routes see it.</summary>
    public static MockRequest From(IRequestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new MockRequest(
            message.Method,
            message.AbsolutePath,
            message.Body,
            message.Headers?.Where(h => h.Value.Count > 0).Select(h => KeyValuePair.Create(h.Key, h.Value[0])),
            message.Query?.Where(q => q.Value.Count > 0).Select(q => KeyValuePair.Create(q.Key, q.Value[0])));
    }

    /// <summary>Parses the body as a JSON object; FastAPI answers 422 for a missing or non-object body (a <see cref="JsonException"/> for broken JSON).</summary>
    public JsonObject BodyObject()
    {
        if (string.IsNullOrWhiteSpace(Body))
        {
            throw MockRouteException.Validation([new ValidationIssue(["body"], "field required", "value_error.missing")]);
        }

        var node = JsonNode.Parse(Body, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        return node as JsonObject
            ?? throw MockRouteException.Validation([new ValidationIssue(["body"], "value is not a valid dict", "type_error.dict")]);
    }

    /// <summary>The first value of the query parameter <paramref name="name"/>, or null.</summary>
    public string? Query(string name) => _query.GetValueOrDefault(name);

    /// <summary>The first value of the header <paramref name="name"/> (any case; the last such header when several), or null.</summary>
    public string? Header(string name)
    {
        string? found = null;
        foreach (var (key, value) in _headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                found = value;
            }
        }

        return found;
    }
}
