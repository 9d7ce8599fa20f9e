using Miaoya.Recipes;

namespace Miaoya.Doctor.Tests;

/// <summary>Doctor's rows for the identity recipes (issue 17): v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl against mock boxes.</summary>
public sealed class IdentityDoctorTests : IDisposable
{
    private static readonly string[] IdentityModules = ["ip-adapter_face_id_plus", "instant_id_face_embedding", "instant_id_face_keypoints", "ip-adapter_pulid"];

    private readonly DoctorHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task CompleteBox_IdentityModulesModelsLoraAndEvaClip_Ok_ModelsAsTheBoxListsThem()
    {
        var report = await _harness.CheckAsync(_harness.Start());

        Assert.True(report.Ok, string.Join(Environment.NewLine, report.Missing().Select(r => $"{r.Check}: {r.Detail}")));
        Assert.All(IdentityModules, m => Assert.Equal(DoctorStatus.Ok, report.Row($"ControlNet module {m}").Status));
        Assert.Equal("ip-adapter-faceid-plusv2_sd15 [6e14fc1a]", report.Row("ControlNet model ip-adapter-faceid-plusv2_sd15").Detail);
        Assert.Equal("ip-adapter_instant_id_sdxl [eb2d3ec0]", report.Row("ControlNet model ip-adapter_instant_id_sdxl").Detail);
        Assert.Equal("control_instant_id_sdxl [c5c25a50]", report.Row("ControlNet model control_instant_id_sdxl").Detail);
        Assert.StartsWith("ip-adapter_pulid_sdxl_fp16 [", report.Row("ControlNet model ip-adapter_pulid_sdxl_fp16").Detail, StringComparison.Ordinal);
        var lora = report.Row("LoRA ip-adapter-faceid-plusv2_sd15_lora (identity.lora)");
        Assert.Equal(DoctorStatus.Ok, lora.Status);
        Assert.Equal(["v4-faceid"], lora.Recipes);
        var evaClip = report.Row("EVA-CLIP extension (PuLID)");
        Assert.Equal(DoctorStatus.Ok, evaClip.Status);
        Assert.Contains("huchenlei/sd-webui-controlnet-evaclip installed: EVA02-CLIP-L-14-336 listed; commit 39966e79 (pinned)", evaClip.Detail, StringComparison.Ordinal);
        Assert.Equal(["v4-pulid-sdxl"], evaClip.Recipes);
        Assert.Equal("4 of 4 (v4-faceid: 3 + 1 identity unit)", report.Row("ControlNet slots for 4 units").Detail);
        Assert.Contains("v4-instantid-sdxl: 1 + 2 identity units", report.Row("ControlNet slots for 3 units").Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Rows, r => r.Check.StartsWith("identity model name", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Rows, r => r.Check.StartsWith("run ", StringComparison.Ordinal)); // only with --deep
    }

    [Fact]
    public async Task DefaultThreeSlotBox_V4FaceIdNeedsFour_RowSaysRaiseTheUnitNumber()
    {
        var report = await _harness.CheckAsync(_harness.StartDefaultSlots());

        var row = report.Row("ControlNet slots for 4 units");
        Assert.Equal(DoctorStatus.Missing, row.Status);
        Assert.Equal("4 units enabled (v4-faceid: 3 + 1 identity unit), the box has 3 (the rest would be dropped silently)", row.Detail);
        Assert.Contains("\"Multi-ControlNet: ControlNet unit number\" to 4 or more (control_net_unit_count)", row.Fix, StringComparison.Ordinal);
        Assert.Equal(["v4-faceid"], row.Recipes);
        Assert.Equal([row], report.Missing());
    }

    [Fact]
    public async Task NoEvaClip_RowNamesTheExtension_OnlyPuLidMissing()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "evaclip"));

        var row = report.Row("EVA-CLIP extension (PuLID)");
        Assert.Equal(DoctorStatus.Missing, row.Status);
        Assert.Contains("huchenlei/sd-webui-controlnet-evaclip is not installed", row.Detail, StringComparison.Ordinal);
        Assert.Contains("install huchenlei/sd-webui-controlnet-evaclip at commit 39966e79 into extensions/sd-webui-controlnet-evaclip", row.Fix, StringComparison.Ordinal);
        Assert.All(report.Missing(), r => Assert.Equal(["v4-pulid-sdxl"], r.Recipes));
        Assert.Equal(DoctorStatus.Ok, report.Row("ControlNet").Status); // the evaclip remote is not taken for sd-webui-controlnet
    }

    [Fact]
    public async Task NoCompanionLora_Missing_SaysTheExtensionNeverAddsIt()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "ip-adapter-faceid-plusv2_sd15_lora"));

        var row = report.Row("LoRA ip-adapter-faceid-plusv2_sd15_lora (identity.lora)");
        Assert.Equal(DoctorStatus.Missing, row.Status);
        Assert.Contains("sd-webui-controlnet never adds", row.Detail, StringComparison.Ordinal);
        Assert.Contains("put ip-adapter-faceid-plusv2_sd15_lora.safetensors in models/Lora/", row.Fix, StringComparison.Ordinal);
        Assert.Contains("huggingface.co/h94/IP-Adapter-FaceID", row.Fix, StringComparison.Ordinal);
        Assert.Equal(["v4-faceid"], row.Recipes);
    }

    [Theory]
    [InlineData("v4-faceid", "ip-adapter-plus-face_sd15", "faceid", "ip-adapter-faceid-plusv2_sd15.bin")]
    [InlineData("v4-instantid-sdxl", "ip-adapter_sd15", "instant_id", "ip-adapter_instant_id_sdxl.bin")]
    [InlineData("v4-pulid-sdxl", "ip-adapter-faceid_sdxl", "pulid", "ip-adapter_pulid_sdxl_fp16.safetensors")]
    public async Task IdentityModelWhoseFileNameLacksTheMethodsWord_Missing_WithARenameHint(string recipe, string model, string word, string example)
    {
        // The recipe loader refuses such a model already; a recipe built in code (or a loose name match on the box) reaches
        // doctor, which checks the file name the box lists.
        var loaded = RecipeLoader.LoadBuiltIn(recipe);
        var changed = loaded with { Identity = loaded.Identity! with { Model = model } };

        var report = await _harness.CheckAsync(_harness.Start(), recipes: [changed]);

        var row = report.Row($"identity model name {model}");
        Assert.Equal(DoctorStatus.Missing, row.Status);
        Assert.Contains($"its file name lacks \"{word}\"", row.Detail, StringComparison.Ordinal);
        Assert.StartsWith(model + " [", row.Detail, StringComparison.Ordinal);
        Assert.Equal($"rename the file as released, e.g. {example}, or point identity.model at such a file", row.Fix);
        Assert.Equal([recipe], row.Recipes);
    }

    [Fact]
    public async Task FaceIdLookAlikes_NamedOk_WarningWhenTheFaceIdModelIsMissing()
    {
        var faceId = new[] { RecipeLoader.LoadBuiltIn("v4-faceid") };

        var complete = (await _harness.CheckAsync(_harness.Start(), recipes: faceId)).Row("FaceID look-alikes");
        var lacking = (await _harness.CheckAsync(_harness.Start(without: "ip-adapter-faceid-plusv2_sd15"), recipes: faceId)).Row("FaceID look-alikes");
        var plain = await _harness.CheckAsync(_harness.Start(), recipes: [RecipeLoader.LoadBuiltIn("v1-face")]);

        Assert.Equal(DoctorStatus.Ok, complete.Status);
        Assert.Contains("ip-adapter-plus-face_sd15 [71693645]", complete.Detail, StringComparison.Ordinal);
        Assert.Contains("no \"faceid\" in the name, so not FaceID", complete.Detail, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Warning, lacking.Status);
        Assert.Contains("do not use one for ip-adapter-faceid-plusv2_sd15", lacking.Detail, StringComparison.Ordinal);
        Assert.Contains("ip-adapter-faceid-plusv2_sd15.bin", lacking.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain(plain.Rows, r => r.Check == "FaceID look-alikes");
    }

    [Fact]
    public async Task Deep_CompleteBox_EveryIdentityPreprocessorRunsOk()
    {
        var report = await _harness.CheckAsync(_harness.Start(), deep: true);

        Assert.True(report.Ok, string.Join(Environment.NewLine, report.Missing().Select(r => $"{r.Check}: {r.Detail}")));
        Assert.Equal(IdentityModules.Select(m => "run " + m).Order(), report.Rows.Where(r => r.Check.StartsWith("run ", StringComparison.Ordinal)).Select(r => r.Check).Order());
        Assert.Equal("ran on the bundled test face: an embedding (tensor)", report.Row("run ip-adapter_face_id_plus").Detail);
        Assert.Equal("ran on the bundled test face: a map", report.Row("run instant_id_face_keypoints").Detail);
        Assert.Equal(["v4-pulid-sdxl"], report.Row("run ip-adapter_pulid").Recipes);
    }

    [Fact]
    public async Task Deep_NoInsightFace_EveryIdentityRunMissing_WithTheBoxsError()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "insightface"), deep: true);

        foreach (var module in IdentityModules)
        {
            var row = report.Row("run " + module);
            Assert.Equal(DoctorStatus.Missing, row.Status);
            Assert.Equal("the box answers 500 ModuleNotFoundError: No module named 'insightface'", row.Detail);
            Assert.StartsWith("pip install insightface into the WebUI's Python", row.Fix, StringComparison.Ordinal);
        }

        var shallow = await _harness.CheckAsync(_harness.Start(without: "insightface"));
        Assert.True(shallow.Ok); // only running a preprocessor shows it
    }

    [Fact]
    public async Task Deep_NoEvaClip_PuLidRunMissing_OthersOk()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "evaclip"), deep: true);

        var row = report.Row("run ip-adapter_pulid");
        Assert.Equal(DoctorStatus.Missing, row.Status);
        Assert.Contains("AssertionError: EVA02-CLIP-L-14-336 preprocessor not found! Please install sd-webui-controlnet-evaclip", row.Detail, StringComparison.Ordinal);
        Assert.StartsWith("install huchenlei/sd-webui-controlnet-evaclip", row.Fix, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Ok, report.Row("run ip-adapter_face_id_plus").Status);
        Assert.Equal(DoctorStatus.Ok, report.Row("run instant_id_face_embedding").Status);
    }

    [Fact]
    public async Task ForgeBox_IdentityRecipes_MissingRows_NoEvaClip()
    {
        var report = await _harness.CheckAsync(_harness.Start(MockWebUi.MockWebUiProfile.Forge));

        Assert.False(report.Ok);
        Assert.All(report.Missing(), r => Assert.All(r.Recipes, n => Assert.StartsWith("v4-", n, StringComparison.Ordinal)));
        var evaClip = report.Row("EVA-CLIP extension (PuLID)");
        Assert.Equal(DoctorStatus.Missing, evaClip.Status);
        Assert.Contains("not compatible with Forge", evaClip.Detail, StringComparison.Ordinal);
    }
}
