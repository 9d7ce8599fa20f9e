namespace Miaoya.WebUi;

/// <summary>Base of every error the WebUI client raises; <see cref="Endpoint"/> names the call, e.g. <c>POST /sdapi/v1/img2img</c>.</summary>
public abstract class WebUiException : Exception
{
    protected WebUiException(string endpoint, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Endpoint = endpoint;
    }

    /// <summary>Method and path of the call that failed.</summary>
    public string Endpoint { get; }
}

/// <summary>One field-level problem reported by the server (FastAPI <c>loc</c>/<c>msg</c>/<c>type</c>, or a pydantic block in <c>errors</c>).</summary>
public sealed record WebUiFieldError(string Field, string Message, string? Type);

/// <summary>
/// The server answered with an error status. Both error dialects are parsed: FastAPI's 422 (fastapi 0.94.0
/// fastapi/exception_handlers.py) and the WebUI's error object (A1111 v1.10.1 modules/api/api.py:167-196).
/// </summary>
public sealed class WebUiApiException : WebUiException
{
    internal WebUiApiException(
        string endpoint,
        int statusCode,
        string? errorType,
        string? detail,
        IReadOnlyList<WebUiFieldError> fieldErrors,
        string message,
        Exception? innerException = null)
        : base(endpoint, message, innerException)
    {
        StatusCode = statusCode;
        ErrorType = errorType;
        Detail = detail;
        FieldErrors = fieldErrors;
    }

    /// <summary>HTTP status code.</summary>
    public int StatusCode { get; }

    /// <summary>The WebUI's <c>error</c> (exception class name, e.g. <c>HTTPException</c>, <c>ValidationError</c>); null for FastAPI 422s.</summary>
    public string? ErrorType { get; }

    /// <summary>The server's message (<c>detail</c>, or <c>errors</c> when detail is empty as on 500s).</summary>
    public string? Detail { get; }

    /// <summary>Offending fields, when the server named any.</summary>
    public IReadOnlyList<WebUiFieldError> FieldErrors { get; }
}

/// <summary>No usable answer arrived: connection refused or dropped, timeout, or the box's circuit is open.</summary>
public sealed class WebUiTransportException : WebUiException
{
    internal WebUiTransportException(string endpoint, WebUiTransportFailure failure, bool generationMayStillBeRunning, string message, Exception? innerException)
        : base(endpoint, message, innerException)
    {
        Failure = failure;
        GenerationMayStillBeRunning = generationMayStillBeRunning;
    }

    /// <summary>What went wrong on the wire.</summary>
    public WebUiTransportFailure Failure { get; }

    /// <summary>True when a generation call was sent and the box may still be rendering it (so it was not retried).</summary>
    public bool GenerationMayStillBeRunning { get; }
}

/// <summary>Kinds of transport failure.</summary>
public enum WebUiTransportFailure
{
    /// <summary>Could not connect (nothing reached the server).</summary>
    ConnectionFailed,

    /// <summary>The connection dropped after the request was sent.</summary>
    ConnectionLost,

    /// <summary>No answer within the configured timeout.</summary>
    Timeout,

    /// <summary>The circuit breaker for this base URL is open after repeated failures.</summary>
    CircuitOpen,
}

/// <summary>A success status with a body that cannot be read: malformed JSON, a truncated image.</summary>
public sealed class WebUiProtocolException : WebUiException
{
    internal WebUiProtocolException(string endpoint, string message, Exception? innerException)
        : base(endpoint, message, innerException)
    {
    }
}

/// <summary>Refused before sending: the request names something the server does not have, or breaks a rule it would enforce.</summary>
public sealed class WebUiRequestException : WebUiException
{
    internal WebUiRequestException(string endpoint, IReadOnlyList<string> problems)
        : base(endpoint, $"{endpoint} refused before sending:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}")
    {
        Problems = problems;
    }

    /// <summary>Every problem found, each naming the field.</summary>
    public IReadOnlyList<string> Problems { get; }
}

/// <summary>The server at the URL is not one Miaoya can drive (ComfyUI today): this box cannot, another may.</summary>
public sealed class WebUiUnsupportedBackendException : WebUiException
{
    internal WebUiUnsupportedBackendException(string endpoint, WebUiBackend backend, string message)
        : base(endpoint, message)
    {
        Backend = backend;
    }

    /// <summary>What answered.</summary>
    public WebUiBackend Backend { get; }
}
