using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Miaoya.Server;

/// <summary>
/// Short-lived tokens that let a browser's <c>EventSource</c>, which cannot send headers, open a job's event stream
/// without the API key in its URL. <c>POST /v1/event-tokens</c> (with the key) returns one; it is good for
/// <see cref="Lifetime"/>, only for <c>GET /v1/jobs/{id}/events</c>, sent as <c>?access_token=TOKEN</c>. A token is the
/// expiry time and an HMAC-SHA256 of it under a key drawn when the server starts (nothing is stored; a restart voids
/// every token), compared in constant time.
/// </summary>
internal sealed class EventTokens(TimeProvider time)
{
    /// <summary>How long a token is good for: enough to open a stream (a reconnecting EventSource needs a new one).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(LifetimeMinutes);

    /// <summary>The query parameter the token travels in.</summary>
    public const string QueryName = "access_token";

    private const string Purpose = "miaoya-events-v1:";

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    /// <summary>A new token and when it expires.</summary>
    public (string Token, DateTimeOffset ExpiresAt) Issue()
    {
        var expires = time.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds();
        var seconds = expires.ToString(CultureInfo.InvariantCulture);
        return ($"{seconds}.{Base64Url.EncodeToString(Sign(seconds))}", DateTimeOffset.FromUnixTimeSeconds(expires));
    }

    /// <summary>True for a request to a job's event stream carrying a token this server issued that has not expired.</summary>
    public bool Admits(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method) || !IsEventStream(request.Path) || request.Query[QueryName] is not { Count: 1 } values || values[0] is not { } token)
        {
            return false;
        }

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !long.TryParse(token.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return false;
        }

        byte[] presented;
        try
        {
            presented = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(presented, Sign(token[..dot]))
            && time.GetUtcNow().ToUnixTimeSeconds() < expires;
    }

    /// <summary><c>/v1/jobs/{id}/events</c>.</summary>
    internal static bool IsEventStream(PathString path)
    {
        var parts = (path.Value ?? "").Split('/');
        return parts is ["", "v1", "jobs", { Length: > 0 }, "events"];
    }

    /// <summary><c>POST /v1/event-tokens</c>: a token for <c>EventSource</c> (behind the API key like the rest of /v1).</summary>
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/v1/event-tokens", (EventTokens tokens, TimeProvider clock) =>
            {
                var (token, expires) = tokens.Issue();
                return Results.Ok(new EventTokenView(token, expires, Math.Round((expires - clock.GetUtcNow()).TotalSeconds), $"GET /v1/jobs/{{id}}/events?{QueryName}={token}"));
            })
            .WithName("CreateEventToken")
            .WithTags("jobs")
            .WithSummary($"A token for a browser's EventSource, which cannot send the API key: good for {EventTokens.LifetimeMinutes} minutes, only for GET /v1/jobs/{{id}}/events?access_token=TOKEN")
            .Produces<EventTokenView>();

    private const int LifetimeMinutes = 5;

    private byte[] Sign(string seconds) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(Purpose + seconds));
}

/// <summary>An event-stream token: the token, when it expires, seconds left, and the request it is for.</summary>
internal sealed record EventTokenView(string Token, DateTimeOffset ExpiresAt, double ExpiresInS, string Usage);
