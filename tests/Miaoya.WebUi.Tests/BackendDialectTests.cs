using System.Text.Json.Nodes;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;

namespace Miaoya.WebUi.Tests;

/// <summary>
/// What the client sends and refuses per backend, without a server: one unit form for A1111 and Forge where one serves
/// both, and a refusal naming the backend where Forge or SD.Next would silently lose a unit or a field.
/// </summary>
public sealed class BackendDialectTests
{
    [Fact]
    public void Unit_json_uses_mask_image_the_key_both_A1111_CN_1_1_444_and_Forge_read__forge_dfdcbab_external_code_py_165()
    {
        var unit = new ControlNetUnit { Module = "inpaint_only", Model = "control_v11p_sd15_inpaint [ebff9138]", Image = TestImages.Png(), Mask = TestImages.Png() };

        var json = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(new ControlNetScriptArgs([unit]), Json.WebUiJson.TypeInfo<ControlNetScriptArgs>()))!["args"]![0]!.AsObject();

        Assert.True(json.ContainsKey("mask_image"));
        Assert.False(json.ContainsKey("mask"));
        Assert.IsType<string>(json["image"]!.GetValue<string>()); // a plain base64 string: Forge decodes nothing else (external_code.py:216-221)
        Assert.Equal("Balanced", json["control_mode"]!.GetValue<string>());
        Assert.Equal("Crop and Resize", json["resize_mode"]!.GetValue<string>());
    }

    [Fact]
    public void Unit_json_leaves_out_low_vram_when_off__Forge_has_no_such_field__forge_dfdcbab_external_code_py_157_183()
    {
        var off = Serialize(new ControlNetUnit { Module = "reference_only" });
        var on = Serialize(new ControlNetUnit { Module = "reference_only", LowVram = true });

        Assert.False(off.ContainsKey("low_vram"));
        Assert.True(on["low_vram"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("pidinet", "softedge_pidinet")]
    [InlineData("softedge_pidinet", "softedge_pidinet")]
    [InlineData("reference_only", "reference_only")]
    [InlineData("no_such_module", null)]
    public void ResolveControlNetModule_sends_the_UI_label_on_A1111(string module, string? expected)
    {
        Assert.Equal(expected, Capabilities.WebUi110.ResolveControlNetModule(module));
    }

    [Fact]
    public void ResolveControlNetModule_on_Forge_knows_labels_only__forge_dfdcbab_global_state_py_52()
    {
        Assert.Equal("softedge_pidinet", Capabilities.Forge.ResolveControlNetModule("softedge_pidinet"));
        Assert.Null(Capabilities.Forge.ResolveControlNetModule("pidinet"));
    }

    [Theory]
    [InlineData("control_v11p_sd15_softedge", "control_v11p_sd15_softedge [a8575a2a]")]
    [InlineData("control_v11p_sd15_softedge [a8575a2a]", "control_v11p_sd15_softedge [a8575a2a]")]
    [InlineData("None", "None")]
    [InlineData("control_v11p_sd15_canny", null)]
    public void ResolveControlNetModel_sends_the_exact_listed_name(string model, string? expected)
    {
        Assert.Equal(expected, Capabilities.Forge.ResolveControlNetModel(model));
        Assert.Equal(expected, Capabilities.WebUi110.ResolveControlNetModel(model));
    }

    [Fact]
    public void Check_on_Forge_refuses_a_stem_model_name_naming_the_exact_one__forge_dfdcbab_global_state_py_113_131()
    {
        var request = Payloads.V1Inpaint(Capabilities.Forge, TestImages.Png(), TestImages.Png());

        var problems = Capabilities.Forge.Check(request);

        // The payload names models by stem: fine on A1111 (CN resolves stems), a KeyError on Forge.
        Assert.Empty(Capabilities.WebUi110.Check(request));
        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.controlnet.args[1].model: Forge finds ControlNet models by their exact listed name only", StringComparison.Ordinal)
            && p.Contains("\"control_v11p_sd15_softedge [a8575a2a]\"", StringComparison.Ordinal));
        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public void Check_on_Forge_accepts_the_form_that_serves_both()
    {
        var request = BothForms(Payloads.V1Inpaint(Capabilities.Forge, TestImages.Png(), TestImages.Png()));

        Assert.Empty(Capabilities.Forge.Check(request));
        Assert.Empty(Capabilities.WebUi110.Check(request));
    }

    [Fact]
    public void Check_on_Forge_refuses_internal_module_names_low_vram_and_PuLID_naming_Forge()
    {
        var request = BothForms(Payloads.V1Inpaint(Capabilities.Forge, TestImages.Png(), TestImages.Png())) with
        {
            AlwaysOnScripts = new AlwaysOnScripts
            {
                ControlNet = new ControlNetScriptArgs(
                [
                    new ControlNetUnit { Module = "pidinet", Model = "control_v11p_sd15_softedge [a8575a2a]" },
                    new ControlNetUnit { Module = "reference_only", LowVram = true },
                    new ControlNetUnit { Module = "ip-adapter_pulid", Model = "control_v11p_sd15_openpose [cab727d4]" },
                ]),
            },
        };

        var problems = Capabilities.Forge.Check(request);

        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.controlnet.args[0].module: \"pidinet\" is not a ControlNet preprocessor on Forge, which accepts UI labels only", StringComparison.Ordinal)
            && p.Contains("softedge_pidinet", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.controlnet.args[1].low_vram: Forge's ControlNet has no such setting and would drop it silently", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.controlnet.args[2].module: \"ip-adapter_pulid\": Forge has no PuLID preprocessor", StringComparison.Ordinal));
        Assert.Equal(3, problems.Count);
    }

    [Fact]
    public void Check_on_reForge_refuses_a_control_mode_it_would_run_as_Balanced__reForge_3b56b26_scripts_controlnet_py_515()
    {
        var reForge = Capabilities.Forge with { Backend = WebUiBackend.ReForge };
        var request = BothForms(Payloads.V1Inpaint(reForge, TestImages.Png(), TestImages.Png()));
        var units = request.AlwaysOnScripts!.ControlNet!.Args.ToArray();
        units[1] = units[1] with { ControlMode = ControlNetControlMode.ControlNetIsMoreImportant };
        request = request with { AlwaysOnScripts = new AlwaysOnScripts { ControlNet = new ControlNetScriptArgs(units) } };

        var problem = Assert.Single(reForge.Check(request));

        Assert.StartsWith("alwayson_scripts.controlnet.args[1].control_mode: reForge runs every unit as Balanced", problem, StringComparison.Ordinal);
        Assert.Empty(Capabilities.Forge.Check(request)); // Forge compares the string it was sent, so the mode holds there
    }

    [Fact]
    public void Check_on_SdNext_refuses_ControlNet_units_with_the_reason()
    {
        var request = BothForms(Payloads.V1Inpaint(Capabilities.SdNext, TestImages.Png(), TestImages.Png()));

        var problems = Capabilities.SdNext.Check(request);

        Assert.Contains(problems, p => p.StartsWith("alwayson_scripts.controlnet: SD.Next has no sd-webui-controlnet API", StringComparison.Ordinal)
            && p.Contains("/sdapi/v1/control", StringComparison.Ordinal));
        Assert.Equal("SD.Next 2025-03-02 431bcc3", Capabilities.SdNext.WebUiVersion);
    }

    [Fact]
    public void WebUiVersion_names_the_backend()
    {
        Assert.Equal("A1111 ≥ 1.10", Capabilities.WebUi110.WebUiVersion);
        Assert.Equal("Forge", Capabilities.Forge.WebUiVersion);
        Assert.True(Capabilities.Forge.HasControlNet);
        Assert.False(Capabilities.SdNext.HasControlNet);
    }

    /// <summary>The payload with models by their exact listed names, as the pipeline's payload builder sends them.</summary>
    private static Img2ImgRequest BothForms(Img2ImgRequest request) => request with
    {
        AlwaysOnScripts = new AlwaysOnScripts
        {
            ControlNet = new ControlNetScriptArgs(request.AlwaysOnScripts!.ControlNet!.Args
                .Select(u => u with { Model = Capabilities.Forge.ResolveControlNetModel(u.Model) ?? u.Model, Module = Capabilities.Forge.ResolveControlNetModule(u.Module) ?? u.Module })
                .ToArray()),
        },
    };

    private static JsonObject Serialize(ControlNetUnit unit) =>
        JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(new ControlNetScriptArgs([unit]), Json.WebUiJson.TypeInfo<ControlNetScriptArgs>()))!["args"]![0]!.AsObject();
}
