using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Miaoya.Server;

/// <summary>RFC 7807 problem details (<c>application/problem+json</c>); a validation problem names the field at fault.</summary>
internal static class Problems
{
    public static ProblemDetails Create(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    /// <summary>
    /// Longest message a problem carries in <c>errors</c> (a recipe's problems are already capped at 50; this bounds the
    /// rest). Every character outside ASCII is escaped as six bytes in the JSON, so a refusal stays under 32 KiB.
    /// </summary>
    public const int MaxMessageChars = 4000;

    /// <summary>Longest <c>detail</c>: the field and the start of the message (the whole message is in <c>errors</c>).</summary>
    public const int MaxDetailChars = 300;

    /// <summary>A problem with one field: <c>errors: { field: [message] }</c>, and <c>field</c> as an extension member.</summary>
    public static IResult Field(int status, string field, string message)
    {
        field = Miaoya.Limits.UserText.Quote(field);
        message = Cut(message, MaxMessageChars);
        var problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = status,
            Title = status switch
            {
                StatusCodes.Status413PayloadTooLarge => "Upload too large",
                StatusCodes.Status503ServiceUnavailable => "Busy",
                _ => "Invalid request",
            },
            Detail = Cut($"{field}: {message}", MaxDetailChars),
        };
        problem.Extensions["field"] = field;
        return Results.Problem(problem);
    }

    private static string Cut(string text, int max) =>
        text.Length <= max ? text : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{text[..max]}… (cut: {text.Length:N0} characters in all)");

    public static IResult Result(int status, string title, string detail) => Results.Problem(Create(status, title, detail));

    public static Task WriteAsync(HttpContext context, ProblemDetails problem) => Results.Problem(problem).ExecuteAsync(context);
}

/// <summary>A request that cannot be accepted, with the field at fault; the endpoints turn it into problem details.</summary>
internal sealed class FieldProblemException(int status, string field, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Field { get; } = field;
}
