using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Miaoya.Server;

/// <summary>RFC 7807 problem details (<c>application/problem+json</c>); a validation problem names the field at fault.</summary>
internal static class Problems
{
    public static ProblemDetails Create(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    /// <summary>A problem with one field: <c>errors: { field: [message] }</c>, and <c>field</c> as an extension member.</summary>
    public static IResult Field(int status, string field, string message)
    {
        var problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = status,
            Title = status == StatusCodes.Status413PayloadTooLarge ? "Upload too large" : "Invalid job submission",
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
