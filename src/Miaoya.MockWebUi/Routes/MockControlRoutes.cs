using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// The mock's own routes, which no WebUI has: under <c>/__mock/</c>, beside WireMock's <c>/__admin/</c> and clear of every
/// sd-webui and extension path, and behind <c>--api-auth</c> as the admin API is.
/// <c>GET /__mock/renders</c> answers the <see cref="RenderCounter"/>'s counts; <c>DELETE /__mock/renders</c> starts them afresh.
/// <c>GET /__mock/console</c> answers {"errors": [...]}, what the box printed and carried on after (<see cref="ConsoleLog"/>);
/// <c>DELETE /__mock/console</c> clears it.
/// </summary>
internal sealed class MockControlRoutes(RenderCounter renders, ConsoleLog console)
{
    public void AddTo(RouteTable routes)
    {
        routes.Get("/__mock/console", _ => Task.FromResult(MockHttpResult.Json(ConsoleJson())));
        routes.Delete("/__mock/console", _ =>
        {
            console.Clear();
            return Task.FromResult(MockHttpResult.Json(ConsoleJson()));
        });
        routes.Get("/__mock/renders", _ => Task.FromResult(MockHttpResult.Json(ToJson(renders.Snapshot()))));
        routes.Delete("/__mock/renders", _ =>
        {
            renders.Reset();
            return Task.FromResult(MockHttpResult.Json(ToJson(renders.Snapshot())));
        });
    }

    private JsonObject ConsoleJson() => new() { ["errors"] = new JsonArray([.. console.Errors.Select(e => (JsonNode)e)]) };

    /// <summary>{"in_flight":..,"max_in_flight":..,"started":..,"overlapping_starts":..}.</summary>
    public static JsonObject ToJson(MockRenderCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        return new JsonObject
        {
            ["in_flight"] = counts.InFlight,
            ["max_in_flight"] = counts.MaxInFlight,
            ["started"] = counts.Started,
            ["overlapping_starts"] = counts.OverlappingStarts,
        };
    }
}
