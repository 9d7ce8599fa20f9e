using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>A finished HTTP answer of the mock: status plus JSON (or deliberately broken) body text.</summary>
internal sealed record MockHttpResult(int Status, string Body)
{
    // Python's json.dumps does not escape '+' or non-ASCII; the relaxed encoder keeps multi-MB base64 unescaped and fast.
    public static readonly JsonSerializerOptions WireOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static MockHttpResult Json(JsonNode? node, int status = 200) => new(status, node?.ToJsonString(WireOptions) ?? "null");

    public static MockHttpResult Null() => new(200, "null");

    // Unknown routes / wrong methods: Starlette's router raises HTTPException 404/405 (starlette/routing.py), which
    // FastAPI 0.94.0 renders as {"detail": ...} (fastapi/exception_handlers.py, http_exception_handler; registered at
    // fastapi/applications.py:141).
    public static MockHttpResult NotFound() => new(404, """{"detail":"Not Found"}""");

    public static MockHttpResult MethodNotAllowed() => new(405, """{"detail":"Method Not Allowed"}""");
}
