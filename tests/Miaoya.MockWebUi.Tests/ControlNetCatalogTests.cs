using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

/// <summary>
/// ControlNet's listings against the extension's source: Mikubill/sd-webui-controlnet@56cec5b (1.1.455, webui-1.10) and
/// @3d75bd08 (1.1.447, webui-1.8); data in src/Miaoya.MockWebUi/Profiles/&lt;profile&gt;/controlnet-preprocessors.json.
/// </summary>
public sealed class ControlNetCatalogTests
{
    private static List<string> Strings(JsonNode? n) => [.. n!.AsArray().Select(x => x!.GetValue<string>())];

    // scripts/preprocessor/*.py registrations; tests/web_api/modules_test.py:7-75 (expected_module_names) is a subset; plus
    // EVA02-CLIP-L-14-336 of sd-webui-controlnet-evaclip, installed by default.
    [Theory]
    [InlineData(MockWebUiProfile.WebUi110, 73, "softedge_teed", "te_hed")]
    [InlineData(MockWebUiProfile.WebUi18, 70, "te_hed", "softedge_teed")]
    public async Task ModuleList_BothForms_ListEveryRegisteredPreprocessor(MockWebUiProfile profile, int count, string present, string absent)
    {
        using var c = new MockClient(profile);
        var names = (await c.GetAsync("controlnet/module_list?alias_names=false")).Json!;
        var labels = (await c.GetAsync("controlnet/module_list?alias_names=true")).Json!;

        var nameList = Strings(names["module_list"]);
        var labelList = Strings(labels["module_list"]);
        Assert.Equal(count, nameList.Count);
        Assert.Equal(count, labelList.Count);
        Assert.Contains(present, nameList);
        Assert.DoesNotContain(absent, nameList);
        // get_sorted_preprocessors (supported_preprocessor.py:130-136): none, then priority desc (ip-adapter-auto 1000)
        Assert.Equal(["none", "ip-adapter-auto"], nameList.Take(2));
        Assert.Equal("depth", nameList[labelList.IndexOf("depth_midas")]);
        Assert.Equal("pidinet", nameList[labelList.IndexOf("softedge_pidinet")]);
        Assert.Equal(nameList, names["module_detail"]!.AsObject().Select(p => p.Key));
        Assert.Equal(labelList, labels["module_detail"]!.AsObject().Select(p => p.Key));
    }

    // PreprocessorParameter.api_json, only visible sliders (internal_controlnet/external_code.py:364-395); canny's sliders
    // scripts/preprocessor/model_free_preprocessors.py:30-48; legacy entries keep the class Resolution slider
    // (legacy_preprocessors.py:54-62 sets .resolution, which the API never reads).
    [Fact]
    public async Task ModuleDetail_HasSlidersAsTheExtensionDeclaresThem()
    {
        using var c = new MockClient(MockWebUiProfile.WebUi110);
        var detail = (await c.GetAsync("controlnet/module_list?alias_names=true")).Json!["module_detail"]!;

        var canny = detail["canny"]!["sliders"]!.AsArray();
        Assert.Equal(["Resolution", "Low Threshold", "High Threshold"], canny.Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal(200, canny[2]!["value"]!.GetValue<double>());
        Assert.False(detail["canny"]!["model_free"]!.GetValue<bool>());
        Assert.True(detail["reference_only"]!["model_free"]!.GetValue<bool>());
        Assert.Equal("Resolution", detail["reference_only"]!["sliders"]![0]!["name"]!.GetValue<string>());
        Assert.Empty(detail["inpaint_global_harmonious"]!["sliders"]!.AsArray());
        Assert.Equal(1280, detail["softedge_anyline"]!["sliders"]![0]!["value"]!.GetValue<double>());
    }

    // scripts/global_state.py:113-150 select_control_type; scripts/api.py:68-90; supported_preprocessor.py:138-180.
    [Fact]
    public async Task ControlTypes_FilterModulesAndTheBoxModels()
    {
        using var c = new MockClient(MockWebUiProfile.WebUi110);
        var types = (await c.GetAsync("controlnet/control_types")).Json!["control_types"]!.AsObject();
        var models = Strings((await c.GetAsync("controlnet/model_list")).Json!["model_list"]);

        Assert.Equal("All", types.First().Key);
        Assert.Equal(types.Skip(1).Select(p => p.Key).Order(StringComparer.Ordinal), types.Skip(1).Select(p => p.Key));
        Assert.Equal(models, Strings(types["All"]!["model_list"]));
        Assert.Equal(("none", "None"), (types["All"]!["default_option"]!.GetValue<string>(), types["All"]!["default_model"]!.GetValue<string>()));

        var depth = types["Depth"]!;
        Assert.Equal("none", depth["module_list"]![0]!.GetValue<string>());
        Assert.Equal("depth_midas", depth["default_option"]!.GetValue<string>()); // priority 100
        Assert.Equal(["None", "control_sd15_depth_anything [48a4bc3a]", "control_v11f1p_sd15_depth [cfd03158]", "diffusers_xl_depth_full [2f51180b]", "t2iadapter_depth_sd15v2 [3489cd37]"],
            Strings(depth["model_list"]));
        Assert.Equal("control_v11f1p_sd15_depth [cfd03158]", depth["default_model"]!.GetValue<string>()); // first with "11"

        var ip = types["IP-Adapter"]!;
        Assert.Equal("ip-adapter-auto", ip["default_option"]!.GetValue<string>());
        Assert.All(Strings(ip["model_list"]).Skip(1), m => Assert.StartsWith("ip-adapter", m, StringComparison.Ordinal));
        Assert.Contains("ip-adapter_sd15 [6a3f6166]", Strings(ip["model_list"]));
        Assert.Equal(["None", "control_v11f1e_sd15_tile [a371b31b]"], Strings(types["Tile"]!["model_list"]));
        Assert.Equal(["None", "control_v11e_sd15_ip2p [c4bb465c]"], Strings(types["InstructP2P"]!["model_list"]));
    }

    [Fact]
    public async Task ControlTypes_LeaveOutModelsTheBoxLacks()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("control_v11f1p_sd15_depth");
        using var c = new MockClient(options);
        var depth = (await c.GetAsync("controlnet/control_types")).Json!["control_types"]!["Depth"]!;
        Assert.DoesNotContain("control_v11f1p_sd15_depth [cfd03158]", Strings(depth["model_list"]));
        Assert.Equal("control_sd15_depth_anything [48a4bc3a]", depth["default_model"]!.GetValue<string>());
    }

    // Model names sorted by file name after "None" (global_state.py:47-60, sort_by "name"); the earlier list keeps its hashes.
    [Fact]
    public async Task ModelList_IsSortedAndKeepsTheEarlierHashes()
    {
        using var c = new MockClient();
        var models = Strings((await c.GetAsync("controlnet/model_list")).Json!["model_list"]);
        Assert.Equal("None", models[0]);
        Assert.Equal(models.Skip(1).Order(StringComparer.Ordinal), models.Skip(1));
        foreach (var m in new[]
        {
            "control_v11p_sd15_openpose [cab727d4]", "control_v11f1p_sd15_depth [cfd03158]", "control_v11p_sd15_softedge [a8575a2a]",
            "control_v11p_sd15_inpaint [ebff9138]", "control_v11p_sd15_canny [d14c016b]", "ip-adapter_sd15 [6a3f6166]",
            "ip-adapter-plus-face_sd15 [71693645]", "ip-adapter-faceid-plusv2_sd15 [6e14fc1a]",
        })
        {
            Assert.Contains(m, models);
        }
    }
}
