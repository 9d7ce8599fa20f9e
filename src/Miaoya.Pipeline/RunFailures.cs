using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Pipeline;

/// <summary>
/// <see cref="Failures"/> for a whole run: the pipeline's own failures on top of the box calls'. One place decides which
/// failures are the user's input (exit 2, HTTP 400, never retried), which are worth another try, and which are bugs.
/// </summary>
public static class RunFailures
{
    public static FailureKind Classify(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PipelineException { InputField: not null } or FaceSelectionException or RecipeException:
                    return FailureKind.Input;
                case PipelineException { Final: true }:
                    return FailureKind.Request;
                case WebUiException or WebUiBoxesException or OperationCanceledException:
                    return Failures.Classify(e);
                case InvalidImageDataException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException:
                    // An image or file that cannot be read as it is, or is not there: another attempt finds the same.
                    return FailureKind.Request;
                case IOException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException:
                    return FailureKind.Transient;
            }
        }

        // A step that could not go on for a reason of its own (a box's answer that fails its checks, missing outputs):
        // worth another try. Anything else is a bug.
        return error is PipelineException ? FailureKind.Transient : FailureKind.Unknown;
    }

    /// <summary>A failure of the run rather than a bug: it is recorded in the manifest and reported, not thrown as is.</summary>
    public static bool IsRunFailure(Exception error) => Classify(error) is not (FailureKind.Unknown or FailureKind.Cancelled);

    /// <summary>Another attempt cannot mend it: the input or the request is wrong, or no box has what it needs.</summary>
    public static bool IsPermanent(Exception error) => Classify(error) is FailureKind.Input or FailureKind.Request or FailureKind.Unsupported;
}
