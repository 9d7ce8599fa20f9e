namespace Miaoya.Limits;

/// <summary>An input over a limit of <see cref="InputLimits"/>, or not a kind of file that can be read (a device, a folder). The message names the file and the limit.</summary>
public sealed class InputLimitException : IOException
{
    public InputLimitException(string message)
        : base(message)
    {
    }

    public InputLimitException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public InputLimitException()
        : this("the input is over a limit")
    {
    }
}
