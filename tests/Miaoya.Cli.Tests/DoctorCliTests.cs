using System.Text.Json.Nodes;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya doctor</c> as a user runs it: tables or JSON, exit codes 0/1/2.</summary>
[Collection(ConsoleTests.Name)]
public sealed class DoctorCliTests : IDisposable
{
    private readonly MockWebUiServer _complete = MockWebUiServer.Start();
    private readonly MockWebUiServer _lacking = Lacking("controlnet", "badhandv4");

    public void Dispose()
    {
        _complete.Dispose();
        _lacking.Dispose();
    }

    [Fact]
    public async Task CompleteBox_Exit0_TablePrinted()
    {
        var (code, output, error) = await CliRunner.RunAsync("doctor", "--webui", _complete.Url.ToString(), "--lora", "miaoya_demo_face:0.8");

        Assert.True(code == 0, output + error);
        Assert.Contains($"{_complete.Url}  A1111 ≥ 1.10  — recipes v1-face, v1-face-neck, v2, v3", output, StringComparison.Ordinal);
        Assert.Contains("✔ LoRA miaoya_demo_face", output, StringComparison.Ordinal);
        Assert.Contains("→ ready\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("✘", output, StringComparison.Ordinal);
        Assert.DoesNotContain(" ! ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralBoxes_OneLacking_Exit1_OneTableEach()
    {
        var (code, output, _) = await CliRunner.RunAsync("doctor", "v1-face", "--webui", _complete.Url.ToString(), "--webui", _lacking.Url.ToString());

        Assert.Equal(1, code);
        Assert.Contains($"{_complete.Url}  A1111 ≥ 1.10  — recipes v1-face", output, StringComparison.Ordinal);
        Assert.Contains($"{_lacking.Url}  A1111 ≥ 1.10  — recipes v1-face", output, StringComparison.Ordinal);
        Assert.True(output.IndexOf(_complete.Url.ToString(), StringComparison.Ordinal) < output.IndexOf(_lacking.Url.ToString(), StringComparison.Ordinal));
        Assert.Contains("✘ ControlNet ", output, StringComparison.Ordinal);
        Assert.Contains("✘ embedding badhandv4", output, StringComparison.Ordinal);
        Assert.Contains("fix: put badhandv4.pt in embeddings/", output, StringComparison.Ordinal);
        Assert.Contains("! LoRA ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_IsOneDocument_WithTheVerdicts()
    {
        var (code, output, _) = await CliRunner.RunAsync("doctor", "v2", "--webui", _lacking.Url.ToString(), "--json");

        Assert.Equal(1, code);
        var json = JsonNode.Parse(output)!;
        Assert.False(json["ok"]!.GetValue<bool>());
        var rows = json["boxes"]![0]!["rows"]!.AsArray();
        Assert.Contains(rows, r => r!["check"]!.GetValue<string>() == "ControlNet" && r["status"]!.GetValue<string>() == "missing"
            && r["fix"]!.GetValue<string>().Contains("sd-webui-controlnet", StringComparison.Ordinal));
        Assert.Contains(rows, r => r!["check"]!.GetValue<string>() == "embedding ng_deepnegative_v1_75t" && r["status"]!.GetValue<string>() == "ok");
    }

    [Fact]
    public async Task AuthAndUnreachable_Exit1_SaySo()
    {
        using var locked = MockWebUiServer.Start(new MockWebUiOptions { Auth = "ops:pw" });

        var (noAuth, noAuthOut, _) = await CliRunner.RunAsync("doctor", "v1-face", "--webui", locked.Url.ToString());
        var (withAuth, _, _) = await CliRunner.RunAsync("doctor", "v1-face", "--webui", locked.Url.ToString(), "--auth", "ops:pw");
        var (down, downOut, _) = await CliRunner.RunAsync("doctor", "v1-face", "--webui", "http://127.0.0.1:9/");

        Assert.Equal(1, noAuth);
        Assert.Contains("✘ API", noAuthOut, StringComparison.Ordinal);
        Assert.Contains("401", noAuthOut, StringComparison.Ordinal);
        Assert.Equal(0, withAuth);
        Assert.Equal(1, down);
        Assert.Contains("not reachable", downOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("doctor", "--webui", "gpu-box:7860")]                              // not a URL
    [InlineData("doctor", "no-such-recipe", "--webui", "http://127.0.0.1:9/")]     // unknown recipe
    [InlineData("doctor", "--webui", "http://127.0.0.1:9/", "--lora", "face:7")]   // weight out of range
    public async Task BadInput_Exit2_NamesTheProblem(params string[] args)
    {
        var (code, output, error) = await CliRunner.RunAsync(args);

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
    }

    private static MockWebUiServer Lacking(params string[] things)
    {
        var options = new MockWebUiOptions();
        foreach (var thing in things)
        {
            options.Without.Add(thing);
        }

        return MockWebUiServer.Start(options);
    }
}
