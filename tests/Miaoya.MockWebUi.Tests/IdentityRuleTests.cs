using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

/// <summary>
/// sd-webui-controlnet's run-time rules as the identity units meet them. Each failure raises inside ControlNet's process
/// callback, which A1111 reports on its console and carries on after (modules/scripts.py:828-834 at v1.10.1): the answer is a
/// 200 rendered without ControlNet, whose infotext still names the units, with no detected map.
/// </summary>
public sealed class IdentityRuleTests
{
    private static async Task<(JsonNode Json, MockWebUiServer Server)> Run(MockClient c, string route, JsonObject body)
    {
        var r = await c.PostAsync(route, body);
        Assert.True(r.Status == 200, r.Text);
        return (r.Json!, c.Server);
    }

    private static void AssertFailedOnConsole(MockWebUiServer server, string lastLine) =>
        Assert.Equal(Identity.ConsolePrefix + lastLine, Assert.Single(server.ConsoleErrors));

    private static void AssertAppliedQuietly(MockWebUiServer server) => Assert.Empty(server.ConsoleErrors);

    // Trap 1: img2img + mask + inpaint_full_res (default true) crops every single-image unit whose module lacks "reference"
    // when inpaint_crop_input_image (default true) is set (controlnet.py:749-800): the reference photo is cut to the mask's
    // box, insightface finds no face (processor.py:652-657), ControlNet fails and the run is a plain inpaint.
    [Fact]
    public async Task OnlyMaskedInpaint_CropsTheIdentityReference_NoFaceFound__controlnet_py_749_800_processor_py_656()
    {
        using var c = new MockClient();
        var plain = (await Run(c, "sdapi/v1/img2img", Identity.Img2Img(11))).Json;
        var forgot = await Run(c, "sdapi/v1/img2img", Identity.Img2Img(11, units: Identity.FaceId(crop: null)));

        AssertFailedOnConsole(forgot.Server, "Exception: Insightface: No face found in image.");
        using (var before = TestImages.Decode(Identity.Images(plain)[0]))
        using (var after = TestImages.Decode(Identity.Images(forgot.Json)[0]))
        {
            Assert.Equal(before.GetPixelMemoryGroup()[0].ToArray(), after.GetPixelMemoryGroup()[0].ToArray()); // no identity
        }

        Assert.Single(Identity.Images(forgot.Json)); // no detected map
        Assert.StartsWith("\"Module: ip-adapter_face_id_plus, Model: ip-adapter-faceid-plusv2_sd15 [6e14fc1a], Weight: 0.8,",
            Identity.Info(forgot.Json)["extra_generation_params"]!["ControlNet 0"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyMaskedInpaint_WithInpaintCropInputImageFalse_AppliesTheUnit__controlnet_py_777()
    {
        using var c = new MockClient();
        var plain = (await Run(c, "sdapi/v1/img2img", Identity.Img2Img(11))).Json;
        var kept = await Run(c, "sdapi/v1/img2img", Identity.Img2Img(11, units: Identity.FaceId(crop: false)));

        AssertAppliedQuietly(kept.Server);
        using var before = TestImages.Decode(Identity.Images(plain)[0]);
        using var after = TestImages.Decode(Identity.Images(kept.Json)[0]);
        Assert.NotEqual(before.GetPixelMemoryGroup()[0].ToArray(), after.GetPixelMemoryGroup()[0].ToArray());
    }

    [Fact]
    public async Task WholeImageInpaint_DoesNotCrop__controlnet_py_768_772()
    {
        using var c = new MockClient();
        var body = Identity.Img2Img(11, units: Identity.FaceId(crop: null));
        body["inpaint_full_res"] = false; // "Whole picture": not is_only_masked_inpaint
        await Run(c, "sdapi/v1/img2img", body);
        AssertAppliedQuietly(c.Server);
    }

    // accepts_multiple_inputs = is_ipadapter, "IP-Adapter" in the preprocessor's tags (internal_controlnet/args.py:239-268);
    // get_control asserts it for a list (controlnet.py:207-209): a bare AssertionError.
    [Fact]
    public async Task SeveralImages_OnAnIpAdapterUnit_AreAccepted__args_py_240_268()
    {
        using var c = new MockClient();
        var photos = new JsonArray(new JsonObject { ["image"] = Identity.Reference() }, new JsonObject { ["image"] = Identity.Crop(new Rectangle(150, 50, 150, 150)) });
        var r = await Run(c, "sdapi/v1/img2img", Identity.Img2Img(3, units: Identity.FaceId(photos)));
        AssertAppliedQuietly(r.Server);
        Assert.Equal(3, Identity.Images(r.Json).Count); // the render, then each photo as the unit's "detected map" (display_images)
    }

    [Theory]
    [InlineData("instant_id_face_embedding", "ip-adapter_instant_id_sdxl [eb2d3ec0]")] // tag "Instant-ID", not IP-Adapter
    [InlineData("softedge_pidinet", "sargezt_xl_softedge [b6f7415b]")]
    public async Task SeveralImages_OnOtherUnits_FailTheAssertion__args_py_240_268_controlnet_py_208(string module, string model)
    {
        using var c = new MockClient();
        var photos = new JsonArray(new JsonObject { ["image"] = Identity.Reference() }, new JsonObject { ["image"] = Identity.Reference() });
        await Run(c, "sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sdxl, Identity.Unit(module, model, photos)));
        AssertFailedOnConsole(c.Server, "AssertionError");
    }

    // ≤1.1.447: a fixed list with InstantID's embedding and without PuLID (external_code.py:226-235 at 3d75bd08), which
    // d702830f (#2843) changed after the webui-1.8 pin.
    [Fact]
    public async Task SeveralImages_OnWebUi18_FollowTheOldList__external_code_py_226_at_3d75bd08()
    {
        using var c = new MockClient(MockWebUiProfile.WebUi18);
        var photos = new JsonArray(new JsonObject { ["image"] = Identity.Reference() }, new JsonObject { ["image"] = Identity.Reference() });
        await Run(c, "sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sdxl,
            Identity.Unit("instant_id_face_embedding", Identity.InstantIdAdapter, photos), Identity.Unit("instant_id_face_keypoints", Identity.InstantIdControlNet, TestImages.AstronautBase64())));
        AssertAppliedQuietly(c.Server);
        await Run(c, "sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sdxl, Identity.Unit("ip-adapter_pulid", Identity.PuLidModel, photos.DeepClone())));
        AssertFailedOnConsole(c.Server, "AssertionError");
    }

    // A list of plain strings is [image, mask]: another length fails `assert len(init_image) == 2` (args.py:375-390).
    [Fact]
    public async Task ImageListOfStrings_MustBeImageAndMask__args_py_382()
    {
        using var c = new MockClient();
        var three = new JsonArray(Identity.Reference(), Identity.Reference(), Identity.Reference());
        await Run(c, "sdapi/v1/img2img", Identity.Img2Img(5, units: Identity.FaceId(three)));
        AssertFailedOnConsole(c.Server, "AssertionError");
    }

    // InstantID: the ControlNet (file name with "instant_id", controlnet_model_guess.py:233-234) must come right after an
    // IP-Adapter unit (controlnet.py:1188-1195).
    [Fact]
    public async Task InstantId_EmbeddingThenKeypoints_IsApplied_WithTheKeypointsMap__controlnet_py_1188()
    {
        using var c = new MockClient();
        var r = await Run(c, "sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sdxl,
            Identity.Unit("instant_id_face_embedding", Identity.InstantIdAdapter, Identity.Reference()),
            Identity.Unit("instant_id_face_keypoints", Identity.InstantIdControlNet, TestImages.AstronautBase64())));
        AssertAppliedQuietly(r.Server);
        var images = Identity.Images(r.Json);
        Assert.Equal(3, images.Count); // render, the embedding unit's input, the keypoints drawing
        using var kps = TestImages.Decode(images[2]);
        Assert.Equal((256, 256), (kps.Width, kps.Height));
        Assert.Equal(new Rgba32(0, 0, 0, 255), kps[0, 0]); // drawn on black (processor.py:713-740)
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task InstantId_KeypointsNotRightAfterAnIpAdapter_FailsTheAssertion__controlnet_py_1188_1195(bool keypointsFirst)
    {
        using var c = new MockClient();
        var embedding = Identity.Unit("instant_id_face_embedding", Identity.InstantIdAdapter, Identity.Reference());
        var keypoints = Identity.Unit("instant_id_face_keypoints", Identity.InstantIdControlNet, TestImages.AstronautBase64());
        var softedge = Identity.Unit("softedge_pidinet", "sargezt_xl_softedge [b6f7415b]", TestImages.AstronautBase64());
        var body = keypointsFirst ? Identity.Txt2Img(Identity.Sdxl, keypoints, embedding) : Identity.Txt2Img(Identity.Sdxl, embedding, softedge, keypoints);
        var r = await Run(c, "sdapi/v1/txt2img", body);
        AssertFailedOnConsole(c.Server, "AssertionError: InstantID control model should follow ipadapter model.");
        Assert.Single(Identity.Images(r.Json));
    }

    // check_sd_version_compatible (controlnet.py:804-827): the family guessed from the model name as sent (enums.py:47-61)
    // against the loaded checkpoint's; exactly one SDXL side is a mismatch.
    [Fact]
    public async Task SdVersionMismatch_SdxlModelOnSd15Checkpoint__controlnet_py_804_827()
    {
        using var c = new MockClient();
        await Run(c, "sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sd15, Identity.Unit("ip-adapter_pulid", Identity.PuLidModel, Identity.Reference())));
        AssertFailedOnConsole(c.Server,
            "Exception: ControlNet model ip-adapter_pulid_sdxl_fp16 [4b2e5c1d](StableDiffusionVersion.SDXL) is not compatible with sd model(StableDiffusionVersion.SD1x)");
    }

    [Fact]
    public async Task SdVersionMismatch_Sd15ModelOnSdxlCheckpoint__controlnet_py_804_827()
    {
        using var c = new MockClient();
        await Run(c, "sdapi/v1/img2img", Identity.Img2Img(2, checkpoint: Identity.Sdxl, units: Identity.FaceId()));
        AssertFailedOnConsole(c.Server,
            "Exception: ControlNet model ip-adapter-faceid-plusv2_sd15 [6e14fc1a](StableDiffusionVersion.SD1x) is not compatible with sd model(StableDiffusionVersion.SDXL)");
    }

    [Fact]
    public async Task SdVersion_UnguessableName_Passes__controlnet_py_822_824()
    {
        using var c = new MockClient();
        await Run(c, "sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sdxl, Identity.Unit("canny", "canny", TestImages.AstronautBase64())));
        AssertAppliedQuietly(c.Server);
    }

    // PuLID asks for the EVA-CLIP preprocessor after antelopev2 and facexlib: `assert evaclip_preprocessor is not None`
    // (scripts/preprocessor/pulid.py:148-156).
    [Fact]
    public async Task PuLid_WithoutEvaClip_FailsTheAssertion__pulid_py_154_156()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("evaclip");
        using var c = new MockClient(options);
        await Run(c, "sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sdxl, Identity.Unit("ip-adapter_pulid", Identity.PuLidModel, Identity.Reference())));
        AssertFailedOnConsole(c.Server, "AssertionError: EVA02-CLIP-L-14-336 preprocessor not found! Please install sd-webui-controlnet-evaclip");
    }

    [Theory]
    [InlineData("Fidelity")]
    [InlineData("Extremely style")]
    public async Task PuLid_WithEvaClip_IsApplied_AndShowsItsGreyFace__pulid_py_165_172(string mode)
    {
        using var c = new MockClient();
        var unit = Identity.Unit("ip-adapter_pulid", Identity.PuLidModel, Identity.Reference());
        unit["pulid_mode"] = mode;
        var r = await Run(c, "sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sdxl, unit));
        AssertAppliedQuietly(c.Server);
        using var map = TestImages.Decode(Identity.Images(r.Json)[1]);
        Assert.Equal((512, 512), (map.Width, map.Height));
        Assert.Equal(new Rgba32(255, 255, 255, 255), map[0, 0]); // grey face on white
    }

    [Fact]
    public async Task PuLid_ModeOutsideTheEnum_IsAValidationError__enums_py_242_244()
    {
        using var c = new MockClient();
        var unit = Identity.Unit("ip-adapter_pulid", Identity.PuLidModel, Identity.Reference());
        unit["pulid_mode"] = "Style";
        var r = await c.PostAsync("sdapi/v1/txt2img", Identity.Txt2Img(Identity.Sdxl, unit));
        Assert.Equal(500, r.Status);
        Assert.Contains("pulid_mode", r.Json!["errors"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    // InsightFaceModel.load_model imports insightface (processor.py:682-693).
    [Fact]
    public async Task InsightFaceMissing_IdentityPreprocessorsFail__processor_py_686()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("insightface");
        using var c = new MockClient(options);
        await Run(c, "sdapi/v1/img2img", Identity.Img2Img(4, units: Identity.FaceId()));
        AssertFailedOnConsole(c.Server, "ModuleNotFoundError: No module named 'insightface'");
    }

    [Fact]
    public async Task NoFaceInTheReference_Fails__processor_py_656()
    {
        using var c = new MockClient();
        await Run(c, "sdapi/v1/img2img", Identity.Img2Img(4, units: Identity.FaceId(TestImages.Solid(128, 128, new Rgba32(40, 90, 160, 255)))));
        AssertFailedOnConsole(c.Server, "Exception: Insightface: No face found in image.");
    }

    // preset.lora is read nowhere in CN (presets.py:25-170): the prompt goes to the box as sent.
    [Fact]
    public async Task CompanionLora_IsNeverAddedByControlNet__presets_py_lora_unused()
    {
        using var c = new MockClient();
        var body = Identity.Img2Img(4, units: Identity.FaceId());
        body["prompt"] = "portrait photo";
        var r = await Run(c, "sdapi/v1/img2img", body);
        Assert.Equal("portrait photo", Identity.Info(r.Json)["prompt"]!.GetValue<string>());
        Assert.DoesNotContain("<lora:", Identity.Info(r.Json)["infotexts"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    // Infotext.write_infotext: each unit as `ControlNet N: "Module: …, Model: …, Weight: …"` (args.py:434-467), identity
    // units like the rest; an IP-Adapter unit's display image is its input (supported_preprocessor.py:196-205).
    [Fact]
    public async Task AppliedIdentityUnit_IsInTheInfotext_AndItsInputComesBackAsTheMap__args_py_434_467()
    {
        using var c = new MockClient();
        var softedge = Identity.Unit("softedge_pidinet", "control_v11p_sd15_softedge [a8575a2a]", TestImages.AstronautBase64());
        var r = await Run(c, "sdapi/v1/img2img", Identity.Img2Img(9, units: [Identity.FaceId(), softedge]));
        var infotext = Identity.Info(r.Json)["infotexts"]![0]!.GetValue<string>();
        Assert.Contains("ControlNet 0: \"Module: ip-adapter_face_id_plus, Model: ip-adapter-faceid-plusv2_sd15 [6e14fc1a], Weight: 0.8, Resize Mode: Crop and Resize", infotext, StringComparison.Ordinal);
        Assert.Contains("ControlNet 1: \"Module: pidinet, Model: control_v11p_sd15_softedge [a8575a2a]", infotext, StringComparison.Ordinal);
        var images = Identity.Images(r.Json);
        Assert.Equal(3, images.Count);
        using var map = TestImages.Decode(images[1]);
        Assert.Equal((Identity.FaceCrop.Width, Identity.FaceCrop.Height), (map.Width, map.Height));
    }

    [Fact]
    public async Task ConsoleErrors_AreServedAndCleared_AtMockConsole()
    {
        using var c = new MockClient();
        await Run(c, "sdapi/v1/img2img", Identity.Img2Img(4, units: Identity.FaceId(crop: null)));
        var console = (await c.GetAsync("__mock/console")).Json!["errors"]!.AsArray();
        Assert.EndsWith("Insightface: No face found in image.", Assert.Single(console)!.GetValue<string>(), StringComparison.Ordinal);
        var cleared = await c.Http.DeleteAsync(new Uri("__mock/console", UriKind.Relative));
        Assert.True(cleared.IsSuccessStatusCode);
        Assert.Empty(c.Server.ConsoleErrors);
    }
}
