using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Miaoya.MockWebUi;

namespace Miaoya.Pipeline.Tests;

/// <summary>
/// The built-in recipes, unchanged, against the Forge and reForge mock profiles: what reaches the box is the form their
/// built-in ControlNet reads (UI-label modules, exact "name [hash]" models, no key it would drop), every unit runs, and
/// the manifest names the backend.
/// </summary>
public sealed class BackendRunTests
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "StandInModels");

    /// <summary>The unit fields Forge's ControlNetUnit has (forge@dfdcbab lib_controlnet/external_code.py:156-182); from_dict drops the rest.</summary>
    private static readonly HashSet<string> ForgeUnitFields =
    [
        "input_mode", "use_preview_as_input", "batch_image_dir", "batch_mask_dir", "batch_input_gallery", "batch_mask_gallery", "generated_image",
        "mask_image", "mask_image_fg", "hr_option", "enabled", "module", "model", "weight", "image", "image_fg", "resize_mode", "processor_res",
        "threshold_a", "threshold_b", "guidance_start", "guidance_end", "pixel_perfect", "control_mode", "save_detected_map",
    ];

    public static TheoryData<MockWebUiProfile, string> ForgeRecipes => new()
    {
        { MockWebUiProfile.Forge, "v1-face" },
        { MockWebUiProfile.Forge, "v1-face-neck" },
        { MockWebUiProfile.Forge, "v2" },
        { MockWebUiProfile.ReForge, "v1-face" },
        { MockWebUiProfile.ReForge, "v2" },
    };

    [Theory]
    [MemberData(nameof(ForgeRecipes))]
    public async Task Recipe_runs_unchanged_and_sends_what_Forges_ControlNet_reads(MockWebUiProfile profile, string recipe)
    {
        using var h = new PipelineHarness(profile);

        var result = await h.Pipeline.RunAsync(h.Request(recipe));

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        Assert.Equal(profile == MockWebUiProfile.Forge ? "Forge" : "reForge", result.Manifest.Server!.Backend);
        var sent = h.Received("/sdapi/v1/img2img");
        Assert.Equal(recipe == "v2" ? 2 : 1, sent.Count);
        AssertForgeUnits(h, sent);
    }

    [Theory]
    [InlineData(MockWebUiProfile.Forge)]
    [InlineData(MockWebUiProfile.ReForge)]
    public async Task V3_runs_unchanged(MockWebUiProfile profile)
    {
        using var h = new PipelineHarness(profile);
        var face = h.Write("face.png", s =>
        {
            using var image = Image.Load<Rgb24>(PipelineHarness.Astronaut);
            image.Mutate(c => c.Flip(FlipMode.Horizontal));
            image.SaveAsPng(s);
        });

        var result = await h.Pipeline.RunAsync(h.Request("v3", overrides: ["faceswap.detector=blazeface"]) with
        {
            FacePath = face,
            ModelsDirectory = Models,
            StandInModels = true,
        });

        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        AssertForgeUnits(h, h.Received("/sdapi/v1/img2img"));
    }

    [Theory]
    [InlineData("v1-face")]
    [InlineData("v2")]
    public async Task On_SdNext_a_ControlNet_recipe_is_refused_up_front_with_the_reason(string recipe)
    {
        using var h = new PipelineHarness(MockWebUiProfile.SdNext);

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request(recipe)));

        Assert.Contains("SD.Next has no sd-webui-controlnet API", error.Message, StringComparison.Ordinal);
        Assert.Contains("/sdapi/v1/control", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Count("/sdapi/v1/img2img"));
        Assert.Equal(0, h.Count("/tagger/v1/interrogate"));
    }

    private static void AssertForgeUnits(PipelineHarness h, IReadOnlyList<System.Text.Json.Nodes.JsonNode> sent)
    {
        var models = h.Client.GetControlNetModelsAsync().GetAwaiter().GetResult().ModelList;
        var modules = h.Client.GetControlNetModulesAsync(aliasNames: true).GetAwaiter().GetResult().ModuleList;
        foreach (var body in sent)
        {
            foreach (var unit in body["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray().Select(u => u!.AsObject()))
            {
                Assert.All(unit.Select(p => p.Key), key => Assert.Contains(key, ForgeUnitFields));
                Assert.Contains(unit["module"]!.GetValue<string>(), modules);
                Assert.Contains(unit["model"]!.GetValue<string>(), models);
                Assert.Equal(System.Text.Json.JsonValueKind.String, unit["image"]!.GetValueKind());
                Assert.Equal(System.Text.Json.JsonValueKind.String, unit["control_mode"]!.GetValueKind());
            }
        }
    }
}
