namespace Miaoya.MockWebUi;

/// <summary>Answers one route.</summary>
internal delegate Task<MockHttpResult> RouteHandler(MockRequest request);

/// <summary>Who may call a route.</summary>
internal enum RouteAccess
{
    /// <summary>Behind <c>--api-auth</c> (the WebUI's own API and the tagger's).</summary>
    ApiAuth,

    /// <summary>
    /// Open to all: routes extensions register with <c>app.get/post</c>; A1111 v1.10.1 adds the auth dependency only in
    /// Api.add_api_route (modules/api/api.py:274-277).
    /// </summary>
    Open,
}

/// <summary>One route: a method on a path, who may call it, and the extension that serves it, if any.</summary>
internal sealed record Route(string Method, string Path, RouteAccess Access, string? Extension, RouteHandler Handler);

/// <summary>
/// Path + method → handler, answered as Starlette does: an unknown path, or the path of an extension the box lacks, is
/// 404 {"detail":"Not Found"}; a known path with another method is 405 (neither asks for credentials); then
/// <see cref="RouteAccess.ApiAuth"/> routes check <c>--api-auth</c> before their handler runs.
/// </summary>
internal sealed class RouteTable(BasicAuth auth, Lacking lacking)
{
    private readonly Dictionary<string, PathRoutes> _paths = new(StringComparer.Ordinal);

    /// <summary>Every route, grouped by path.</summary>
    public IReadOnlyList<Route> Routes => [.. _paths.Values.SelectMany(p => p.Methods.Values)];

    public void Get(string path, RouteHandler handler, RouteAccess access = RouteAccess.ApiAuth, string? extension = null) =>
        Add(new Route("GET", path, access, extension, handler));

    public void Post(string path, RouteHandler handler, RouteAccess access = RouteAccess.ApiAuth, string? extension = null) =>
        Add(new Route("POST", path, access, extension, handler));

    public void Delete(string path, RouteHandler handler, RouteAccess access = RouteAccess.ApiAuth, string? extension = null) =>
        Add(new Route("DELETE", path, access, extension, handler));

    /// <summary>Adds a route; a path has one extension (or none) for all its methods, and a method once.</summary>
    public void Add(Route route)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (!_paths.TryGetValue(route.Path, out var routes))
        {
            routes = new PathRoutes(route.Extension);
            _paths.Add(route.Path, routes);
        }

        if (routes.Extension != route.Extension)
        {
            throw new InvalidOperationException($"{route.Path} is served by '{routes.Extension}', not '{route.Extension}'.");
        }

        if (!routes.Methods.TryAdd(route.Method, route))
        {
            throw new InvalidOperationException($"{route.Method} {route.Path} is already routed.");
        }
    }

    /// <summary>The route for <paramref name="method"/> (any case) on <paramref name="path"/> (exact), or why there is none.</summary>
    public RouteLookup Resolve(string method, string path)
    {
        if (!_paths.TryGetValue(path, out var routes) || (routes.Extension is { } extension && lacking.Name(extension)))
        {
            return new RouteLookup(RouteOutcome.NotFound, null);
        }

        return routes.Methods.TryGetValue(method, out var route)
            ? new RouteLookup(RouteOutcome.Found, route)
            : new RouteLookup(RouteOutcome.MethodNotAllowed, null);
    }

    /// <summary>Answers <paramref name="request"/>: 404, 405, or the route's handler after its credentials check (errors are thrown).</summary>
    public Task<MockHttpResult> DispatchAsync(MockRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var lookup = Resolve(request.Method, request.Path);
        switch (lookup.Outcome)
        {
            case RouteOutcome.NotFound:
                return Task.FromResult(MockHttpResult.NotFound());
            case RouteOutcome.MethodNotAllowed:
                return Task.FromResult(MockHttpResult.MethodNotAllowed());
            default:
                var route = lookup.Route!;
                if (route.Access == RouteAccess.ApiAuth)
                {
                    auth.Check(request);
                }

                return route.Handler(request);
        }
    }

    private sealed class PathRoutes(string? extension)
    {
        public string? Extension { get; } = extension;

        public Dictionary<string, Route> Methods { get; } = new(StringComparer.OrdinalIgnoreCase);
    }
}

/// <summary>How a path and method resolved.</summary>
internal enum RouteOutcome
{
    Found,
    NotFound,
    MethodNotAllowed,
}

/// <summary>The outcome of <see cref="RouteTable.Resolve"/>; <see cref="Route"/> is set when found.</summary>
internal readonly record struct RouteLookup(RouteOutcome Outcome, Route? Route);
