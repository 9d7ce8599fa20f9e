using Miaoya.Imaging;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;
using Xunit.Abstractions;

namespace Miaoya.WebUi.Tests.Targets;

/// <summary>
/// What the client relies on from any sd-webui box, run by a derived class against each <see cref="WebUiTarget"/>: the mock
/// profiles, the committed recording, a live box. Requests are cheap (64×64, 2 steps) and deterministic (fixed images,
/// seeds and names picked from the box's own lists) so that a recording of a run answers a later run. What a box lacks
/// (ControlNet or a softedge model, the tagger, rembg) is noted in the output and not asserted. Tests that only make sense
/// against the mock (faults, render counters, its admin API) stay in <see cref="ContractTests"/> and the mock's own tests.
/// </summary>
public abstract class WebUiContract(WebUiTarget target, ITestOutputHelper output)
{
    private const long Seed = 1234;

    private static readonly EncodedImage Control = TestImages.Png(64, 64, shade: 40);

    /// <summary>The target's one client: it probes once for the whole class.</summary>
    private WebUiClient Client => target.Client.Client;

    [TargetFact]
    public async Task Probe_FindsAWebUiBackend_WithItsLists()
    {
        var capabilities = await Client.GetCapabilitiesAsync();

        Assert.NotEqual(WebUiBackend.ComfyUi, capabilities.Backend);
        if (target.ExpectedBackend is { } expected)
        {
            Assert.Equal(expected, capabilities.Backend);
        }

        Assert.NotEmpty(capabilities.Samplers);
        Assert.NotEmpty(capabilities.Checkpoints);
        Assert.All(capabilities.Checkpoints, c => Assert.False(string.IsNullOrEmpty(c.Title)));
        // The sampler dialect follows from the lists: no scheduler list means composite names ("DPM++ 2M Karras"), except on
        // SD.Next, which has no /sdapi/v1/schedulers and diffusers sampler names (sdnext@431bcc3 modules/sd_samplers_diffusers.py).
        if (capabilities.Backend != WebUiBackend.SdNext)
        {
            Assert.Equal(capabilities.Schedulers.Count == 0, capabilities.SamplerDialect == SamplerDialect.Combined);
        }
        if (capabilities.HasControlNet)
        {
            Assert.Contains(capabilities.ControlNetModels, m => m != "None");
            Assert.NotEmpty(capabilities.ControlNetModules);
        }

        output.WriteLine($"{capabilities.Backend.DisplayName()} {capabilities.WebUiVersion}; ControlNet {(capabilities.HasControlNet ? "yes" : "no")}, tagger {capabilities.TaggerFlavor}, rembg {capabilities.HasRembg}");
    }

    [TargetFact]
    public async Task Txt2Img_Small_ComesBackInTheBoxsFormatOfTheAskedSize_WithTheSeedInInfo()
    {
        var request = await Txt2ImgAsync(Client);

        var response = await Client.Txt2ImgAsync(request);

        var image = Assert.Single(response.GeneratedImages);
        Assert.Equal(await SamplesFormatAsync(), image.Format);
        Assert.Equal((64, 64), image.ReadSize());
        Assert.Equal(Seed, response.Info!.Seed);
        Assert.Equal(64, response.Info.Width);
        Assert.Equal(2, response.Info.Steps);
    }

    [TargetFact]
    public async Task Txt2Img_WithAControlNetUnit_RunsItAndAppendsTheDetectedMap()
    {
        var capabilities = await Client.GetCapabilitiesAsync();
        var model = capabilities.ControlNetModels.Where(m => m.Contains("softedge", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).FirstOrDefault();
        var module = capabilities.ResolveControlNetModule("softedge_pidinet");
        if (!capabilities.HasControlNet || model is null || module is null)
        {
            output.WriteLine($"not asserted: the box has {(capabilities.HasControlNet ? "no softedge model or no softedge_pidinet module" : "no ControlNet")}");
            return;
        }

        var request = await Txt2ImgAsync(Client) with
        {
            AlwaysOnScripts = new AlwaysOnScripts
            {
                ControlNet = new ControlNetScriptArgs([new ControlNetUnit { Module = module, Model = model, Image = Control, ProcessorRes = 64 }]),
            },
        };

        var response = await Client.Txt2ImgAsync(request);

        Assert.Single(response.GeneratedImages);
        Assert.Equal(2, response.Images.Count); // the image, then the unit's detected map
        Assert.True(response.Info!.ExtraGenerationParams!.ContainsKey("ControlNet 0"), "infotext has no 'ControlNet 0': the unit did not run");
    }

    [TargetFact]
    public async Task Tagger_AnswersRatingsAndTagsAboveTheThreshold()
    {
        var capabilities = await Client.GetCapabilitiesAsync();
        if (!capabilities.HasTagger)
        {
            output.WriteLine("not asserted: the box has no tagger");
            return;
        }

        var result = await Client.TaggerInterrogateAsync(new TaggerInterrogateRequest(Control, capabilities.TaggerModels.Order(StringComparer.Ordinal).First(), 0.35));

        Assert.NotEmpty(result.Ratings);
        Assert.All(result.Tags.Values, score => Assert.True(score >= 0.35, $"tag score {score} is under the threshold"));
    }

    [TargetFact]
    public async Task Rembg_AnswersAnImageOfTheSameSize()
    {
        if (!(await Client.GetCapabilitiesAsync()).HasRembg)
        {
            output.WriteLine("not asserted: the box has no rembg");
            return;
        }

        var response = await Client.RembgAsync(new RembgRequest(Control));

        Assert.Equal(await SamplesFormatAsync(), response.Image.Format);
        Assert.Equal((64, 64), response.Image.ReadSize());
    }

    [TargetFact]
    public async Task PngInfo_ReadsTheParametersOfAGeneratedImage()
    {
        var generated = await Client.Txt2ImgAsync(await Txt2ImgAsync(Client));
        if (generated.GeneratedImages[0].Format != ImageFileFormat.Png)
        {
            output.WriteLine($"not asserted: the box answers {generated.GeneratedImages[0].Format} (its samples_format), not PNG text chunks");
            return;
        }

        var info = await Client.PngInfoAsync(new PngInfoRequest(generated.GeneratedImages[0]));

        Assert.Contains("miaoya contract", info.Info, StringComparison.Ordinal);
        Assert.Contains("Seed: 1234", info.Info, StringComparison.Ordinal);
    }

    [TargetFact]
    public async Task Options_NameTheCheckpoint()
    {

        var options = await Client.GetOptionsAsync();

        Assert.True(options.TryGetValue("sd_model_checkpoint", out var checkpoint));
        Assert.False(string.IsNullOrEmpty(checkpoint.GetString()));
    }

    [TargetFact]
    public async Task UnknownSampler_IsRefusedBeforeAnythingIsSent()
    {
        var request = await Txt2ImgAsync(Client) with { SamplerName = "Euler Sideways" };

        var error = await Assert.ThrowsAsync<WebUiRequestException>(() => Client.Txt2ImgAsync(request));

        Assert.Contains("Euler Sideways", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A 64×64, 2-step txt2img with a fixed seed and the box's "Euler a" (else its first sampler).</summary>
    /// <summary>
    /// The format answers come in: the box's samples_format option (A1111 modules/api/api.py encode_pil_to_base64 reads
    /// opts.samples_format; png by default, jpg on SD.Next, sdnext@431bcc3 modules/shared.py:647).
    /// </summary>
    private async Task<ImageFileFormat> SamplesFormatAsync()
    {
        var options = await Client.GetOptionsAsync();
        var format = options.TryGetValue("samples_format", out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetString() : "png";
        return format?.ToLowerInvariant() switch
        {
            "jpg" or "jpeg" => ImageFileFormat.Jpeg,
            "webp" => ImageFileFormat.WebP,
            _ => ImageFileFormat.Png,
        };
    }

    private static async Task<Txt2ImgRequest> Txt2ImgAsync(WebUiClient client)
    {
        var capabilities = await client.GetCapabilitiesAsync();
        var sampler = capabilities.Samplers.Any(s => s.Name == "Euler a") ? "Euler a" : capabilities.Samplers[0].Name;
        return new Txt2ImgRequest { Prompt = "miaoya contract, a red apple", Seed = Seed, SamplerName = sampler, Steps = 2, Width = 64, Height = 64, CfgScale = 7 };
    }
}
