using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

/// <summary>
/// GET/POST /sdapi/v1/options against A1111's option registry: AUTOMATIC1111/stable-diffusion-webui@82a973c (v1.10.1) and
/// @bef51ae (v1.8.0) modules/shared_options.py plus built-in extensions, and sd-webui-controlnet's scripts/controlnet.py
/// on_ui_settings (add_option calls at 56cec5b:scripts/controlnet.py:1360-1410); the generated data is
/// src/Miaoya.MockWebUi/Profiles/&lt;profile&gt;/webui-options.json.
/// </summary>
public sealed class OptionsContractTests
{
    // Sample options per source file, with their defaults: shared_options.py (v1.10.1), Lora's lora_script.py:35-42,
    // hypertile_script.py:90-96, CN controlnet.py.
    [Theory]
    [InlineData(MockWebUiProfile.WebUi110, "samples_format", "\"png\"")]
    [InlineData(MockWebUiProfile.WebUi110, "outdir_txt2img_samples", "\"outputs/txt2img-images\"")]
    [InlineData(MockWebUiProfile.WebUi110, "sd_vae", "\"Automatic\"")]
    [InlineData(MockWebUiProfile.WebUi110, "lora_preferred_name", "\"Alias from file\"")]
    [InlineData(MockWebUiProfile.WebUi110, "hypertile_max_tile_unet", "256")]
    [InlineData(MockWebUiProfile.WebUi110, "control_net_unit_count", "3")]
    [InlineData(MockWebUiProfile.WebUi110, "hires_fix_show_sampler", "false")]
    [InlineData(MockWebUiProfile.WebUi18, "samples_format", "\"png\"")]
    [InlineData(MockWebUiProfile.WebUi18, "control_net_model_cache_size", "2")]
    [InlineData(MockWebUiProfile.Forge, "samples_format", "\"png\"")]
    [InlineData(MockWebUiProfile.Forge, "forge_preset", "\"sd\"")]
    [InlineData(MockWebUiProfile.ReForge, "hypertile_max_tile_unet", "256")]
    [InlineData(MockWebUiProfile.ReForge, "reforge_karras_rho", "7.0")]
    public async Task Get_ServesEveryOptionWithItsDefault(MockWebUiProfile profile, string key, string json)
    {
        using var c = new MockClient(profile);
        var options = (await c.GetAsync("sdapi/v1/options")).Json!.AsObject();

        Assert.True(options.Count > 300, options.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), options[key]), $"{key} = {options[key]?.ToJsonString()}");
        Assert.DoesNotContain("api_options", options.Select(p => p.Key)); // OptionHTML/OptionDiv are do_not_save
    }

    // A1111@82a973c modules/api/api.py:678-687 (set_config) + modules/options.py:144-171 (set): every option but the
    // restrict_api ones (shared_options.py api_enable_requests, api_forbid_local_requests, api_useragent) takes what is
    // posted, with no type check, and GET returns it.
    [Theory]
    [InlineData(MockWebUiProfile.WebUi110)]
    [InlineData(MockWebUiProfile.WebUi18)]
    [InlineData(MockWebUiProfile.Forge)]
    [InlineData(MockWebUiProfile.ReForge)]
    public async Task Post_EveryOption_RoundTrips(MockWebUiProfile profile)
    {
        using var c = new MockClient(profile);
        var before = (await c.GetAsync("sdapi/v1/options")).Json!.AsObject();
        var restricted = new[] { "api_enable_requests", "api_forbid_local_requests", "api_useragent" };
        var body = new JsonObject();
        foreach (var (key, value) in before)
        {
            if (key is "sd_model_checkpoint" or "sd_checkpoint_hash" || restricted.Contains(key))
            {
                continue;
            }

            body[key] = Changed(value);
        }

        body["sd_model_checkpoint"] = "v1-5-pruned-emaonly.safetensors [6ce0161689]";
        body["api_useragent"] = "changed";
        Assert.Equal(200, (await c.PostAsync("sdapi/v1/options", body)).Status);

        var after = (await c.GetAsync("sdapi/v1/options")).Json!.AsObject();
        foreach (var (key, value) in body)
        {
            if (key == "api_useragent")
            {
                Assert.Equal("", after[key]!.GetValue<string>()); // restrict_api: left as it was
                continue;
            }

            Assert.True(JsonNode.DeepEquals(value, after[key]), $"{key}: sent {value?.ToJsonString()}, got {after[key]?.ToJsonString()}");
        }

        Assert.Equal(before.Count, after.Count);
    }

    // Forge (dfdcbab) and reForge (3b56b26) are A1111 1.10.1 with their own settings added (forge@dfdcbab:modules_forge/shared_options.py:3-8;
    // reforge@3b56b26:modules/shared_options.py:498-509): webui-1.10's options and those, nothing else.
    [Theory]
    [InlineData(MockWebUiProfile.Forge, new[] { "forge_unet_storage_dtype", "forge_inference_memory", "forge_async_loading", "forge_pin_shared_memory", "forge_preset", "forge_additional_modules" })]
    [InlineData(MockWebUiProfile.ReForge, new[] { "reforge_karras_rho", "reforge_exponential_shrink_factor", "reforge_polyexponential_rho", "reforge_normal_sgm", "reforge_beta_dist_alpha", "reforge_beta_dist_beta" })]
    public async Task Get_ForgeFamily_HasWebUi110sOptionsPlusItsOwn(MockWebUiProfile profile, string[] own)
    {
        using var a1111 = new MockClient(MockWebUiProfile.WebUi110);
        using var fork = new MockClient(profile);
        var expected = (await a1111.GetAsync("sdapi/v1/options")).Json!.AsObject().Select(p => p.Key).Concat(own);
        Assert.Equal(expected.Order(StringComparer.Ordinal), (await fork.GetAsync("sdapi/v1/options")).Json!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    // options.py:147-151: oldval == value returns before data_labels[key], so an unknown key with null passes.
    [Fact]
    public async Task Post_AnUnknownKey_IsKeyErrorUnlessItsValueIsNull()
    {
        using var c = new MockClient();
        Assert.Equal(200, (await c.PostAsync("sdapi/v1/options", new JsonObject { ["no_such_option"] = null })).Status);
        var bad = await c.PostAsync("sdapi/v1/options", new JsonObject { ["no_such_option"] = 1 });
        Assert.Equal((500, "KeyError"), (bad.Status, bad.Json!["error"]!.GetValue<string>()));
        Assert.False((await c.GetAsync("sdapi/v1/options")).Json!.AsObject().ContainsKey("no_such_option"));
    }

    private static JsonNode? Changed(JsonNode? value) => value?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "set",
        JsonValueKind.True => false,
        JsonValueKind.False => true,
        JsonValueKind.Number => value.GetValue<double>() + 1,
        JsonValueKind.String => value.GetValue<string>() + "-x",
        JsonValueKind.Array => new JsonArray("x"),
        _ => new JsonObject { ["x"] = 1 },
    };
}
