using System.Text.Json;

namespace Miaoya.WebUi;

/// <summary>
/// Turns an error response into a <see cref="WebUiApiException"/>. Two dialects exist: FastAPI's 422
/// <c>{"detail":[{"loc","msg","type"}]}</c> (fastapi 0.94.0 fastapi/exception_handlers.py), and the WebUI's
/// <c>{"error","detail","body","errors"}</c> (A1111 v1.10.1 modules/api/api.py:167-196) where 500s carry the message
/// only in <c>errors</c>. Forge leaves that handler out (forge@dfdcbab modules/api/api.py:210): its HTTPExceptions are
/// FastAPI's plain <c>{"detail": "..."}</c> and other exceptions <c>{"error","detail","body","message"}</c> (webui.py:30-38).
/// </summary>
internal static class WebUiErrorParser
{
    private const int MaxQuotedBody = 600;

    public static WebUiApiException Parse(string endpoint, int status, string? body, Exception? inner = null)
    {
        string? errorType = null;
        string? detail = null;
        var fields = new List<WebUiFieldError>();

        if (!string.IsNullOrWhiteSpace(body) && TryParse(body, out var document))
        {
            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Object)
                {
                    if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                    {
                        errorType = error.GetString();
                    }

                    if (root.TryGetProperty("detail", out var detailElement))
                    {
                        if (detailElement.ValueKind == JsonValueKind.String)
                        {
                            detail = detailElement.GetString();
                        }
                        else if (detailElement.ValueKind == JsonValueKind.Array)
                        {
                            ReadFastApiItems(detailElement, fields);
                        }
                    }

                    if (string.IsNullOrEmpty(detail) && root.TryGetProperty("errors", out var errors))
                    {
                        detail = errors.ValueKind == JsonValueKind.String ? errors.GetString() : errors.GetRawText();
                        if (errorType == "ValidationError" && detail is not null)
                        {
                            ReadPydanticText(detail, fields);
                        }
                    }

                    if (string.IsNullOrEmpty(detail) && root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                    {
                        detail = message.GetString();
                    }
                }
            }
        }
        else if (!string.IsNullOrWhiteSpace(body))
        {
            detail = body.Length > MaxQuotedBody ? body[..MaxQuotedBody] + "…" : body;
        }

        return new WebUiApiException(endpoint, status, errorType, detail, fields, BuildMessage(endpoint, status, errorType, detail, fields), inner);
    }

    private static string BuildMessage(string endpoint, int status, string? errorType, string? detail, List<WebUiFieldError> fields)
    {
        var text = $"{endpoint} failed with HTTP {status}";
        if (!string.IsNullOrEmpty(errorType))
        {
            text += $" ({errorType})";
        }

        if (fields.Count > 0)
        {
            text += ": " + string.Join("; ", fields.Select(f => $"{f.Field}: {f.Message}"));
        }
        else if (!string.IsNullOrWhiteSpace(detail))
        {
            text += ": " + detail.ReplaceLineEndings(" ").Trim();
        }

        if (status == 401)
        {
            text += " — check the user name and password given for --api-auth.";
        }

        return text;
    }

    private static void ReadFastApiItems(JsonElement items, List<WebUiFieldError> fields)
    {
        foreach (var item in items.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var location = new List<string>();
            if (item.TryGetProperty("loc", out var loc) && loc.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in loc.EnumerateArray())
                {
                    location.Add(part.ValueKind == JsonValueKind.String ? part.GetString()! : part.GetRawText());
                }
            }

            // "body" is where FastAPI found it, not part of the field's name.
            if (location.Count > 1 && location[0] == "body")
            {
                location.RemoveAt(0);
            }

            var message = item.TryGetProperty("msg", out var msg) ? msg.GetString() ?? "" : "";
            var type = item.TryGetProperty("type", out var t) ? t.GetString() : null;
            fields.Add(new WebUiFieldError(string.Join('.', location), message, type));
        }
    }

    /// <summary>
    /// pydantic v1's text: "N validation errors for Model\nfield\n  message (type=...)\n..." (seen in the wild for
    /// ControlNetUnit, issue DrCyanide/cyanic-sd-krita#39).
    /// </summary>
    private static void ReadPydanticText(string text, List<WebUiFieldError> fields)
    {
        var lines = text.Split('\n');
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0 || char.IsWhiteSpace(line[0]))
            {
                continue;
            }

            var message = i + 1 < lines.Length ? lines[i + 1].Trim() : "";
            string? type = null;
            var typeAt = message.LastIndexOf("(type=", StringComparison.Ordinal);
            if (typeAt >= 0)
            {
                type = message[(typeAt + 6)..].TrimEnd(')');
                message = message[..typeAt].Trim();
            }

            fields.Add(new WebUiFieldError(line.Trim(), message, type));
        }
    }

    private static bool TryParse(string body, out JsonDocument document)
    {
        try
        {
            document = JsonDocument.Parse(body);
            return true;
        }
        catch (JsonException)
        {
            document = null!;
            return false;
        }
    }
}
