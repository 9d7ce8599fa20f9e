using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Miaoya.MockWebUi;

/// <summary>Closes the TCP connection of the request being answered, without a response (a box that is down, a DropConnection fault).</summary>
/// <remarks>
/// This is the mock's one <see cref="AsyncLocal{T}"/>, kept on purpose. WireMock 1.25 gives the response callback only an
/// <c>IRequestMessage</c>: no HttpContext, connection or items to reach the socket by. The other way back to the
/// connection, a marker on the response that the edge middleware acts on, would show in WireMock's request log (its log
/// entries keep the response message, and the admin API serves them), and by then Kestrel may have started the response.
/// The middleware added by <see cref="Track"/> sets the value in the async flow that runs WireMock's pipeline, callback
/// included, so it names this request's connection and no other; only <see cref="DropCurrent"/> reads it, and
/// <see cref="RequestPipeline"/> receives that as an explicit delegate.
/// </remarks>
internal sealed class ConnectionDropper
{
    private readonly AsyncLocal<HttpContext?> _current = new();

    /// <summary>For <c>WireMockServerSettings.PreWireMockMiddlewareInit</c> (an <see cref="IApplicationBuilder"/>).</summary>
    public void Track(object app) => ((IApplicationBuilder)app).Use(async (ctx, next) =>
    {
        _current.Value = ctx;
        await next(ctx);
    });

    /// <summary>Aborts the connection of the request this flow answers (no-op outside one).</summary>
    public void DropCurrent() => _current.Value?.Abort();
}
