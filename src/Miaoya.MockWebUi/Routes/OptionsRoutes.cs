using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>The server's settings and state: <c>/sdapi/v1/options</c> (GET, POST), <c>cmd-flags</c> and <c>memory</c>.</summary>
internal sealed class OptionsRoutes(MockWebUiOptions options, MockState state, BasicAuth auth, int port, ProfileTraits profile)
{
    public void AddTo(RouteTable routes)
    {
        routes.Get("/sdapi/v1/options", _ => Task.FromResult(MockHttpResult.Json(state.OptionsJson())));
        routes.Post("/sdapi/v1/options", request =>
        {
            var updated = state.SetOptions(request.BodyObject());
            // A1111 answers null; SD.Next {"updated": [{key: changed}, ...]} (modules/api/server.py:71-76)
            return Task.FromResult(profile.Family == ServerFamily.SdNext
                ? MockHttpResult.Json(new JsonObject { ["updated"] = updated })
                : MockHttpResult.Null());
        });
        routes.Get("/sdapi/v1/cmd-flags", _ => Task.FromResult(MockHttpResult.Json(CmdFlags())));
        routes.Get("/sdapi/v1/memory", _ => Task.FromResult(MockHttpResult.Json(MemoryJson())));
    }

    private static JsonObject MemoryJson()
    {
        static JsonObject Triple(double free, double used) => new() { ["free"] = free, ["used"] = used, ["total"] = free + used };
        static JsonObject Pair(long current, long peak) => new() { ["current"] = current, ["peak"] = peak };
        return new JsonObject
        {
            ["ram"] = Triple(54_000_000_000, 12_000_000_000),
            ["cuda"] = new JsonObject
            {
                ["system"] = Triple(20_000_000_000, 4_000_000_000),
                ["active"] = Pair(2_600_000_000, 3_900_000_000),
                ["allocated"] = Pair(2_600_000_000, 3_900_000_000),
                ["reserved"] = Pair(3_100_000_000, 4_300_000_000),
                ["inactive"] = Pair(150_000_000, 800_000_000),
                ["events"] = new JsonObject { ["retries"] = 0, ["oom"] = 0 },
            },
        };
    }

    private JsonObject CmdFlags() => new()
    {
        ["data_dir"] = "/app",
        ["models_dir"] = "/app/models",
        ["ckpt_dir"] = null,
        ["port"] = port,
        ["listen"] = options.ListenOnAllInterfaces,
        ["api"] = true,
        ["api_auth"] = auth.Enabled ? options.Auth : null,
        ["api_log"] = false,
        ["nowebui"] = true,
        ["xformers"] = true,
        ["medvram"] = false,
        ["lowvram"] = false,
        ["no_half"] = false,
        ["no_half_vae"] = false,
        ["api_server_stop"] = false,
        ["cors_allow_origins"] = null,
        ["skip_torch_cuda_test"] = false,
        ["enable_insecure_extension_access"] = false,
    };
}
