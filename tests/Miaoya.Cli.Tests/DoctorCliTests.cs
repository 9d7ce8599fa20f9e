using System.Text.Json.Nodes;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya doctor</c> as a user runs it: tables or JSON, exit codes 0/1/2.</summary>
[Collection(ConsoleTests.Name)]
public sealed class DoctorCliTests : IDisposable
{
    // 4 ControlNet unit slots: v4-faceid takes 3 units + 1 identity unit (a default box has 3).
    private readonly MockWebUiServer _complete = MockWebUiServer.Start(new MockWebUiOptions { ControlNetUnitCount = 4 });
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
        Assert.Contains($"{_complete.Url}  A1111 ≥ 1.10  — recipes v1-face, v1-face-neck, v2, v2-finish, v3, v4-faceid, v4-instantid-sdxl, v4-pulid-sdxl", output, StringComparison.Ordinal);
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

    [Fact]
    public async Task DefaultThreeSlotBox_Exit1_RowSaysRaiseTheUnitNumber()
    {
        using var box = MockWebUiServer.Start();

        var (code, output, _) = await CliRunner.RunAsync("doctor", "--webui", box.Url.ToString(), "--lora", "miaoya_demo_face");

        Assert.Equal(1, code);
        Assert.Contains("✘ ControlNet slots for 4 units", output, StringComparison.Ordinal);
        Assert.Contains("4 units enabled (v4-faceid: 3 + 1 identity unit), the box has 3 (the rest would be dropped silently)  [v4-faceid]", output, StringComparison.Ordinal);
        Assert.Contains("fix: Settings → ControlNet → \"Multi-ControlNet: ControlNet unit number\" to 4 or more (control_net_unit_count)", output, StringComparison.Ordinal);
        Assert.Contains("→ 1 missing", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deep_BoxWithoutInsightFace_Exit1_ARowPerIdentityPreprocessor_AlsoInJson()
    {
        var options = new MockWebUiOptions { ControlNetUnitCount = 4 };
        options.Without.Add("insightface");
        using var box = MockWebUiServer.Start(options);

        var (shallow, _, _) = await CliRunner.RunAsync("doctor", "v4-faceid", "v4-pulid-sdxl", "--webui", box.Url.ToString());
        var (code, output, _) = await CliRunner.RunAsync("doctor", "v4-faceid", "v4-pulid-sdxl", "--webui", box.Url.ToString(), "--deep");
        var (jsonCode, json, _) = await CliRunner.RunAsync("doctor", "v4-faceid", "--webui", _complete.Url.ToString(), "--deep", "--json");

        Assert.Equal(0, shallow);
        Assert.Equal(1, code);
        Assert.Contains("✘ run ip-adapter_face_id_plus", output, StringComparison.Ordinal);
        Assert.Contains("✘ run ip-adapter_pulid", output, StringComparison.Ordinal);
        Assert.Contains("the box answers 500 ModuleNotFoundError: No module named 'insightface'", output, StringComparison.Ordinal);
        Assert.Contains("fix: pip install insightface into the WebUI's Python", output, StringComparison.Ordinal);
        Assert.Equal(0, jsonCode);
        var rows = JsonNode.Parse(json)!["boxes"]![0]!["rows"]!.AsArray();
        Assert.Contains(rows, r => r!["check"]!.GetValue<string>() == "run ip-adapter_face_id_plus" && r["status"]!.GetValue<string>() == "ok"
            && r["recipes"]!.AsArray().Single()!.GetValue<string>() == "v4-faceid");
        Assert.Contains(rows, r => r!["check"]!.GetValue<string>() == "LoRA ip-adapter-faceid-plusv2_sd15_lora (identity.lora)" && r["status"]!.GetValue<string>() == "ok");
    }

    [Fact]
    public async Task BoxWithoutEvaClip_PuLidRowNamesTheExtension()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("evaclip");
        using var box = MockWebUiServer.Start(options);

        var (code, output, _) = await CliRunner.RunAsync("doctor", "v4-pulid-sdxl", "--webui", box.Url.ToString(), "--deep");

        Assert.Equal(1, code);
        Assert.Contains("✘ EVA-CLIP extension (PuLID)", output, StringComparison.Ordinal);
        Assert.Contains("fix: install huchenlei/sd-webui-controlnet-evaclip at commit 39966e79", output, StringComparison.Ordinal);
        Assert.Contains("AssertionError: EVA02-CLIP-L-14-336 preprocessor not found! Please install sd-webui-controlnet-evaclip", output, StringComparison.Ordinal);
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
