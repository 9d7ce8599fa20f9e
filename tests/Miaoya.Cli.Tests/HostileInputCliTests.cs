using System.Net;
using System.Net.Sockets;
using Miaoya.MockWebUi;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Cli.Tests;

/// <summary>
/// Bad input as a careless user or an attacker gives it, run as the real program in its own process where a crash would
/// show: every case exits 2 with a message naming the file, option or setting, never a stack trace (a 25,000-deep YAML
/// list used to abort run, recipe validate, batch and --set with exit 134).
/// </summary>
[Collection(ConsoleTests.Name)]
public sealed class HostileInputCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-hostile-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    private string Template()
    {
        var path = Path.Combine(_folder, "astronaut.png");
        if (!File.Exists(path))
        {
            using var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!;
            using var file = File.Create(path);
            stream.CopyTo(file);
        }

        return path;
    }

    private static void AssertCleanRefusal((int Code, string Out, string Error) result, params string[] expected)
    {
        Assert.True(result.Code == 2, $"exit {result.Code}{Environment.NewLine}{result.Out}{result.Error}");
        foreach (var part in expected)
        {
            Assert.Contains(part, result.Error, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("   at ", result.Out + result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Out + result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Stack overflow", result.Out + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecipeValidate_DeeplyNestedYaml_Exits2NamingThePlace()
    {
        var path = Path.Combine(_folder, "deep.yaml");
        await File.WriteAllTextAsync(path, $"name: x\nfoo: {Deep(25_000)}\n");

        AssertCleanRefusal(await CliRunner.RunProcessAsync(["recipe", "validate", path]), $"{path}:2:", "nested more than 64 deep");
    }

    [Theory]
    [InlineData(400, "--set: interrogate.exclude:", "nested more than 64 deep")]
    [InlineData(60_000, "--set: interrogate.exclude=[[[[", "120,020 characters; at most 4,200")]
    public async Task Set_DeeplyNestedValue_Exits2NamingTheOverride(int depth, string place, string why)
    {
        AssertCleanRefusal(await CliRunner.RunProcessAsync(["recipe", "validate", "v1-face", "--set", $"interrogate.exclude={Deep(depth)}"]), place, why);
    }

    [Fact]
    public async Task Run_DeeplyNestedRecipe_Exits2BeforeCallingABox()
    {
        var path = Path.Combine(_folder, "deep.yaml");
        await File.WriteAllTextAsync(path, $"name: x\nfoo: {Deep(25_000)}\n");

        AssertCleanRefusal(
            await CliRunner.RunProcessAsync(["run", path, "--template", Template(), "--lora", "x", "--webui", "http://127.0.0.1:9"]),
            "nested more than 64 deep");
    }

    [Fact]
    public async Task Batch_DeeplyNestedFile_Exits2()
    {
        var path = Path.Combine(_folder, "jobs.yaml");
        await File.WriteAllTextAsync(path, $"templates: {Deep(25_000)}\n");

        AssertCleanRefusal(await CliRunner.RunProcessAsync(["batch", path, "--out", Path.Combine(_folder, "out")]), "jobs.yaml", "nested more than 64 deep");
    }

    [Fact]
    public async Task Run_TemplateIsDevZeroOrHuge_Exits2NamingTheFile()
    {
        AssertCleanRefusal(
            await CliRunner.RunProcessAsync(["run", "v2", "--template", "/dev/zero", "--lora", "x", "--webui", "http://127.0.0.1:9"]),
            "template /dev/zero: not a PNG, JPEG or WebP file");

        // A sparse 3 GB file that starts like a PNG: refused by its size, without reading it.
        var huge = Path.Combine(_folder, "huge.png");
        await using (var file = File.Create(huge))
        {
            file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
            file.SetLength(3L * 1024 * 1024 * 1024);
        }

        AssertCleanRefusal(
            await CliRunner.RunProcessAsync(["run", "v2", "--template", huge, "--lora", "x", "--webui", "http://127.0.0.1:9"]),
            "huge.png", "3,221,225,472 bytes", "at most 67,108,864");
    }

    [Theory]
    [InlineData("--device", "tpu", "--device 'tpu': expected cpu, cuda or cuda:N.")]
    [InlineData("--lora", "x:NaN", "'NaN' in 'x:NaN' is not a weight")]
    [InlineData("--trigger", "<lora:other:1>", "is prompt syntax")]
    [InlineData("--seed", "-7", "-7 is not a seed")]
    public async Task Run_BadOption_Exits2BeforeCallingABox(string option, string value, string expected)
    {
        using var box = MockWebUiServer.Start();
        string[] args = ["run", "v2", "--template", Template(), "--webui", box.Url.ToString(), "--out", Path.Combine(_folder, "run")];
        args = option == "--lora" ? [.. args, option, value] : [.. args, "--lora", "miaoya_demo_face", option, value];

        var result = await CliRunner.RunAsync(args);

        AssertCleanRefusal(result, expected);
        Assert.DoesNotContain(box.WireMock.LogEntries, e => e.RequestMessage?.Path is "/tagger/v1/interrogate" or "/sdapi/v1/img2img");
    }

    [Theory]
    [InlineData("../../escaped")]
    [InlineData("/tmp/absolute")]
    [InlineData(".hidden")]
    public async Task Run_RecipeNameWithAPath_Exits2AndWritesNothing(string name)
    {
        var recipe = Path.Combine(_folder, "named.yaml");
        await File.WriteAllTextAsync(recipe, Miaoya.Recipes.RecipeLoader.ReadBuiltIn("v1-face").Replace("name: v1-face", $"name: \"{name}\"", StringComparison.Ordinal));
        var template = Template();
        var before = Directory.GetFileSystemEntries(_folder).Length;

        AssertCleanRefusal(
            await CliRunner.RunAsync(["run", recipe, "--template", template, "--lora", "x", "--webui", "http://127.0.0.1:9"]),
            "name:", "is not a recipe name");
        Assert.Equal(before, Directory.GetFileSystemEntries(_folder).Length);
    }

    [Fact]
    public async Task EnvironmentSettings_BadValues_Exit2ListingEveryOne()
    {
        var result = await CliRunner.RunProcessAsync(
            ["probe", "--webui", "http://127.0.0.1:9"],
            new Dictionary<string, string> { ["MIAOYA_WebUi__ControlRetries"] = "abc", ["MIAOYA_WebUi__Retrys"] = "3", ["MIAOYA_Fleet__HealthInterval"] = "x", ["MIAOYA_WEBUI_AUTH"] = "nocolon" });

        AssertCleanRefusal(
            result,
            "MIAOYA_WEBUI_AUTH: expected user:password.",
            "MIAOYA_WebUi__ControlRetries: 'abc' is not a whole number.",
            "MIAOYA_WebUi__Retrys: unknown setting",
            "MIAOYA_Fleet__HealthInterval: 'x' is not a duration");
    }

    [Fact]
    public async Task Credentials_FromAFileOrTheEnvironment_ReachTheBox()
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Auth = "alice:s3cret" });
        var file = Path.Combine(_folder, "auth");
        await File.WriteAllTextAsync(file, "alice:s3cret\n");

        var fromFile = await CliRunner.RunAsync("probe", "--webui", box.Url.ToString(), "--auth-file", file);
        Assert.True(fromFile.Code == 0, fromFile.Error);

        var fromEnvironment = await CliRunner.RunProcessAsync(["probe", "--webui", box.Url.ToString()], new Dictionary<string, string> { ["MIAOYA_WEBUI_AUTH"] = "alice:s3cret" });
        Assert.True(fromEnvironment.Code == 0, fromEnvironment.Error);
        Assert.DoesNotContain("s3cret", fromEnvironment.Out + fromEnvironment.Error, StringComparison.Ordinal);

        var without = await CliRunner.RunAsync("probe", "--webui", box.Url.ToString());
        Assert.Equal(1, without.Code);

        await File.WriteAllTextAsync(file, "no-colon-here\n");
        AssertCleanRefusal(await CliRunner.RunAsync("probe", "--webui", box.Url.ToString(), "--auth-file", file), "--auth-file", "expected user:password.");
    }

    [Fact]
    public async Task MockWebUi_PortInUse_Exits2WithAMessage()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        AssertCleanRefusal(await CliRunner.RunProcessAsync(["mock-webui", "--port", port]), $"--port {port}: the address is already in use");
    }

    [Fact]
    public async Task Serve_PortInUse_Exits2WithoutTheHostsStackTrace()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)busy.LocalEndpoint).Port}";

        var result = await CliRunner.RunProcessAsync(
            ["serve", "--urls", url, "--webui", "http://127.0.0.1:9", "--jobs-dir", Path.Combine(_folder, "jobs")],
            new Dictionary<string, string> { ["MIAOYA_API_KEY"] = "0123456789abcdef0123456789abcdef" });

        AssertCleanRefusal(result, $"--urls {url}", "address already in use");
        Assert.DoesNotContain("Hosting failed to start", result.Out + result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gif")]
    [InlineData("bmp")]
    [InlineData("tiff")]
    [InlineData("cut")]
    public async Task IdPhotoCheck_FormatsWeDoNotPromiseOrCutFiles_Exit2(string kind)
    {
        var path = Path.Combine(_folder, $"photo.{kind}");
        using (var image = new Image<Rgb24>(64, 64, new Rgb24(200, 180, 160)))
        {
            switch (kind)
            {
                case "gif":
                    await image.SaveAsGifAsync(path);
                    break;
                case "bmp":
                    await image.SaveAsBmpAsync(path);
                    break;
                case "tiff":
                    // A TIFF header followed by nonsense: the old check decoded TIFF and crashed on this one.
                    await File.WriteAllBytesAsync(path, [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4]);
                    break;
                default:
                    await image.SaveAsPngAsync(path);
                    var bytes = await File.ReadAllBytesAsync(path);
                    await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
                    break;
            }
        }

        AssertCleanRefusal(
            await CliRunner.RunAsync("idphoto", "check", path, "--spec", "cn-1inch"),
            kind == "cut" ? "cut short" : "not a PNG, JPEG or WebP file");
    }

    [Fact]
    public async Task IdPhoto_ImageOverThePixelLimit_Exits2FromItsHeader()
    {
        var path = Path.Combine(_folder, "wide.png");
        using (var image = new Image<L8>(9000, 8))
        {
            await image.SaveAsPngAsync(path);
        }

        AssertCleanRefusal(await CliRunner.RunAsync("idphoto", path, "--spec", "cn-1inch", "--out", Path.Combine(_folder, "id")), "9000×8 pixels; at most 8192");
    }

    [Fact]
    public async Task DatasetPrepare_CutPng_IsRejectedSayingSo()
    {
        var photos = Directory.CreateDirectory(Path.Combine(_folder, "photos")).FullName;
        var whole = await File.ReadAllBytesAsync(Template());
        await File.WriteAllBytesAsync(Path.Combine(photos, "cut.png"), whole[..(whole.Length / 2)]);

        var (code, _, error) = await CliRunner.RunAsync("dataset", "prepare", photos, "--name", "anna", "--out", Path.Combine(_folder, "ds"), "--no-tagger");

        Assert.Equal(2, code);
        Assert.Contains("no usable photo", error, StringComparison.Ordinal);
        var report = await File.ReadAllTextAsync(Path.Combine(_folder, "ds", "qa", "report.json"));
        Assert.Contains("not a readable image: the Png file of", report, StringComparison.Ordinal);
        Assert.Contains("is cut short", report, StringComparison.Ordinal);
    }
}
