using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// SD.Next's error body: {"error","code","detail","body","errors"} for HTTPException and other exceptions
/// (vladmandic/sdnext@431bcc3 modules/api/middleware.py:64-96); request validation keeps FastAPI's {"detail":[...]}.
/// </summary>
internal static class SdNextErrors
{
    public static MockRouteException Http(int status, string detail) => MockRouteException.WithBody(status, new JsonObject
    {
        ["error"] = "HTTPException",
        ["code"] = status,
        ["detail"] = detail,
        ["body"] = "",
        ["errors"] = string.Create(CultureInfo.InvariantCulture, $"{status}: {detail}"),
    }, detail);

    public static MockRouteException Internal(string errorType, string message) => MockRouteException.WithBody(500, new JsonObject
    {
        ["error"] = errorType,
        ["code"] = 500,
        ["detail"] = "",
        ["body"] = "",
        ["errors"] = message,
    }, message);
}
