using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Miaoya.Server;

/// <summary>
/// Every request but <c>GET /healthz</c>, the API reference (<see cref="ApiReference.IsOpen"/>: the OpenAPI document and
/// <c>/docs</c>) and the browser console's files (<see cref="BrowserConsole.IsOpen"/>: <c>/</c> and <c>/console/</c>) must carry the API key, as <c>X-Api-Key: KEY</c> or <c>Authorization: Bearer KEY</c>.
/// The comparison is over SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>, so neither the key's
/// content nor its length shows in the response time. A missing or wrong key is 401 with RFC 7807 problem details. A job's
/// event stream also admits a short-lived token in its URL (<see cref="EventTokens"/>), for a browser's EventSource, which
/// cannot send the key as a header.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, byte[] keyDigest, EventTokens tokens)
{
    public const string HeaderName = "X-Api-Key";

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path.Equals("/healthz", StringComparison.Ordinal) || ApiReference.IsOpen(context.Request) || BrowserConsole.IsOpen(context.Request)
            || Matches(Presented(context.Request))
            || tokens.Admits(context.Request))
        {
            await next(context);
            return;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.WriteAsync(context, Problems.Create(
            StatusCodes.Status401Unauthorized, "Unauthorized", EventTokens.IsEventStream(context.Request.Path) && context.Request.Query.ContainsKey(EventTokens.QueryName)
                ? $"The {EventTokens.QueryName} is not one this server issued, or it expired ({EventTokens.Lifetime.TotalMinutes:0} minutes): get a new one from POST /v1/event-tokens."
                : $"Send the API key as the {HeaderName} header or as Authorization: Bearer KEY."));
    }

    public static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string? Presented(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header) && header.Count == 1)
        {
            return header[0];
        }

        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return value["Bearer ".Length..].Trim();
        }

        return null;
    }

    private bool Matches(string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Digest(presented), keyDigest);
}
