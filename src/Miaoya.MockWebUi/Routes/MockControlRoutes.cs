using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// The mock's own routes, which no WebUI has: under <c>/__mock/</c>, beside WireMock's <c>/__admin/</c> and clear of every
/// sd-webui and extension path, and behind <c>--api-auth</c> as the admin API is.
/// <c>GET /__mock/renders</c> answers the <see cref="RenderCounter"/>'s counts; <c>DELETE /__mock/renders</c> starts them afresh.
/// </summary>
internal sealed class MockControlRoutes(RenderCounter renders)
{
    public void AddTo(RouteTable routes)
    {
        routes.Get("/__mock/renders", _ => Task.FromResult(MockHttpResult.Json(ToJson(renders.Snapshot()))));
        routes.Delete("/__mock/renders", _ =>
        {
            renders.Reset();
            return Task.FromResult(MockHttpResult.Json(ToJson(renders.Snapshot())));
        });
    }

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
