using System.Text.Json.Nodes;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

/// <summary>
/// What txt2img answers with hires fix and with n_iter × batch_size: A1111@82a973c modules/processing.py and api.py, and
/// sd-webui-controlnet@56cec5b scripts/controlnet.py (get_control :235-292, postprocess :1283-1296).
/// </summary>
public sealed class HiresAndBatchTests
{
    private static readonly string Input = TestImages.Solid(32, 32, new Rgba32(50, 60, 70, 255));

    private static JsonObject Unit(string module, string model, string? hrOption = null)
    {
        var unit = new JsonObject { ["enabled"] = true, ["module"] = module, ["model"] = model, ["image"] = Input };
        if (hrOption is not null)
        {
            unit["hr_option"] = hrOption;
        }

        return unit;
    }

    private static JsonObject Body(params JsonObject[] units) => new()
    {
        ["prompt"] = "p",
        ["seed"] = 10,
        ["steps"] = 2,
        ["width"] = 100,
        ["height"] = 64,
        ["alwayson_scripts"] = new JsonObject { ["controlnet"] = new JsonObject { ["args"] = new JsonArray([.. units]) } },
    };

    private static (int W, int H) Size(JsonNode? b64)
    {
        using var image = TestImages.Decode(b64);
        return (image.Width, image.Height);
    }

    // get_control stores an hr map (hr_y × hr_x) before the low-res one for every image preprocessor, whatever
    // hr_option says (it only reaches forward_param, :1046); detectmap_proc returns maps at the target size, aligned to 8.
    [Theory]
    [InlineData("Both")]
    [InlineData("Low res only")]
    [InlineData("High res only")]
    public async Task Hires_EachImageUnit_AddsAnHiresMapThenALowResMap_WhateverItsHrOption(string hrOption)
    {
        using var c = new MockClient();
        var body = Body(Unit("depth_midas", "control_v11f1p_sd15_depth [cfd03158]", hrOption));
        body["enable_hr"] = true;
        body["hr_scale"] = 1.5;

        var r = await c.PostAsync("sdapi/v1/txt2img", body);
        var images = r.Json!["images"]!.AsArray();

        Assert.Equal(3, images.Count);
        Assert.Equal((150, 96), Size(images[0])); // processing.py:1223-1226: int(100 * 1.5) x int(64 * 1.5)
        Assert.Equal((144, 96), Size(images[1])); // align_dim_latent(150) = 144
        Assert.Equal((96, 64), Size(images[2]));
    }

    // An embedding preprocessor gives no hires map and shows its input (supported_preprocessor.py cached_call display_images).
    [Fact]
    public async Task Hires_AnIpAdapterUnit_AddsItsInputOnce()
    {
        using var c = new MockClient();
        var body = Body(Unit("ip-adapter_clip_h", "ip-adapter_sd15 [6a3f6166]"), Unit("canny", "control_v11p_sd15_canny [d14c016b]"));
        body["enable_hr"] = true;
        body["hr_resize_x"] = 200;

        var images = (await c.PostAsync("sdapi/v1/txt2img", body)).Json!["images"]!.AsArray();

        Assert.Equal(1 + 1 + 2, images.Count);
        Assert.Equal((200, 128), Size(images[0])); // hr_resize_y 0: 200 * 64 // 100
        Assert.Equal((32, 32), Size(images[1]));
        Assert.Equal((200, 128), Size(images[2]));
        Assert.Equal((96, 64), Size(images[3]));
    }

    [Fact]
    public async Task Hires_AnHrOptionOutsideTheEnum_IsAValidationError()
    {
        using var c = new MockClient();
        var r = await c.PostAsync("sdapi/v1/txt2img", Body(Unit("canny", "control_v11p_sd15_canny [d14c016b]", "Sometimes")));
        Assert.Equal(500, r.Status); // pydantic unit inside the script: ValidationError (CN args.py:169)
    }

    // n_iter × batch_size images first, all seeds consecutive, then the maps once per request (postprocess runs once).
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    public async Task Batch_ImagesThenMapsOnce_AndSeedsPerImage(int nIter, int batchSize)
    {
        using var c = new MockClient();
        var body = Body(Unit("canny", "control_v11p_sd15_canny [d14c016b]"), Unit("depth_midas", "control_v11f1p_sd15_depth [cfd03158]"));
        body["n_iter"] = nIter;
        body["batch_size"] = batchSize;

        var r = await c.PostAsync("sdapi/v1/txt2img", body);
        var images = r.Json!["images"]!.AsArray();
        var info = JsonNode.Parse(r.Json!["info"]!.GetValue<string>())!;

        var total = nIter * batchSize;
        Assert.Equal(total + 2, images.Count);
        Assert.Equal(Enumerable.Range(10, total).Select(s => (long)s), info["all_seeds"]!.AsArray().Select(s => s!.GetValue<long>()));
        Assert.Equal(total, info["all_prompts"]!.AsArray().Count);
        Assert.Equal(total, info["infotexts"]!.AsArray().Count);
        Assert.Equal(0, info["index_of_first_image"]!.GetValue<int>());
    }

    // save_images=true turns do_not_save_grid off (api.py:445-446); return_grid puts the grid and its infotext first and
    // index_of_first_image is 1 (processing.py:1117-1128); grid_only_if_multiple leaves a single image without one.
    [Theory]
    [InlineData(2, 2, true)]
    [InlineData(1, 1, false)]
    public async Task SaveImages_PutsTheGridFirst_WhenThereAreSeveralImages(int nIter, int batchSize, bool grid)
    {
        using var c = new MockClient();
        var body = Body();
        body["n_iter"] = nIter;
        body["batch_size"] = batchSize;
        body["save_images"] = true;

        var r = await c.PostAsync("sdapi/v1/txt2img", body);
        var images = r.Json!["images"]!.AsArray();
        var info = JsonNode.Parse(r.Json!["info"]!.GetValue<string>())!;

        var total = nIter * batchSize;
        Assert.Equal(total + (grid ? 1 : 0), images.Count);
        Assert.Equal(grid ? 1 : 0, info["index_of_first_image"]!.GetValue<int>());
        Assert.Equal(images.Count, info["infotexts"]!.AsArray().Count);
        if (grid)
        {
            Assert.Equal((200, 128), Size(images[0])); // 4 images: 2 rows x 2 columns of 100x64
        }
    }
}
