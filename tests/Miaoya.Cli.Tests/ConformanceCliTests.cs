using System.Text;
using System.Text.Json.Nodes;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya conformance</c> against the in-process mock, and mock-webui's record/replay options.</summary>
[Collection(ConsoleTests.Name)]
public sealed class ConformanceCliTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-conformance-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(MockWebUiProfile.WebUi110)]
    [InlineData(MockWebUiProfile.WebUi18)]
    public async Task CompleteMock_EveryCheckPasses_AndTheFilesAreWritten(MockWebUiProfile profile)
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Profile = profile });

        var (code, output, error) = await CliRunner.RunAsync("conformance", "--webui", box.Url.ToString(), "--out", _directory);

        Assert.True(code == 0, output + error);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "conformance.json")))!;
        Assert.Equal("pass", report["result"]!.GetValue<string>());
        Assert.Equal("A1111", report["backend"]!.GetValue<string>());
        var checks = report["checks"]!.AsArray();
        Assert.All(checks, c => Assert.True(c!["status"]!.GetValue<string>() == "pass", c.ToJsonString()));
        Assert.Equal(
            ["controlnet.unit", "probe", "probe.backend", "probe.sampler-dialect", "rembg", "sampler.unknown", "tagger", "txt2img.image", "txt2img.info", "txt2img.sampler"],
            checks.Select(c => c!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var html = File.ReadAllText(Path.Combine(_directory, "conformance.html"));
        Assert.Contains("Conformance: <span class=\"result-pass\">pass</span>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http", html.Replace(box.Url.ToString(), "", StringComparison.Ordinal), StringComparison.Ordinal); // nothing loaded from anywhere
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_directory, "recording", "mappings")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_directory, "recording", "images"), "*.png"));
        Assert.Contains("Conforms: 0 failed, 0 skipped", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MockWithoutControlNet_SkipsTheUnitCheck_WithTheReason()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("controlnet");
        using var box = MockWebUiServer.Start(options);

        var (code, output, error) = await CliRunner.RunAsync("conformance", "--webui", box.Url.ToString(), "--out", _directory);

        Assert.True(code == 0, output + error);
        var check = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "conformance.json")))!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "controlnet.unit")!;
        Assert.Equal("skip", check["status"]!.GetValue<string>());
        Assert.Contains("ControlNet", check["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("skip  controlnet.unit", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MockWithoutTheSoftedgeModel_SkipsTheUnitCheck_NamingTheModelsItHas()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("control_v11p_sd15_softedge");
        using var box = MockWebUiServer.Start(options);

        var (code, _, _) = await CliRunner.RunAsync("conformance", "--webui", box.Url.ToString(), "--out", _directory);

        Assert.Equal(0, code);
        var check = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "conformance.json")))!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "controlnet.unit")!;
        Assert.Equal("skip", check["status"]!.GetValue<string>());
        var detail = check["detail"]!.GetValue<string>();
        Assert.StartsWith("no softedge model on the box (it lists ", detail, StringComparison.Ordinal);
        Assert.Contains("control_v11p_sd15_openpose [", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("control_v11p_sd15_softedge", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BoxWithAuth_Passes_AndTheCredentialsAppearNowhereInTheOutput()
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ann:s3cretpass" });

        var (code, output, error) = await CliRunner.RunAsync("conformance", "--webui", box.Url.ToString(), "--auth", "ann:s3cretpass", "--out", _directory);

        Assert.True(code == 0, output + error);
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:s3cretpass"));
        foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            Assert.False(text.Contains("s3cretpass", StringComparison.Ordinal) || text.Contains(token, StringComparison.Ordinal), file);
        }
    }

    [Fact]
    public async Task WrongCredentials_Exit2_OneLine()
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ann:s3cretpass" });

        var (code, _, error) = await CliRunner.RunAsync("conformance", "--webui", box.Url.ToString(), "--out", _directory);

        Assert.Equal(2, code);
        Assert.Contains("401 Unauthorized", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task UnreachableBox_Exit2_OneClearLine_NoFiles()
    {
        var port = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        port.Start();
        var free = ((System.Net.IPEndPoint)port.LocalEndpoint).Port;
        port.Stop();

        var (code, _, error) = await CliRunner.RunAsync("conformance", "--webui", $"http://127.0.0.1:{free}/", "--out", _directory);

        Assert.Equal(2, code);
        Assert.StartsWith($"error: cannot reach http://127.0.0.1:{free}/", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_directory, "conformance.json")));
    }

    [Theory]
    [InlineData("--profile webui-1.8 --replay DIR", "--profile and --replay cannot be combined")]
    [InlineData("--record-from http://127.0.0.1:7860 --record-dir DIR --replay DIR", "--record-from and --replay cannot be combined")]
    [InlineData("--record-from http://127.0.0.1:7860", "--record-from needs --record-dir")]
    [InlineData("--record-from ftp://box --record-dir DIR", "--record-from: 'ftp://box' is not an http:// or https:// URL.")]
    [InlineData("--replay DIR/none", "is not a recording (no mappings/ folder)")]
    public async Task MockWebUi_RecordReplayOptions_BadCombinations_Exit2(string arguments, string message)
    {
        Directory.CreateDirectory(Path.Combine(_directory, "mappings"));
        var args = arguments.Replace("DIR", _directory, StringComparison.Ordinal).Split(' ');

        var (code, _, error) = await CliRunner.RunAsync(["mock-webui", .. args]);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
