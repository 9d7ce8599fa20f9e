using Miaoya.MockWebUi;
using Miaoya.Recipes;

namespace Miaoya.Doctor.Tests;

/// <summary>Doctor against mock boxes that lack different things.</summary>
public sealed class WebUiDoctorTests : IDisposable
{
    private readonly DoctorHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task CompleteBox_EverythingOk_ExtensionsAtTheirPins()
    {
        var report = await _harness.CheckAsync(_harness.Start());

        Assert.True(report.Ok, string.Join(Environment.NewLine, report.Missing().Select(r => $"{r.Check}: {r.Detail}")));
        Assert.Equal("A1111 ≥ 1.10", report.Version);
        Assert.Contains("commit 56cec5b2 = 1.1.455 (pinned)", report.Row("ControlNet").Detail, StringComparison.Ordinal);
        Assert.Contains("(pinned)", report.Row("WD14 tagger").Detail, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Ok, report.Row("rembg").Status);
        Assert.Equal(DoctorStatus.Ok, report.Row("checkpoint chilloutmix_NiPrunedFp32Fix").Status);
        Assert.Contains("sha256 as in the manifest", report.Row("checkpoint chilloutmix_NiPrunedFp32Fix").Detail, StringComparison.Ordinal);
        Assert.Contains("\"DPM++ SDE\" + scheduler \"karras\"", report.Row("sampler DPM++ SDE Karras").Detail, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Ok, report.Row("LoRA miaoya_demo_face").Status);
        foreach (var check in new[]
        {
            "ControlNet module reference_only", "ControlNet module softedge_pidinet", "ControlNet module openpose_faceonly", "ControlNet module depth_midas",
            "ControlNet model control_v11p_sd15_softedge", "ControlNet model control_v11p_sd15_openpose", "ControlNet model control_v11f1p_sd15_depth",
            "embedding ng_deepnegative_v1_75t", "embedding badhandv4", "ControlNet slots for 3 units", "ControlNet slots for 2 units",
        })
        {
            Assert.Equal(DoctorStatus.Ok, report.Row(check).Status);
        }

        // samples_save is on in the mock, as on a default WebUI, but API requests with save_images: false are not saved.
        Assert.Equal(DoctorStatus.Ok, report.Row("saved copies").Status);
        Assert.Contains("--api", report.Row("cmd flags").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptionsThatWriteCopiesWhateverTheRequestSays_AreAWarningNamingEach()
    {
        using var server = _harness.Start();
        var client = _harness.Client(server.Url);
        await client.SetOptionsAsync(new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["save_init_img"] = true, ["control_net_detectmap_autosaving"] = true });

        var row = (await _harness.CheckAsync(server)).Row("saved copies");

        Assert.Equal(DoctorStatus.Warning, row.Status);
        Assert.Contains("save_init_img and control_net_detectmap_autosaving on", row.Detail, StringComparison.Ordinal);
        Assert.Contains("\"save_init_img\": false, \"control_net_detectmap_autosaving\": false", row.Fix!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoControlNet_EveryUnitRowMissing_FixNamesThePinnedExtension()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "controlnet"));

        Assert.False(report.Ok);
        var row = report.Row("ControlNet");
        Assert.Equal(DoctorStatus.Missing, row.Status);
        Assert.Equal(RecipeLoader.BuiltInNames, row.Recipes.Order(StringComparer.Ordinal));
        Assert.Contains("Mikubill/sd-webui-controlnet at commit 56cec5b2 into extensions/sd-webui-controlnet", row.Fix, StringComparison.Ordinal);
        Assert.Contains("licence GPL-3.0", row.Fix, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Missing, report.Row("ControlNet model control_v11f1p_sd15_depth").Status);
        Assert.Equal(["v2", "v2-finish", "v3"], report.Row("ControlNet model control_v11f1p_sd15_depth").Recipes);
        Assert.Equal(DoctorStatus.Missing, report.Row("ControlNet module depth_midas").Status);
    }

    [Fact]
    public async Task NoTagger_Missing_WithTheForkToInstall()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "tagger"));

        var row = report.Row("WD14 tagger");
        Assert.Equal(DoctorStatus.Missing, row.Status);
        Assert.Contains("picobyte/stable-diffusion-webui-wd14-tagger at commit e72d984b", row.Fix, StringComparison.Ordinal);
        Assert.Equal([row], report.Missing());
    }

    [Fact]
    public async Task NoRembg_OnlyAWarning_TheRecipesDoNotNeedIt()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "rembg"));

        Assert.True(report.Ok);
        var row = report.Row("rembg");
        Assert.Equal(DoctorStatus.Warning, row.Status);
        Assert.Contains("AUTOMATIC1111/stable-diffusion-webui-rembg at commit a4c07b85", row.Fix, StringComparison.Ordinal);
        Assert.Contains("licence MIT", row.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoCheckpoint_FixSaysWhichFileWhereFromWhereAndItsHash()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "chilloutmix_NiPrunedFp32Fix"));

        var row = Assert.Single(report.Missing());
        Assert.Equal("checkpoint chilloutmix_NiPrunedFp32Fix", row.Check);
        Assert.Contains("closest:", row.Detail, StringComparison.Ordinal);
        Assert.Contains("put chilloutmix_NiPrunedFp32Fix.safetensors in models/Stable-diffusion/", row.Fix, StringComparison.Ordinal);
        Assert.Contains("https://civitai.com/models/6424/chilloutmix", row.Fix, StringComparison.Ordinal);
        Assert.Contains("sha256 fc2511737a54c5e80b89ab03e0ab4b98d051ab187f92860f3cd664dc9d08b271", row.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoEmbedding_Missing_PutInEmbeddings()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: "badhandv4"));

        var row = Assert.Single(report.Missing());
        Assert.Equal("embedding badhandv4", row.Check);
        Assert.Contains("put badhandv4.pt in embeddings/", row.Fix, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Ok, report.Row("embedding ng_deepnegative_v1_75t").Status);
    }

    [Fact]
    public async Task NoUpscalerOrRestorer_MissingForTheFinishingRecipe_WithWhereTheWeightsComeFrom()
    {
        var report = await _harness.CheckAsync(_harness.Start(without: ["R-ESRGAN 4x+", "CodeFormer"]));

        var upscaler = report.Row("upscaler R-ESRGAN 4x+");
        Assert.Equal(DoctorStatus.Missing, upscaler.Status);
        Assert.Equal(["v2-finish"], upscaler.Recipes);
        Assert.Contains("not listed (GET /sdapi/v1/upscalers); closest:", upscaler.Detail, StringComparison.Ordinal);
        Assert.Contains("RealESRGAN_x4plus.pth in models/RealESRGAN/", upscaler.Fix, StringComparison.Ordinal);
        var restorer = report.Row("face restorer CodeFormer");
        Assert.Equal(DoctorStatus.Missing, restorer.Status);
        Assert.Contains("\"GFPGAN\"", restorer.Detail, StringComparison.Ordinal);
        Assert.Contains("S-Lab License 1.0", restorer.Fix, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Ok, (await _harness.CheckAsync(_harness.Start())).Row("upscaler R-ESRGAN 4x+").Status);
    }

    [Fact]
    public async Task NoControlNetModel_MissingOnlyForTheRecipesThatUseIt()
    {
        var box = _harness.Start(without: "control_v11f1p_sd15_depth");
        var report = await _harness.CheckAsync(box);
        var v1Only = await _harness.CheckAsync(box, recipes: [RecipeLoader.LoadBuiltIn("v1-face")]);

        var row = Assert.Single(report.Missing());
        Assert.Equal("ControlNet model control_v11f1p_sd15_depth", row.Check);
        Assert.Equal(["v2", "v2-finish", "v3"], row.Recipes);
        Assert.Contains("put control_v11f1p_sd15_depth.pth in models/ControlNet/", row.Fix, StringComparison.Ordinal);
        Assert.Contains("huggingface.co/lllyasviel/ControlNet-v1-1", row.Fix, StringComparison.Ordinal);
        Assert.True(v1Only.Ok);
    }

    [Fact]
    public async Task Lora_MissingWhenAsked_WarningWhenNotGiven()
    {
        var box = _harness.Start(without: "miaoya_demo_face");
        var asked = await _harness.CheckAsync(box, lora: "miaoya_demo_face");
        var notGiven = await _harness.CheckAsync(box, lora: null);

        var row = Assert.Single(asked.Missing());
        Assert.Equal("LoRA miaoya_demo_face", row.Check);
        Assert.Contains("put miaoya_demo_face.safetensors in models/Lora/", row.Fix, StringComparison.Ordinal);
        Assert.True(notGiven.Ok);
        Assert.Equal(DoctorStatus.Warning, notGiven.Row("LoRA").Status);
        Assert.Contains("--lora NAME", notGiven.Row("LoRA").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownSamplerAndTaggerModel_MissingWithClosestNames()
    {
        var recipe = RecipeLoader.LoadBuiltIn("v1-face", ["inpaint.sampler=DPM++ 9M Karras", "interrogate.model=wd14-vit.v9"]);
        var report = await _harness.CheckAsync(_harness.Start(), recipes: [recipe]);

        Assert.Equal(DoctorStatus.Missing, report.Row("sampler DPM++ 9M Karras").Status);
        Assert.Contains("closest:", report.Row("sampler DPM++ 9M Karras").Detail, StringComparison.Ordinal);
        var tagger = report.Row("tagger model wd14-vit.v9");
        Assert.Equal(DoctorStatus.Missing, tagger.Status);
        Assert.Contains("\"wd14-vit.v1\"", tagger.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MockWebUiProfile.Forge, "Forge")]
    [InlineData(MockWebUiProfile.ReForge, "reForge")]
    public async Task ForgeFamilyBox_BuiltInControlNet_EveryPlainRecipeRunnable(MockWebUiProfile profile, string name)
    {
        // The identity recipes send A1111 module names Forge does not take (its labels differ; reForge has no PuLID): see
        // ForgeFamilyBox_IdentityRecipes_MissingRows.
        var report = await _harness.CheckAsync(_harness.Start(profile), recipes: DoctorHarness.PlainRecipes);

        Assert.True(report.Ok, string.Join(Environment.NewLine, report.Missing().Select(r => $"{r.Check}: {r.Detail}")));
        Assert.Equal(name, report.Version);
        var backend = report.Row("backend");
        Assert.Equal(DoctorStatus.Ok, backend.Status);
        Assert.Contains("UI-label modules, exact \"name [hash]\" models", backend.Detail, StringComparison.Ordinal);
        var controlNet = report.Row("ControlNet");
        Assert.Equal(DoctorStatus.Ok, controlNet.Status);
        Assert.Contains($"built into {name}", controlNet.Detail, StringComparison.Ordinal);
        Assert.Equal(DoctorStatus.Ok, report.Row("ControlNet model control_v11p_sd15_softedge").Status);
        Assert.Contains("control_v11p_sd15_softedge [", report.Row("ControlNet model control_v11p_sd15_softedge").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SdNextBox_BackendRowMissing_NamesTheReasonAndTheRecipes()
    {
        var report = await _harness.CheckAsync(_harness.Start(MockWebUiProfile.SdNext));

        Assert.False(report.Ok);
        Assert.StartsWith("SD.Next", report.Version, StringComparison.Ordinal);
        var backend = report.Row("backend");
        Assert.Equal(DoctorStatus.Missing, backend.Status);
        Assert.Contains("SD.Next has no sd-webui-controlnet API", backend.Detail, StringComparison.Ordinal);
        Assert.Equal(DoctorHarness.BuiltInRecipes.Select(r => r.Name).Order(), backend.Recipes.Order());
        Assert.Equal(DoctorStatus.Missing, report.Row("ControlNet").Status);
    }

    [Fact]
    public async Task WebUi18Box_ComposedSamplerNames_OlderControlNetAndOriginalTaggerAreWarnings()
    {
        var report = await _harness.CheckAsync(_harness.Start(MockWebUiProfile.WebUi18));

        Assert.True(report.Ok);
        Assert.Equal("A1111 ≤ 1.8", report.Version);
        Assert.Contains("sent as \"DPM++ SDE Karras\"", report.Row("sampler DPM++ SDE Karras").Detail, StringComparison.Ordinal);
        var controlNet = report.Row("ControlNet");
        Assert.Equal(DoctorStatus.Warning, controlNet.Status);
        Assert.Contains("commit 3d75bd08 = 1.1.447, the manifest pins 56cec5b2 = 1.1.455", controlNet.Detail, StringComparison.Ordinal);
        var tagger = report.Row("WD14 tagger");
        Assert.Equal(DoctorStatus.Warning, tagger.Status);
        Assert.Contains("from https://github.com/toriato/", tagger.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthRequired_401WithoutCredentials_OkWithThem_RefusedWithWrongOnes()
    {
        var box = _harness.Start(auth: "miaoya:secret");

        var without = await _harness.CheckAsync(box);
        var with = await _harness.CheckAsync(box, auth: "miaoya:secret");
        var wrong = await _harness.CheckAsync(box, auth: "miaoya:guess");

        var row = Assert.Single(without.Rows);
        Assert.Equal(("API", DoctorStatus.Missing), (row.Check, row.Status));
        Assert.Contains("401", row.Detail, StringComparison.Ordinal);
        Assert.Contains("--auth user:password", row.Fix, StringComparison.Ordinal);
        Assert.True(with.Ok);
        Assert.Equal("reachable, authorised as miaoya", with.Row("API").Detail);
        Assert.Contains("--api-auth (set)", with.Row("cmd flags").Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", string.Join(" ", with.Rows.Select(r => r.Detail + r.Fix)), StringComparison.Ordinal);
        Assert.Contains("user miaoya are not accepted", Assert.Single(wrong.Rows).Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableBox_OneMissingApiRow()
    {
        var url = DoctorHarness.ClosedPort();
        var report = await WebUiDoctor.CheckBoxAsync(_harness.Client(url), DoctorHarness.BuiltInRecipes, null, WebUiManifest.BuiltIn);

        var row = Assert.Single(report.Rows);
        Assert.Equal(DoctorStatus.Missing, row.Status);
        Assert.Contains("not reachable", row.Detail, StringComparison.Ordinal);
        Assert.Contains("--api --listen", row.Fix, StringComparison.Ordinal);
        Assert.Null(report.Version);
    }

    [Fact]
    public async Task NotAWebUi_404_SaysStartWithApi()
    {
        using var other = WireMock.Server.WireMockServer.Start();
        var report = await WebUiDoctor.CheckBoxAsync(_harness.Client(new Uri(other.Url!)), DoctorHarness.BuiltInRecipes, null, WebUiManifest.BuiltIn);

        var row = Assert.Single(report.Rows);
        Assert.Contains("404", row.Detail, StringComparison.Ordinal);
        Assert.Contains("--api", row.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralBoxes_CheckedTogether_ReportsInTheOrderGiven()
    {
        var good = _harness.Start();
        var lacking = _harness.Start(without: "tagger");
        var closed = DoctorHarness.ClosedPort();

        var report = await WebUiDoctor.CheckAsync(
            [_harness.Client(lacking.Url), _harness.Client(good.Url), _harness.Client(closed)], DoctorHarness.BuiltInRecipes, "miaoya_demo_face", WebUiManifest.BuiltIn);

        Assert.Equal([lacking.Url, good.Url, closed], report.Boxes.Select(b => b.Url));
        Assert.Equal([false, true, false], report.Boxes.Select(b => b.Ok));
        Assert.False(report.Ok);
        Assert.Equal(RecipeLoader.BuiltInNames, report.Recipes);
    }

    [Fact]
    public async Task PreflightSafetyNet_WhatOnlyTheRunWouldRefuse_BecomesAMissingRow()
    {
        // ControlNet's API answers but its always-on script is not registered (the extension failed to load): no row
        // above looks at always-on scripts, the run's preflight does.
        var box = await _harness.Client(_harness.Start().Url).ProbeAsync();
        var broken = box with { AlwaysOnScripts = box.AlwaysOnScripts.Where(s => s != "controlnet").ToArray() };
        var recipes = new[] { RecipeLoader.LoadBuiltIn("v1-face"), RecipeLoader.LoadBuiltIn("v2") };

        var rows = WebUiDoctor.PreflightRows(broken, recipes, "miaoya_demo_face", [new("API", DoctorStatus.Ok, "reachable")]).ToList();
        var alreadyMissing = WebUiDoctor.PreflightRows(broken, recipes, "miaoya_demo_face", [new("x", DoctorStatus.Missing, "x", null, ["v1-face"])]).ToList();
        var healthy = WebUiDoctor.PreflightRows(box, recipes, null, []).ToList();

        Assert.Equal(["preflight of v1-face", "preflight of v2"], rows.Select(r => r.Check));
        Assert.All(rows, r => Assert.Equal(DoctorStatus.Missing, r.Status));
        Assert.Contains("alwayson_scripts.controlnet", rows[0].Detail, StringComparison.Ordinal);
        Assert.Equal(["preflight of v2"], alreadyMissing.Select(r => r.Check));
        Assert.Empty(healthy);
    }

    [Fact]
    public async Task CheckpointWithAnotherSha256ThanTheManifest_IsAWarning()
    {
        // The manifest read from its embedded text, with the checkpoint's hash changed: the box's file is "another one".
        using var stream = typeof(WebUiManifest).Assembly.GetManifestResourceStream("Miaoya.Doctor.manifest.yaml")!;
        using var reader = new StreamReader(stream);
        var text = (await reader.ReadToEndAsync()).Replace("fc2511737a54c5e80b89ab03e0ab4b98d051ab187f92860f3cd664dc9d08b271", new string('a', 64), StringComparison.Ordinal);
        var manifest = WebUiManifest.Parse(text, "changed.yaml");

        var report = await WebUiDoctor.CheckBoxAsync(_harness.Client(_harness.Start().Url), [RecipeLoader.LoadBuiltIn("v1-face")], null, manifest);

        var row = report.Row("checkpoint chilloutmix_NiPrunedFp32Fix");
        Assert.Equal(DoctorStatus.Warning, row.Status);
        Assert.Contains("sha256 fc2511737a…, the manifest's file is aaaaaaaaaa…", row.Detail, StringComparison.Ordinal);
    }
}
