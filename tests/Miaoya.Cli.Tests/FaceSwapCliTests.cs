using Miaoya.Imaging;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya faceswap</c> with the stand-in models: files written, intermediates dumped, bad input named.</summary>
[Collection(ConsoleTests.Name)]
public sealed class FaceSwapCliTests : IDisposable
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "StandInModels");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-faceswap-" + Guid.NewGuid().ToString("N"));

    public FaceSwapCliTests()
    {
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<string> AstronautAsync()
    {
        var path = Path.Combine(_folder, "astronaut.png");
        await using var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!;
        await using var file = File.Create(path);
        await stream.CopyToAsync(file);
        return path;
    }

    [Fact]
    public async Task FaceSwap_WritesTheResultAndTheIntermediates_FallingBackToCpu()
    {
        var astronaut = await AstronautAsync();
        var output = Path.Combine(_folder, "out.png");
        var dump = Path.Combine(_folder, "dump");

        // The licence notice is printed once per process; a demo run earlier in this test process may have shown it.
        typeof(Miaoya.FaceSwap.FaceSwapper).GetField("s_noticeShown", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.SetValue(null, 0);
        var (code, stdout, stderr) = await CliRunner.RunAsync("faceswap", "--source", astronaut, "--target", astronaut, "--out", output,
            "--models", Models, "--detector", "blazeface", "--device", "cuda:0", "--dump", dump);

        Assert.True(code == 0, stderr);
        Assert.Contains("replaced target face 0", stdout, StringComparison.Ordinal);
        Assert.Contains("non-commercial", stderr, StringComparison.Ordinal);
        Assert.Contains("running on the CPU", stderr, StringComparison.Ordinal);
        Assert.Equal((512, 512), (await EncodedImage.ReadFileAsync(output)).ReadSize());
        Assert.True(File.Exists(Path.Combine(dump, "detections.json")));
        Assert.True(File.Exists(Path.Combine(dump, "source_112.png")));
        Assert.True(File.Exists(Path.Combine(dump, "target0_128.png")));
    }

    [Fact]
    public async Task FaceSwapAndV3_AreRefused_WhenInsightfaceIsDisabled()
    {
        var astronaut = await AstronautAsync();
        Environment.SetEnvironmentVariable("MIAOYA_DISABLE_INSIGHTFACE", "1");
        try
        {
            var (swap, _, swapError) = await CliRunner.RunAsync("faceswap", "--source", astronaut, "--target", astronaut, "--out", Path.Combine(_folder, "o.png"), "--models", Models);
            var (run, _, runError) = await CliRunner.RunAsync("run", "v3", "--template", astronaut, "--face", astronaut, "--models", Models, "--lora", "x", "--out", Path.Combine(_folder, "r"));

            Assert.Equal(2, swap);
            Assert.Contains("non-commercial", swapError, StringComparison.Ordinal);
            Assert.NotEqual(0, run);
            Assert.Contains("V3 is disabled on this deployment", runError, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(_folder, "r")), "nothing is written");

            // Every identity method runs insightface on the box: refused the same way, before any call.
            var (v4, _, v4Error) = await CliRunner.RunAsync("run", "v4-faceid", "--template", astronaut, "--face", astronaut, "--out", Path.Combine(_folder, "v4"));
            Assert.Equal(2, v4);
            Assert.Contains("identity.method: the faceid_plus unit runs insightface's buffalo_l on the box", v4Error, StringComparison.Ordinal);
            Assert.Contains("disabled on this deployment (MIAOYA_DISABLE_INSIGHTFACE=1)", v4Error, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(_folder, "v4")), "nothing is written");
        }
        finally
        {
            Environment.SetEnvironmentVariable("MIAOYA_DISABLE_INSIGHTFACE", null);
        }
    }

    [Fact]
    public async Task V3_WithTheStandInModelFolder_RunsAsTheReadmeShowsIt_DetectingWithBlazeFace()
    {
        // The stand-in det_10g.onnx finds only white squares on black: with the recipe's own detector (scrfd) no face
        // would be found in a photo, so the faceswap step detects with BlazeFace and says why.
        using var server = MockWebUi.MockWebUiServer.Start();
        var astronaut = await AstronautAsync();
        var run = Path.Combine(_folder, "v3");

        var (code, stdout, stderr) = await CliRunner.RunAsync("run", "v3", "--template", astronaut, "--face", astronaut, "--models", Models,
            "--lora", "miaoya_demo_face", "--webui", server.Url.ToString(), "--out", run);

        Assert.True(code == 0, stdout + stderr);
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run, "manifest.json")))!;
        Assert.Empty(manifest["recipe"]!["overrides"]!.AsArray());
        Assert.True(manifest["inputs"]!["stand_in_models"]!.GetValue<bool>());
        var faceswap = manifest["steps"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "faceswap")!["result"]!;
        Assert.Equal("blazeface", faceswap["detector"]!.GetValue<string>());
        Assert.StartsWith("tiny stand-in models", faceswap["models"]!.GetValue<string>(), StringComparison.Ordinal);
        var notes = faceswap["notes"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        Assert.Contains(notes, n => n.Contains("det_10g.onnx is the repository's stand-in for SCRFD", StringComparison.Ordinal));
        Assert.DoesNotContain(notes, n => n.Contains("no det_10g.onnx given", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FaceSwap_WithTheStandInDetector_DefaultsToBlazeFace_ButAnExplicitScrfdIsKept()
    {
        var astronaut = await AstronautAsync();

        var (code, stdout, stderr) = await CliRunner.RunAsync("faceswap", "--source", astronaut, "--target", astronaut, "--out", Path.Combine(_folder, "o.png"), "--models", Models);
        Assert.True(code == 0, stderr);
        Assert.Contains("Detector blazeface:", stdout, StringComparison.Ordinal);
        Assert.Contains("is the repository's stand-in for SCRFD", stderr, StringComparison.Ordinal);

        // Asked for by name, SCRFD runs: the stand-in finds no face in a photo.
        (code, _, stderr) = await CliRunner.RunAsync("faceswap", "--source", astronaut, "--target", astronaut, "--out", Path.Combine(_folder, "o.png"), "--models", Models, "--detector", "scrfd");
        Assert.Equal(1, code);
        Assert.Contains("source image: no face found", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaceSwap_MissingModels_ListsTheFileNames()
    {
        var astronaut = await AstronautAsync();

        var (code, _, stderr) = await CliRunner.RunAsync("faceswap", "--source", astronaut, "--target", astronaut, "--out", Path.Combine(_folder, "o.png"), "--models", _folder);

        Assert.Equal(2, code);
        Assert.Contains("missing w600k_r50.onnx, inswapper_128.onnx", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaceSwap_TargetWithoutAFace_NamesTheFile()
    {
        var astronaut = await AstronautAsync();
        var blank = Path.Combine(_folder, "blank.png");
        using (var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(200, 200))
        {
            await SixLabors.ImageSharp.ImageExtensions.SaveAsPngAsync(image, blank);
        }

        var (code, _, stderr) = await CliRunner.RunAsync("faceswap", "--source", astronaut, "--target", blank, "--out", Path.Combine(_folder, "o.png"), "--models", Models, "--detector", "blazeface");

        Assert.Equal(1, code);
        Assert.Contains($"{blank}: target image: no face found", stderr, StringComparison.Ordinal);
    }
}
