namespace Miaoya.Pipeline;

/// <summary>A run cannot start or go on: bad input, a box that lacks something, a step that failed. The message says what, where and how to fix it.</summary>
public sealed class PipelineException : Exception
{
    public PipelineException()
    {
    }

    public PipelineException(string message)
        : base(message)
    {
    }

    public PipelineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The step that failed, when one did.</summary>
    public string? Step { get; init; }

    /// <summary>
    /// The input at fault when the failure is bad input (<c>template</c>, <c>face</c>, <c>face_index</c>, <c>lora</c>,
    /// <c>mask</c>, <c>models</c>, <c>device</c>, <c>recipe</c>): nothing a resume can fix; the CLI exits 2 and the API
    /// answers 400 naming it. Null for failures of a box or a step.
    /// </summary>
    public string? InputField { get; init; }

    /// <summary>The run folder, when one was created (for <c>--resume</c>).</summary>
    public string? RunFolder { get; init; }

    /// <summary>
    /// True when another attempt would end the same way although the input was valid (no candidate passing the likeness
    /// gates: the same seeds render the same candidates), so a job is not retried.
    /// </summary>
    public bool Final { get; init; }
}
