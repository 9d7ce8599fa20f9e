namespace Miaoya.Training;

/// <summary>A training-side failure whose message says what was wrong and where (file, set, step).</summary>
public sealed class TrainingException : Exception
{
    public TrainingException(string message, bool badInput = false, Exception? inner = null)
        : base(message, inner) => IsBadInput = badInput;

    public TrainingException()
    {
    }

    public TrainingException(string message)
        : base(message)
    {
    }

    public TrainingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the input (options, recipe, photos, dataset) was wrong (exit code 2), false for a failed step (1).</summary>
    public bool IsBadInput { get; }
}
