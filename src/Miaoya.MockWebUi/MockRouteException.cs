using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// An error that ends a route with one of the two WebUI error dialects (the mock's own; the client's
/// <c>Miaoya.WebUi.WebUiException</c> is what a caller sees of it).
/// </summary>
internal sealed class MockRouteException : Exception
{
    public MockRouteException()
    {
    }

    public MockRouteException(string message) : base(message)
    {
    }

    public MockRouteException(string message, Exception innerException) : base(message, innerException)
    {
    }

    private MockRouteException(int status, JsonNode body, string message, string? errorType = null, string? detail = null) : base(message)
    {
        Status = status;
        Body = body;
        ErrorType = errorType;
        Detail = detail;
    }

    /// <summary>The Python exception's type for a non-HTTP error ("TypeError", …); null for an HTTPException or a 422.</summary>
    private string? ErrorType { get; }

    /// <summary>An HTTPException's detail; null otherwise.</summary>
    private string? Detail { get; }

    public int Status { get; } = 500;

    public JsonNode Body { get; } = new JsonObject();

    public MockHttpResult ToResult() => new(Status, Body.ToJsonString(MockHttpResult.WireOptions));

    /// <summary>The answer in <paramref name="dialect"/>'s error bodies (see <see cref="ErrorDialect"/>).</summary>
    public MockHttpResult ToResult(ErrorDialect dialect)
    {
        if (dialect is ErrorDialect.A1111 or ErrorDialect.SdNext)
        {
            return ToResult();
        }

        JsonNode body = this switch
        {
            // FastAPI's own http_exception_handler (fastapi 0.104.1, pinned by forge@dfdcbab:requirements_versions.txt)
            { Detail: { } detail } => new JsonObject { ["detail"] = detail },
            // forge@dfdcbab:webui.py:30-38
            { ErrorType: { } type } => new JsonObject { ["error"] = type, ["detail"] = "", ["body"] = "", ["message"] = Message },
            _ => Body,
        };
        return new(Status, body.ToJsonString(MockHttpResult.WireOptions));
    }

    /// <summary>An answer with a body of another dialect (SD.Next's adds "code"; see SdNextErrors).</summary>
    public static MockRouteException WithBody(int status, JsonNode body, string message) => new(status, body, message);

    /// <summary>An HTTPException re-wrapped by the webui handler: {"error","detail","body","errors"} (A1111 api.py:167-196).</summary>
    public static MockRouteException Http(int status, string detail) => new(status, new JsonObject
    {
        ["error"] = "HTTPException",
        ["detail"] = detail,
        ["body"] = "",
        // str(HTTPException) = "<status>: <detail>" in Starlette (not verified for the 0.26 line pinned by A1111).
        ["errors"] = string.Create(CultureInfo.InvariantCulture, $"{status}: {detail}"),
    }, detail, detail: detail);

    /// <summary>Any other exception becomes a 500 whose message is only in "errors" (A1111 api.py:167-188).</summary>
    public static MockRouteException Internal(string errorType, string message) => new(500, new JsonObject
    {
        ["error"] = errorType,
        ["detail"] = "",
        ["body"] = "",
        ["errors"] = message,
    }, message, errorType);

    /// <summary>
    /// FastAPI's request-validation 422 with pydantic v1 items (fastapi 0.94.0 fastapi/exception_handlers.py,
    /// request_validation_exception_handler).
    /// </summary>
    public static MockRouteException Validation(IEnumerable<ValidationIssue> issues)
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

        return new MockRouteException(422, new JsonObject { ["detail"] = detail }, "request validation failed");
    }

    /// <summary>str(pydantic.ValidationError) as v1 prints it, wrapped as a webui 500.</summary>
    public static MockRouteException PydanticValidation(string model, IReadOnlyList<ValidationIssue> issues)
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
