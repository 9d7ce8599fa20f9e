using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary>The commands as a user runs them: exit codes, files written, and what is printed on bad input.</summary>
[Collection(ConsoleTests.Name)]
public sealed class CliTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var code = await CliApp.RunAsync(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    [Theory]
    [InlineData("webui-1.10", "DPM++ SDE")]
    [InlineData("webui-1.8", "DPM++ SDE Karras")]
    public async Task Demo_WritesResultMaskAndManifest(string profile, string sampler)
    {
        var (code, output, error) = await RunAsync("demo", "--out", _folder, "--profile", profile, "--seed", "3000000000");

        Assert.True(code == 0, error);
        Assert.Contains("[done]", output, StringComparison.Ordinal);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_folder, "run.json")))!;
        Assert.Equal(sampler, manifest["sampler_name"]!.GetValue<string>());
        Assert.Equal(3_000_000_000L, manifest["seed"]!.GetValue<long>());
        var result = await EncodedImage.ReadFileAsync(Path.Combine(_folder, manifest["result"]!.GetValue<string>()));
        Assert.Equal((512, 512), result.ReadSize());
        Assert.Equal((512, 512), (await EncodedImage.ReadFileAsync(Path.Combine(_folder, "mask.png"))).ReadSize());
        Assert.Equal(3, Directory.GetFiles(_folder, "controlnet-map-*").Length);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public async Task Demo_TemplateThatIsNotAnImage_IsExit2NamingTheFile()
    {
        var notImage = Path.Combine(_folder, "notes.txt");
        Directory.CreateDirectory(_folder);
        await File.WriteAllTextAsync(notImage, "hello");

        var (code, _, error) = await RunAsync("demo", "--template", notImage, "--out", _folder);

        Assert.Equal(2, code);
        Assert.Contains($"--template: {notImage}: not a PNG, JPEG or WebP file.", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "run.json")));
    }

    [Fact]
    public async Task Probe_PrintsWhatTheBoxOffers()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Profile = MockWebUiProfile.WebUi18, Auth = "ann:pw" });

        var (code, output, error) = await RunAsync("probe", "--webui", server.Url.ToString(), "--auth", "ann:pw");

        Assert.True(code == 0, error);
        Assert.Contains("A1111 ≤ 1.8", output, StringComparison.Ordinal);
        Assert.Contains("ControlNet    API v2", output, StringComparison.Ordinal);
        Assert.Contains("Tagger        Toriato", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_WrongPassword_IsExit1WithoutThePassword()
    {
        using var server = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ann:pw" });

        var (code, _, error) = await RunAsync("probe", "--webui", server.Url.ToString(), "--auth", "ann:guess");

        Assert.Equal(1, code);
        Assert.Contains("HTTP 401", error, StringComparison.Ordinal);
        Assert.Contains("--api-auth", error, StringComparison.Ordinal);
        Assert.DoesNotContain("guess", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--profile", "webui-2", "--profile: 'webui-2' is not a profile; use one of webui-1.10, webui-1.8.")]
    [InlineData("--latency", "soon", "--latency: 'soon' is not a duration (examples: 2s, 500ms, 1.5m).")]
    [InlineData("--fail-rate", "1.5", "--fail-rate: must be between 0 and 1.")]
    [InlineData("--port", "70000", "--port: must be between 0 and 65535.")]
    [InlineData("--auth", "nopassword", "--auth: expected user:password.")]
    public async Task MockWebUi_BadOption_SaysWhichAndWhy(string option, string value, string expected)
    {
        var (code, _, error) = await RunAsync("mock-webui", option, value);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2s", 2000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5m", 90_000)]
    [InlineData("00:00:03", 3000)]
    public void Duration_ParsesWhatPeopleType(string text, double milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("-2s")]
    [InlineData("two seconds")]
    public void Duration_RefusesNonsense(string text) => Assert.False(Duration.TryParse(text, out _));
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleTests
{
    public const string Name = "Console";
}
