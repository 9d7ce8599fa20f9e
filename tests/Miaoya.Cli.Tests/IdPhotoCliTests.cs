using System.Text.Json.Nodes;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya idphoto</c>, <c>idphoto check</c> and <c>idphoto specs</c> as a user runs them.</summary>
[Collection(ConsoleTests.Name)]
public sealed class IdPhotoCliTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-idphoto-" + Guid.NewGuid().ToString("N"));

    public IdPhotoCliTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Finish_through_the_mock_then_check_passes()
    {
        using var server = MockWebUiServer.Start();
        var photo = await AstronautAsync();
        var output = Path.Combine(_folder, "out");
        var (code, text, error) = await CliRunner.RunAsync("idphoto", photo, "--spec", "cn-1inch", "--background", "blue", "--out", output, "--webui", server.Url.ToString(), "--sheet", "6inch", "--kb", "30");
        Assert.True(code == 0, error + text);
        Assert.Contains("Photo: ", text, StringComparison.Ordinal);
        Assert.Contains("(295×413 px, 25×35 mm at 300 dpi", text, StringComparison.Ordinal);
        Assert.Contains("12 copies as 3×4", text, StringComparison.Ordinal);
        Assert.Contains("verdict: PASS", text, StringComparison.Ordinal);
        var file = Path.Combine(output, "cn-1inch-300dpi.jpg");
        Assert.True(new FileInfo(file).Length <= 30 * 1024);
        Assert.True(File.Exists(Path.Combine(output, "sheet-6inch.jpg")));
        Assert.True(File.Exists(Path.Combine(output, "mask.png")));
        Assert.True(JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "verdict.json")))!["passed"]!.GetValue<bool>());

        (code, text, error) = await CliRunner.RunAsync("idphoto", "check", file, "--spec", "cn-1inch", "--json");
        Assert.True(code == 0, error + text);
        var json = JsonNode.Parse(text)!;
        Assert.Equal("cn-1inch", json["spec"]!.GetValue<string>());
        Assert.Equal(12, json["rules"]!.AsArray().Count);

        // The same file at another DPI or against another spec fails, with exit code 1.
        (code, text, _) = await CliRunner.RunAsync("idphoto", "check", file, "--spec", "cn-1inch", "--dpi", "350");
        Assert.Equal(1, code);
        Assert.Contains("pixel_size             FAIL    295×413", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_webui_the_background_is_kept_and_replacing_it_is_refused()
    {
        var photo = await AstronautAsync();
        var output = Path.Combine(_folder, "kept");
        var (code, text, error) = await CliRunner.RunAsync("idphoto", photo, "--spec", "us-2x2", "--out", output, "--format", "png", "--dpi", "254");
        Assert.True(code is 0 or 1, error); // the astronaut's own background is not plain: the verdict may fail, the photo is written
        Assert.Contains("background keep", text, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "us-2x2-254dpi.png")));
        Assert.Contains("format                 FAIL    png", text, StringComparison.Ordinal); // US wants JPEG

        (code, _, error) = await CliRunner.RunAsync("idphoto", photo, "--spec", "us-2x2", "--out", output, "--background", "white");
        Assert.Equal(2, code);
        Assert.Contains("needs a WebUI box with the rembg extension (--webui URL); or use --background keep", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_inputs_are_exit_2_and_say_what_is_wrong()
    {
        var photo = await AstronautAsync();
        var (code, _, error) = await CliRunner.RunAsync("idphoto", photo, "--spec", "cn-1inh", "--out", _folder);
        Assert.Equal(2, code);
        Assert.Contains("unknown ID-photo spec 'cn-1inh' (closest: \"cn-1inch\"", error, StringComparison.Ordinal);

        (code, _, error) = await CliRunner.RunAsync("idphoto", Path.Combine(_folder, "missing.jpg"), "--spec", "cn-1inch", "--out", _folder);
        Assert.Equal(2, code);
        Assert.Contains("missing.jpg", error, StringComparison.Ordinal);

        var blank = Path.Combine(_folder, "blank.png");
        using (var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(400, 400, new SixLabors.ImageSharp.PixelFormats.Rgb24(200, 200, 200)))
        {
            await SixLabors.ImageSharp.ImageExtensions.SaveAsPngAsync(image, blank);
        }

        (code, _, error) = await CliRunner.RunAsync("idphoto", blank, "--spec", "cn-1inch", "--out", _folder);
        Assert.Equal(2, code);
        Assert.Contains("blank.png: no face found", error, StringComparison.Ordinal);

        (code, _, error) = await CliRunner.RunAsync("idphoto", photo, "--spec", "cn-1inch", "--out", _folder, "--dpi", "72");
        Assert.Equal(2, code);
        Assert.Contains("--dpi: 72 is not supported; use 300, 254, 350", error, StringComparison.Ordinal);

        (code, _, error) = await CliRunner.RunAsync("idphoto", photo, "--spec", "cn-1inch", "--out", _folder, "--background", "purple");
        Assert.Equal(2, code);
        Assert.Contains("'purple' is not a background", error, StringComparison.Ordinal);

        (code, _, _) = await CliRunner.RunAsync("idphoto", "check", blank, "--spec", "cn-1inch");
        Assert.Equal(1, code);
    }

    [Fact]
    public async Task Specs_lists_every_size_in_pixels()
    {
        var (code, text, _) = await CliRunner.RunAsync("idphoto", "specs");
        Assert.Equal(0, code);
        Assert.Contains("cn-2inch          35×49        413×579", text, StringComparison.Ordinal);
        Assert.Contains("us-2x2            50.8×50.8    600×600   508×508   700×700", text, StringComparison.Ordinal);
        Assert.Equal(8 + 2, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    private async Task<string> AstronautAsync()
    {
        var path = Path.Combine(_folder, "astronaut.png");
        await using var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!;
        await using var file = File.Create(path);
        await stream.CopyToAsync(file);
        return path;
    }
}
