using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Miaoya.Server;

/// <summary>RFC 7807 problem details (<c>application/problem+json</c>); a validation problem names the field at fault.</summary>
internal static class Problems
{
    public static ProblemDetails Create(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    /// <summary>Longest message a problem repeats (a recipe's problems are already capped at 50; this bounds the rest).</summary>
    public const int MaxMessageChars = 8 * 1024;

    /// <summary>A problem with one field: <c>errors: { field: [message] }</c>, and <c>field</c> as an extension member.</summary>
    public static IResult Field(int status, string field, string message)
    {
        field = Miaoya.Limits.UserText.Quote(field);
        if (message.Length > MaxMessageChars)
        {
            message = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{message[..MaxMessageChars]}… (cut: {message.Length:N0} characters in all)");
        }

        var problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = status,
            Title = status switch
            {
                StatusCodes.Status413PayloadTooLarge => "Upload too large",
                StatusCodes.Status503ServiceUnavailable => "Busy",
                _ => "Invalid request",
            },
            Detail = $"{field}: {message}",
        };
        problem.Extensions["field"] = field;
        return Results.Problem(problem);
    }

    public static IResult Result(int status, string title, string detail) => Results.Problem(Create(status, title, detail));

    public static Task WriteAsync(HttpContext context, ProblemDetails problem) => Results.Problem(problem).ExecuteAsync(context);
}

/// <summary>A request that cannot be accepted, with the field at fault; the endpoints turn it into problem details.</summary>
internal sealed class FieldProblemException(int status, string field, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Field { get; } = field;
}
