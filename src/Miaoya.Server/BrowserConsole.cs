using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Miaoya.Server;

/// <summary>
/// The browser console at <c>/</c>: one HTML page with its script, style sheet and icon under <c>/console/</c>, all embedded
/// in this assembly (no build step, nothing from another host). Like <c>/docs</c> the files are open without the key: they
/// hold no job, key or box address. The page asks for the key and sends it as <c>X-Api-Key</c> on every call it makes;
/// images are fetched with the key and shown from blob: URLs, so the key never travels in a URL.
/// </summary>
internal static class BrowserConsole
{
    /// <summary>The folder of the console's assets (no API route lives under it).</summary>
    public const string AssetPrefix = "/console";

    /// <summary>
    /// Scripts and styles only from this server, as files (no inline script or style attribute runs); images from this
    /// server or the blob: URLs of fetched outputs; calls (fetch, EventSource) only to this server; no frames, forms posted
    /// elsewhere or base URL changes.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
        "form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    private const string ResourcePrefix = "Miaoya.Server.Console.";

    private static readonly FrozenDictionary<string, (byte[] Content, string ContentType)> Files = new Dictionary<string, (byte[], string)>
    {
        ["index.html"] = (Read("index.html"), "text/html; charset=utf-8"),
        ["console.js"] = (Read("console.js"), "text/javascript; charset=utf-8"),
        ["console.css"] = (Read("console.css"), "text/css; charset=utf-8"),
        ["icon.svg"] = (Read("icon.svg"), "image/svg+xml"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Whether a request may skip the key: a GET or HEAD of the page (<c>/</c>) or of one of its assets.</summary>
    public static bool IsOpen(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && (request.Path.Equals("/", StringComparison.Ordinal) || request.Path.StartsWithSegments(AssetPrefix, StringComparison.Ordinal));

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], (HttpContext context) => Serve(context, "index.html"))
            .ExcludeFromDescription();
        app.MapMethods(AssetPrefix + "/{file}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string file) => Serve(context, file))
            .ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if ((file == "index.html" && context.Request.Path != "/") || !Files.TryGetValue(file, out var entry))
        {
            return Problems.Result(StatusCodes.Status404NotFound, "Not found", $"the console has no file '{Miaoya.Limits.UserText.Quote(file)}' (it serves / and {AssetPrefix}/console.js, console.css, icon.svg).");
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // Small files: revalidate each load, so a new server version's page and script are never mixed.
        headers.CacheControl = "no-cache";
        return Results.Bytes(entry.Content, entry.ContentType);
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(BrowserConsole).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The console file {name} is not embedded in {typeof(BrowserConsole).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
