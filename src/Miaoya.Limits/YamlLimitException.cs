using YamlDotNet.Core;

namespace Miaoya.Limits;

/// <summary>
/// A YAML document over one of the <see cref="YamlLimits"/>. It is a <see cref="YamlException"/> with the place where the
/// limit was passed, so every reader that reports YAML syntax errors by line and column reports this one the same way.
/// </summary>
public sealed class YamlLimitException : YamlException
{
    public YamlLimitException(Mark start, Mark end, string message)
        : base(start, end, message)
    {
        Reason = message;
    }

    public YamlLimitException(string message)
        : base(message)
    {
        Reason = message;
    }

    public YamlLimitException(string message, Exception inner)
        : base(message, inner)
    {
        Reason = message;
    }

    public YamlLimitException()
        : this("the YAML document is over a limit")
    {
    }

    /// <summary>The limit that was passed, without YamlDotNet's place prefix.</summary>
    public string Reason { get; }
}
