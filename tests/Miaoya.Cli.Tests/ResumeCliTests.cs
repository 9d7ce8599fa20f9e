using System.Text.Json.Nodes;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya run --resume DIR</c>: back on the run's own box unless <c>--webui</c> names another, saying which.</summary>
[Collection(ConsoleTests.Name)]
public sealed class ResumeCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-resume-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<string> TemplateAsync()
    {
        var path = Path.Combine(_folder, "astronaut.png");
        await using var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!;
        await using var file = File.Create(path);
        await stream.CopyToAsync(file);
        return path;
    }

    private static int Calls(MockWebUiServer box, string path) =>
        box.WireMock.LogEntries.Count(e => e.RequestMessage!.Path == path);

    [Fact]
    public async Task Resume_WithoutWebUi_GoesBackToTheRunsOwnBox_AndSaysSo()
    {
        // Every generation fails at first: the run stops after preflight with a --resume hint that names no box.
        var options = new MockWebUiOptions { FailRate = 1 };
        using var box = MockWebUiServer.Start(options);
        var run = Path.Combine(_folder, "run");
        var (code, _, error) = await CliRunner.RunAsync("run", "v1-face", "--template", await TemplateAsync(), "--lora", "miaoya_demo_face",
            "--webui", box.Url.ToString(), "--out", run, "--seed", "7");
        Assert.True(code == 1, error);
        Assert.Contains($"miaoya run --resume {run}", error, StringComparison.Ordinal);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run, "manifest.json")))!;
        Assert.Equal(box.Url.ToString(), manifest["box"]!.GetValue<string>());

        // The box is fixed; the hint, as printed, resumes there (not on the default box).
        options.FailRate = 0;
        var before = Calls(box, "/sdapi/v1/img2img");
        (code, var output, error) = await CliRunner.RunAsync("run", "--resume", run);

        Assert.True(code == 0, output + error);
        Assert.Contains($"Resuming {run} on {box.Url} (the run's own box, from its manifest; --webui URL resumes on another)", output, StringComparison.Ordinal);
        Assert.Contains("Final image:", output, StringComparison.Ordinal);
        Assert.True(Calls(box, "/sdapi/v1/img2img") > before, "the inpaint step ran on the run's box");
    }

    [Fact]
    public async Task Resume_WithWebUi_MovesTheRunToThatBox_WhichTheManifestThenRecords()
    {
        var failing = new MockWebUiOptions { FailRate = 1 };
        using var first = MockWebUiServer.Start(failing);
        using var second = MockWebUiServer.Start();
        var run = Path.Combine(_folder, "run");
        var (code, _, error) = await CliRunner.RunAsync("run", "v1-face", "--template", await TemplateAsync(), "--lora", "miaoya_demo_face",
            "--webui", first.Url.ToString(), "--out", run);
        Assert.True(code == 1, error);

        (code, var output, error) = await CliRunner.RunAsync("run", "--resume", run, "--webui", second.Url.ToString(), "--json");

        Assert.True(code == 0, output + error);
        Assert.Contains($"Resuming {run} on {second.Url} (--webui)", error, StringComparison.Ordinal);
        Assert.Equal("succeeded", JsonNode.Parse(output)!["status"]!.GetValue<string>());
        Assert.True(Calls(second, "/sdapi/v1/img2img") > 0);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run, "manifest.json")))!;
        Assert.Equal(second.Url.ToString(), manifest["box"]!.GetValue<string>());
    }

    [Fact]
    public async Task Resume_OfAManifestThatIsNotJson_IsBadInput_NamingTheFile()
    {
        var run = Path.Combine(_folder, "broken");
        Directory.CreateDirectory(run);
        await File.WriteAllTextAsync(Path.Combine(run, "manifest.json"), "{ not json");

        var (code, output, error) = await CliRunner.RunAsync("run", "--resume", run);

        Assert.Equal(2, code);
        Assert.Contains($"error: --resume: {Path.Combine(run, "manifest.json")}: not a valid manifest", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Resuming", output, StringComparison.Ordinal);
    }
}
