using System.Globalization;
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

/// <summary>An error that ends a request with one of the two WebUI error dialects.</summary>
internal sealed class WebUiException : Exception
{
    public WebUiException()
    {
    }

    public WebUiException(string message) : base(message)
    {
    }

    public WebUiException(string message, Exception innerException) : base(message, innerException)
    {
    }

    private WebUiException(int status, JsonNode body, string message) : base(message)
    {
        Status = status;
        Body = body;
    }

    public int Status { get; } = 500;

    public JsonNode Body { get; } = new JsonObject();

    public MockHttpResult ToResult() => new(Status, Body.ToJsonString(MockHttpResult.WireOptions));

    /// <summary>An HTTPException re-wrapped by the webui handler: {"error","detail","body","errors"} (A1111 api.py:167-196).</summary>
    public static WebUiException Http(int status, string detail) => new(status, new JsonObject
    {
        ["error"] = "HTTPException",
        ["detail"] = detail,
        ["body"] = "",
        // str(HTTPException) = "<status>: <detail>" in Starlette (not verified for the 0.26 line pinned by A1111).
        ["errors"] = string.Create(CultureInfo.InvariantCulture, $"{status}: {detail}"),
    }, detail);

    /// <summary>Any other exception becomes a 500 whose message is only in "errors" (A1111 api.py:167-188).</summary>
    public static WebUiException Internal(string errorType, string message) => new(500, new JsonObject
    {
        ["error"] = errorType,
        ["detail"] = "",
        ["body"] = "",
        ["errors"] = message,
    }, message);

    /// <summary>
    /// FastAPI's request-validation 422 with pydantic v1 items (fastapi 0.94.0 fastapi/exception_handlers.py,
    /// request_validation_exception_handler).
    /// </summary>
    public static WebUiException Validation(IEnumerable<ValidationIssue> issues)
    {
        var detail = new JsonArray();
        foreach (var issue in issues)
        {
            var loc = new JsonArray();
            foreach (var part in issue.Loc)
            {
                loc.Add(part switch
                {
                    int i => JsonValue.Create(i),
                    _ => JsonValue.Create(Convert.ToString(part, CultureInfo.InvariantCulture)),
                });
            }

            detail.Add(new JsonObject { ["loc"] = loc, ["msg"] = issue.Message, ["type"] = issue.Type });
        }

        return new WebUiException(422, new JsonObject { ["detail"] = detail }, "request validation failed");
    }

    /// <summary>str(pydantic.ValidationError) as v1 prints it, wrapped as a webui 500.</summary>
    public static WebUiException PydanticValidation(string model, IReadOnlyList<ValidationIssue> issues)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{issues.Count} validation error{(issues.Count == 1 ? "" : "s")} for {model}");
        foreach (var issue in issues)
        {
            text.Append('\n').Append(string.Join(" -> ", issue.Loc.Select(l => Convert.ToString(l, CultureInfo.InvariantCulture))));
            text.Append("\n  ").Append(issue.Message).Append(" (type=").Append(issue.Type).Append(')');
        }

        return Internal("ValidationError", text.ToString());
    }
}

/// <summary>One pydantic v1 error item.</summary>
internal sealed record ValidationIssue(IReadOnlyList<object> Loc, string Message, string Type);
