using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

/// <summary><see cref="MockWebUiOptions.Without"/>: a box lacking extensions (their routes 404) or named files (left out of listings).</summary>
public sealed class WithoutTests
{
    private static MockClient Lacking(params string[] things)
    {
        var options = new MockWebUiOptions();
        foreach (var thing in things)
        {
            options.Without.Add(thing);
        }

        return new MockClient(options);
    }

    private static IEnumerable<string> Names(JsonNode? array, string key) => array!.AsArray().Select(n => n![key]!.GetValue<string>());

    [Fact]
    public async Task Extensions_RoutesAnswer404_AndTheExtensionListLeavesThemOut()
    {
        using var c = Lacking("controlnet", "tagger", "rembg");

        Assert.Equal(404, (await c.GetAsync("controlnet/version")).Status);
        Assert.Equal(404, (await c.GetAsync("controlnet/model_list")).Status);
        Assert.Equal(404, (await c.GetAsync("tagger/v1/interrogators")).Status);
        Assert.Equal(404, (await c.PostAsync("rembg", new JsonObject { ["model"] = "u2net" })).Status);
        Assert.Empty((await c.GetAsync("sdapi/v1/extensions")).Json!.AsArray());
        Assert.DoesNotContain("controlnet", Names((await c.GetAsync("sdapi/v1/script-info")).Json, "name"));
        Assert.Equal(200, (await c.GetAsync("sdapi/v1/samplers")).Status);
    }

    [Fact]
    public async Task Names_LeftOutOfTheirListings_OthersStay()
    {
        using var c = Lacking("chilloutmix_NiPrunedFp32Fix", "badhandv4", "add_detail", "control_v11p_sd15_openpose");

        var models = Names((await c.GetAsync("sdapi/v1/sd-models")).Json, "model_name").ToList();
        Assert.DoesNotContain("chilloutmix_NiPrunedFp32Fix", models);
        Assert.Contains("v1-5-pruned-emaonly", models);
        var embeddings = (await c.GetAsync("sdapi/v1/embeddings")).Json!["loaded"]!.AsObject();
        Assert.Equal(["ng_deepnegative_v1_75t"], embeddings.Select(p => p.Key));
        Assert.DoesNotContain("add_detail", Names((await c.GetAsync("sdapi/v1/loras")).Json, "name"));
        var cn = (await c.GetAsync("controlnet/model_list")).Json!["model_list"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.DoesNotContain("control_v11p_sd15_openpose [cab727d4]", cn);
        Assert.Contains("control_v11p_sd15_softedge [a8575a2a]", cn);
        Assert.Equal(4, (await c.GetAsync("sdapi/v1/extensions")).Json!.AsArray().Count); // controlnet, evaclip, tagger, rembg
    }
}
