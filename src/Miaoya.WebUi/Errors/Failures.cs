namespace Miaoya.WebUi;

/// <summary>What a failure says, and so what to do about it: the one classification every layer uses.</summary>
public enum FailureKind
{
    /// <summary>Not a known failure: a bug; let it surface.</summary>
    Unknown,

    /// <summary>The box or the network, for now (refused or dropped connection, timeout, 408, 429, 502-504): try again, here or elsewhere.</summary>
    Transient,

    /// <summary>This box cannot (its credentials: 401, 403; its own error: 500; something it lacks): another box may.</summary>
    Box,

    /// <summary>The request itself is wrong (another 4xx, a name the box does not know): no box will answer differently.</summary>
    Request,

    /// <summary>No box has what the call needs (a model, an extension): nothing runs it until a box is given it.</summary>
    Unsupported,

    /// <summary>The user's input (a photo without the face, a LoRA no box has, a bad recipe): exit 2, HTTP 400, never retried.</summary>
    Input,

    /// <summary>The caller stopped it.</summary>
    Cancelled,
}

/// <summary>
/// The one classification of failures of calls to a box, by type and HTTP status: the client's retries (only
/// <see cref="FailureKind.Transient"/> statuses), the fleet's re-placing of a call on another box (transient or box
/// failures), the job worker's retries (transient and box failures only), the CLI's exit codes (input: 2) all read it, so
/// that every layer agrees on every status code (401 and 403 are the box's, everywhere). Layers above add their own exceptions (the pipeline's <c>RunFailures</c>).
/// </summary>
public static class Failures
{
    /// <summary>What an HTTP status from a box says: 408, 429, 502, 503, 504 pass; 401, 403 and 500 are the box's; other 4xx the request's.</summary>
    public static FailureKind OfStatus(int status) => status switch
    {
        408 or 429 or 502 or 503 or 504 => FailureKind.Transient,
        401 or 403 or >= 500 => FailureKind.Box,
        >= 400 => FailureKind.Request,
        _ => FailureKind.Unknown,
    };

    /// <summary>What a failure of a call to a box says (its inner exceptions are looked at when it wraps one).</summary>
    public static FailureKind Classify(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case OperationCanceledException:
                    return FailureKind.Cancelled;
                case WebUiTransportException or WebUiProtocolException:
                    return FailureKind.Transient;
                case WebUiBoxUnavailableException or WebUiUnsupportedBackendException:
                    return FailureKind.Box;
                case WebUiApiException api:
                    return OfStatus(api.StatusCode);
                case WebUiRequestException:
                    return FailureKind.Request;
                case WebUiBoxesException boxes:
                    return boxes.InputOnly ? FailureKind.Input : FailureKind.Unsupported;
            }
        }

        return FailureKind.Unknown;
    }
}
