using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// What the box has: models, VAEs (Forge: VAEs and text encoders as sd-modules), embeddings, samplers, schedulers (not on
/// webui-1.8 or sdnext), upscalers, scripts, extensions and LoRAs, each listing without what it lacks; and the refresh/unload calls,
/// which change nothing here.
/// </summary>
internal sealed class CatalogueRoutes(Lacking lacking, LoraFolder loras, ProfileTraits profile, ControlNetBox? controlNet = null)
{
    private static readonly string[] LatentUpscaleModes =
        ["Latent", "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)", "Latent (nearest)", "Latent (nearest-exact)"];

    public void AddTo(RouteTable routes)
    {
        Get(routes, "sd-models", () => lacking.Filter(Catalog.SdModels(), "model_name"));
        if (profile.HasSdVae)
        {
            Get(routes, "sd-vae", Catalog.SdVae);
        }

        if (profile.HasSdModules)
        {
            // [{"model_name", "filename"}] of models/VAE and models/text_encoder (forge@dfdcbab:modules/api/api.py:228,731-733)
            Get(routes, "sd-modules", Catalog.SdVae);
        }

        Get(routes, "embeddings", () => lacking.FilterEmbeddings(Catalog.Embeddings()));
        Get(routes, "samplers", () => Catalog.SamplersJson(profile.Samplers, profile.SplitSamplers));
        if (profile.Samplers == SamplerDialect.Split)
        {
            Get(routes, "schedulers", () => Catalog.SchedulersJson(profile.Schedulers)); // since 1.9.1 (A1111 CHANGELOG.md, 1.9.1, #15577); 404 on 1.8
        }

        Get(routes, "upscalers", () => lacking.Filter(Catalog.Upscalers(), "name"));
        var sdNext = profile.Family == ServerFamily.SdNext;
        if (!sdNext)
        {
            // SD.Next has neither (vladmandic/sdnext@431bcc3 modules/api/api.py:39-104)
            Get(routes, "latent-upscale-modes", () => new JsonArray([.. LatentUpscaleModes.Select(n => (JsonNode)new JsonObject { ["name"] = n })]));
            Get(routes, "realesrgan-models", () => new JsonArray());
        }

        foreach (var empty in new[] { "hypernetworks", "prompt-styles" })
        {
            Get(routes, empty, () => new JsonArray());
        }

        Get(routes, "scripts", sdNext ? SdNextCatalog.Scripts : Catalog.Scripts);
        Get(routes, "script-info", () => lacking.Filter(Catalog.ScriptInfo((controlNet ?? ControlNetBox.Default).UnitCount), "name"));
        Get(routes, "extensions", () => lacking.FilterExtensions(sdNext ? SdNextCatalog.Extensions() : Catalog.Extensions(profile)));
        foreach (var refresh in new[] { "refresh-checkpoints", "refresh-embeddings", "refresh-vae" })
        {
            routes.Post("/sdapi/v1/" + refresh, _ => Task.FromResult(MockHttpResult.Null()));
        }

        foreach (var checkpoint in new[] { "unload-checkpoint", "reload-checkpoint" })
        {
            routes.Post("/sdapi/v1/" + checkpoint, _ => Task.FromResult(MockHttpResult.Json(new JsonObject())));
        }

        // The built-in Lora extension registers these with app.get/post, so no --api-auth: A1111 v1.10.1 adds the auth
        // dependency only in Api.add_api_route (modules/api/api.py:274-277); Lora's routes use app.get/post
        // (lora_script.py:62-72).
        routes.Get("/sdapi/v1/loras", _ => Task.FromResult(MockHttpResult.Json(lacking.Filter(loras.All(), "name"))), RouteAccess.Open);
        routes.Post("/sdapi/v1/refresh-loras", _ =>
        {
            loras.Scan();
            return Task.FromResult(MockHttpResult.Null());
        }, RouteAccess.Open);
    }

    private static void Get(RouteTable routes, string name, Func<JsonNode> listing) =>
        routes.Get("/sdapi/v1/" + name, _ => Task.FromResult(MockHttpResult.Json(listing())));
}
