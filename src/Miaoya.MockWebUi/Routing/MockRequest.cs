using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;

namespace Miaoya.MockWebUi;

/// <summary>A request as the routes see it: WireMock's message and its path without a trailing slash.</summary>
internal sealed class MockRequest
{
    private MockRequest(IRequestMessage message, string path)
    {
        Message = message;
        Path = path;
    }

    /// <summary>WireMock's request (headers, query, body text).</summary>
    public IRequestMessage Message { get; }

    /// <summary>The absolute path, a trailing slash removed (but "/" stays).</summary>
    public string Path { get; }

    public string Method => Message.Method;

    public static MockRequest From(IRequestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var path = message.AbsolutePath.Length > 1 ? message.AbsolutePath.TrimEnd('/') : message.AbsolutePath;
        return new MockRequest(message, path);
    }

    /// <summary>Parses the body as a JSON object; FastAPI answers 422 for a missing or non-object body (a <see cref="JsonException"/> for broken JSON).</summary>
    public JsonObject BodyObject()
    {
        var text = Message.Body;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw MockRouteException.Validation([new ValidationIssue(["body"], "field required", "value_error.missing")]);
        }

        var node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        return node as JsonObject
            ?? throw MockRouteException.Validation([new ValidationIssue(["body"], "value is not a valid dict", "type_error.dict")]);
    }

    /// <summary>The first value of the query parameter <paramref name="name"/>, or null.</summary>
    public string? Query(string name)
    {
        if (Message.Query is { } q && q.TryGetValue(name, out var values) && values.Count > 0)
        {
            return values[0];
        }

        return null;
    }

    /// <summary>The first value of the header <paramref name="name"/> (any case), or null.</summary>
    public string? Header(string name)
    {
        string? found = null;
        if (Message.Headers is { } headers)
        {
            foreach (var (key, values) in headers)
            {
                if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase) && values.Count > 0)
                {
                    found = values[0];
                }
            }
        }

        return found;
    }
}
