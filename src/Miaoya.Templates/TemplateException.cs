using Miaoya.Recipes;

namespace Miaoya.Templates;

/// <summary>A template or its library is not usable; <see cref="Problems"/> lists every problem, each as <c>file:line:column: path: message</c>.</summary>
public sealed class TemplateException : Exception
{
    public TemplateException(IReadOnlyList<RecipeProblem> problems)
        : base(string.Join('\n', problems?.Select(p => p.ToString()) ?? []))
    {
        Problems = problems ?? [];
    }

    /// <summary>One problem without a file (an unknown name, a name already taken); the message is the text alone.</summary>
    public TemplateException(string message)
        : this(message, null)
    {
    }

    public TemplateException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Problems = [new RecipeProblem(string.Empty, 0, 0, string.Empty, message)];
    }

    public TemplateException()
        : this("The template is not valid.")
    {
    }

    public IReadOnlyList<RecipeProblem> Problems { get; }
}
