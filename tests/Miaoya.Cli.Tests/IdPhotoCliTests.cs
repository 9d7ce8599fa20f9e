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
        Assert.Equal(13, json["rules"]!.AsArray().Count);
        var rim = json["rules"]!.AsArray().Single(r => r!["id"]!.GetValue<string>() == "background_rim")!;
        Assert.Equal("mask.png beside the photo", rim["matte"]!.GetValue<string>()); // found beside the photo: the rim is measured
        Assert.True(rim["passed"]!.GetValue<bool>());
        Assert.False(rim["skipped"]!.GetValue<bool>());

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
        Assert.Contains("fix: the file is png; us-2x2 accepts jpeg: save it as jpeg (miaoya idphoto --format jpeg)", text, StringComparison.Ordinal);
        // Every failed rule of the printed verdict has its fix on the next line.
        var lines = text.Split('\n');
        var failedAt = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains("  FAIL  ", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(failedAt);
        Assert.All(failedAt, i => Assert.StartsWith("fix: ", lines[i + 1].TrimStart(), StringComparison.Ordinal));

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
    public async Task A_background_the_spec_forbids_is_exit_2_before_the_photo_is_read_or_the_box_called()
    {
        using var server = MockWebUiServer.Start();
        var photo = await AstronautAsync();
        var output = Path.Combine(_folder, "us");
        var (code, text, error) = await CliRunner.RunAsync("idphoto", photo, "--spec", "us-2x2", "--background", "blue", "--out", output, "--webui", server.Url.ToString());
        Assert.Equal(2, code);
        Assert.Equal(string.Empty, text);
        Assert.Contains("error: --background blue: us-2x2 does not allow a blue (#438EDB) background", error, StringComparison.Ordinal);
        Assert.Contains("us-2x2 allows white, off-white", error, StringComparison.Ordinal);
        Assert.Equal(0, server.RequestCount);
        Assert.False(Directory.Exists(output));

        // Even a photo that cannot be read is not looked at: the request is wrong first.
        (code, _, error) = await CliRunner.RunAsync("idphoto", Path.Combine(_folder, "missing.jpg"), "--spec", "cn-passport-visa", "--background", "red", "--out", output, "--webui", server.Url.ToString());
        Assert.Equal(2, code);
        Assert.Contains("cn-passport-visa allows white", error, StringComparison.Ordinal);
        Assert.DoesNotContain("missing.jpg", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_json_is_one_object_per_photo_with_numbers_as_numbers_and_a_hint_on_each_failed_rule()
    {
        var photo = await AstronautAsync();
        var output = Path.Combine(_folder, "kept");
        var (code, _, error) = await CliRunner.RunAsync("idphoto", photo, "--spec", "cn-1inch", "--out", output);
        Assert.True(code is 0 or 1, error);
        var file = Path.Combine(output, "cn-1inch-300dpi.jpg");

        (code, var text, error) = await CliRunner.RunAsync("idphoto", "check", file, photo, "--spec", "cn-1inch", "--json");
        Assert.True(code == 1, error + text); // the astronaut's own background (kept) and the unframed template fail
        var objects = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();
        Assert.Equal(["cn-1inch-300dpi.jpg", "astronaut.png"], objects.Select(o => o["file"]!.GetValue<string>()));
        foreach (var report in objects)
        {
            Assert.Equal(300, report["dpi"]!.GetValue<int>());
            foreach (var rule in report["rules"]!.AsArray().Select(r => r!.AsObject()))
            {
                var id = rule["id"]!.GetValue<string>();
                Assert.True(rule.ContainsKey("value") && rule.ContainsKey("min") && rule.ContainsKey("max") && rule.ContainsKey("hint"), id);
                if (rule["passed"]!.GetValue<bool>())
                {
                    Assert.Null(rule["hint"]);
                }
                else
                {
                    Assert.False(string.IsNullOrWhiteSpace(rule["hint"]!.GetValue<string>()), id);
                }

                if (id is "head_height" or "top_margin" or "eye_line" or "centring" or "roll" or "file_size" or "background_uniformity" or "background_colour" or "dpi" or "face_count")
                {
                    Assert.Equal(System.Text.Json.JsonValueKind.Number, rule["value"]!.GetValueKind());
                }
            }

            // No number anywhere is written as a string ("0.599").
            Assert.DoesNotContain(Strings(report), s => double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
        }

        var head = objects[0]["rules"]!.AsArray().Single(r => r!["id"]!.GetValue<string>() == "head_height")!;
        Assert.Equal((0.5, 0.7), (head["min"]!.GetValue<double>(), head["max"]!.GetValue<double>()));
        Assert.InRange(head["value"]!.GetValue<double>(), 0.5, 0.7);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, head["mm"]!.GetValueKind());
        var size = objects[1]["rules"]!.AsArray().Single(r => r!["id"]!.GetValue<string>() == "pixel_size")!;
        Assert.Equal((512, 512), (size["value"]!["width"]!.GetValue<int>(), size["value"]!["height"]!.GetValue<int>()));
        Assert.Equal((295, 413), (size["expected"]!["width"]!.GetValue<int>(), size["expected"]!["height"]!.GetValue<int>()));

        (code, _, error) = await CliRunner.RunAsync("idphoto", "check", file, photo, "--spec", "cn-1inch", "--mask", photo);
        Assert.Equal(2, code);
        Assert.Contains("--mask: give it with one photo", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_help_names_its_image_once()
    {
        var (code, text, _) = await CliRunner.RunAsync("idphoto", "check", "--help");
        Assert.Equal(0, code);
        Assert.Contains(" idphoto check <IMAGE>... [options]", text, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "<IMAGE>"), m => m.Index > text.IndexOf("Arguments:", StringComparison.Ordinal));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(text, "<IMAGE>")); // the usage line and the argument's row
        Assert.Contains("--mask", text, StringComparison.Ordinal);

        // The finishing command itself still shows its own IMAGE.
        (code, text, _) = await CliRunner.RunAsync("idphoto", "--help");
        Assert.Equal(0, code);
        Assert.Contains(" idphoto <IMAGE> [command] [options]", text, StringComparison.Ordinal);
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => [v.GetValue<string>()],
        _ => [],
    };

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
