using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi.Tests;

/// <summary>MockWebUiOptions.LoraDirectory and Txt2ImgImage (used by the LoRA training tests).</summary>
public sealed class LoraFolderTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-mock-loras-" + Guid.NewGuid().ToString("N"));

    public LoraFolderTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string[] Names(JsonNode? list) => [.. list!.AsArray().Select(l => l!["name"]!.GetValue<string>())];

    [Fact]
    public async Task Loras_ListTheFolder_AfterRefreshOnly_AfterTheBuiltIns()
    {
        await File.WriteAllBytesAsync(Path.Combine(_folder, "at_start.safetensors"), [1]);
        using var c = new MockClient(new MockWebUiOptions { LoraDirectory = _folder });
        await File.WriteAllBytesAsync(Path.Combine(_folder, "later.safetensors"), [1]);
        await File.WriteAllBytesAsync(Path.Combine(_folder, "notes.txt"), [1]);

        var before = Names((await c.GetAsync("sdapi/v1/loras")).Json);
        Assert.Equal(
            ["miaoya_demo_face", "add_detail", "ip-adapter-faceid-plusv2_sd15_lora", "ip-adapter-faceid_sd15_lora", "ip-adapter-faceid-plus_sd15_lora",
             "ip-adapter-faceid_sdxl_lora", "ip-adapter-faceid-plusv2_sdxl_lora", "at_start"],
            before);

        Assert.Equal(200, (await c.PostAsync("sdapi/v1/refresh-loras", null)).Status);
        var after = (await c.GetAsync("sdapi/v1/loras")).Json;
        Assert.Equal([.. before, "later"], Names(after));
        Assert.Equal(Path.Combine(_folder, "later.safetensors"), after!.AsArray()[^1]!["path"]!.GetValue<string>());
    }

    [Fact]
    public async Task Txt2Img_UsesTheHooksImage_WhenItGivesOne()
    {
        using var c = new MockClient(new MockWebUiOptions
        {
            Txt2ImgImage = (prompt, seed, w, h) => prompt.Contains("face", StringComparison.Ordinal) ? new Image<Rgba32>(w, h, new Rgba32(10, 200, (byte)seed)) : null,
        });

        var hooked = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["prompt"] = "a face", ["seed"] = 7, ["width"] = 64, ["height"] = 64, ["steps"] = 1 });
        var painted = await c.PostAsync("sdapi/v1/txt2img", new JsonObject { ["prompt"] = "a tree", ["seed"] = 7, ["width"] = 64, ["height"] = 64, ["steps"] = 1 });

        using (var image = TestImages.Decode(hooked.Json!["images"]![0]))
        {
            Assert.Equal(new Rgba32(10, 200, 7), image[5, 5]);
        }

        using (var image = TestImages.Decode(painted.Json!["images"]![0]))
        {
            Assert.NotEqual(new Rgba32(10, 200, 7), image[5, 5]);
        }
    }
}
