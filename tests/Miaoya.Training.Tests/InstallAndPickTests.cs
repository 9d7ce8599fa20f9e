using System.Text.Json;
using Miaoya.MockWebUi;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Training.Tests;

/// <summary>A run of two sets trained with the fake trainer on the small dataset.</summary>
public sealed class TrainedRun : IDisposable
{
    public TrainedRun()
    {
        Data = new SmallDataset();
        var options = Data.Options() with { Only = ["r16-adamw", "r32-adamw-fast"] };
        RunDir = options.RunDir;
        var outcomes = TrainingRun.TrainAsync(options).GetAwaiter().GetResult();
        Assert.All(outcomes, o => Assert.Equal(TrainingStatus.Done, o.Status));
    }

    public SmallDataset Data { get; }

    public string RunDir { get; }

    /// <summary>A copy of the run (pick writes into it), with its own empty LoRA folder for the box.</summary>
    public (string RunDir, string LoraDir) Copy()
    {
        var root = TestFiles.NewFolder("run-copy");
        var run = Path.Combine(root, "run");
        CopyDirectory(RunDir, run);
        var manifest = File.ReadAllText(Path.Combine(run, "run.json")).Replace(JsonEncodedText.Encode(RunDir).ToString(), JsonEncodedText.Encode(run).ToString(), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(run, "run.json"), manifest);
        var loraDir = Path.Combine(root, "models", "Lora");
        Directory.CreateDirectory(loraDir);
        return (run, loraDir);
    }

    public void Dispose() => Data.Dispose();

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }
}

public class InstallAndPickTests(TrainedRun trained) : IClassFixture<TrainedRun>
{
    [Fact]
    public async Task Install_CopiesToTheLoraFolder_RefreshesAndChecksTheBoxListsThem()
    {
        var (run, loraDir) = trained.Copy();
        using var box = new MockBox(new MockWebUiOptions { LoraDirectory = loraDir });
        Assert.DoesNotContain(await box.Client.GetLorasAsync(), l => l.Name == "anna_r16-adamw");

        var installed = await LoraInstaller.InstallAsync(new InstallOptions { RunDir = run, Client = box.Client, LoraDir = loraDir });

        Assert.Equal(["anna_r16-adamw", "anna_r32-adamw-fast"], installed);
        Assert.True(File.Exists(Path.Combine(loraDir, "anna_r16-adamw.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "loras", "anna_r16-adamw.safetensors")), File.ReadAllBytes(Path.Combine(loraDir, "anna_r16-adamw.safetensors")));
        Assert.Empty(Directory.GetFiles(loraDir, "*.tmp"));
        Assert.Contains(await box.Client.GetLorasAsync(), l => l.Name == "anna_r32-adamw-fast");
        Assert.Contains(box.Server.WireMock.LogEntries, e => e.RequestMessage!.Path == "/sdapi/v1/refresh-loras");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "installed.json")));
        Assert.Equal(2, json.RootElement.GetProperty("loras").GetArrayLength());
    }

    [Fact]
    public async Task Install_WithACopyCommand()
    {
        var (run, loraDir) = trained.Copy();
        using var box = new MockBox(new MockWebUiOptions { LoraDirectory = loraDir });

        var installed = await LoraInstaller.InstallAsync(new InstallOptions { RunDir = run, Client = box.Client, CopyCommand = $"cp {{file}} {KohyaConfig.ShellQuote(loraDir)}/{{name}}" });

        Assert.Equal(2, installed.Count);
        Assert.True(File.Exists(Path.Combine(loraDir, "anna_r32-adamw-fast.safetensors")));
    }

    [Fact]
    public async Task Install_FailingCopyCommand_QuotesItsOutput()
    {
        var (run, _) = trained.Copy();
        using var box = new MockBox();

        var e = await Assert.ThrowsAsync<TrainingException>(() => LoraInstaller.InstallAsync(new InstallOptions { RunDir = run, Client = box.Client, CopyCommand = "cp {file} /nonexistent-dir-xyz/{name}" }));

        Assert.Contains("the copy command exited with code 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent-dir-xyz/", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_IntoAFolderTheBoxDoesNotScan_SaysTheBoxDoesNotListThem()
    {
        var (run, loraDir) = trained.Copy();
        using var box = new MockBox(new MockWebUiOptions { LoraDirectory = Path.Combine(loraDir, "elsewhere") });

        var e = await Assert.ThrowsAsync<TrainingException>(() => LoraInstaller.InstallAsync(new InstallOptions { RunDir = run, Client = box.Client, LoraDir = loraDir }));

        Assert.Contains("after refresh-loras the box does not list anna_r16-adamw, anna_r32-adamw-fast", e.Message, StringComparison.Ordinal);
        Assert.Contains("miaoya_demo_face", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pick_RanksByIdentity_WritesComparisonAndChoice_ThenHonoursTheUsersPick()
    {
        var (run, loraDir) = trained.Copy();
        using var box = new MockBox(new MockWebUiOptions { LoraDirectory = loraDir, Txt2ImgImage = PortraitFor });
        await LoraInstaller.InstallAsync(new InstallOptions { RunDir = run, Client = box.Client, LoraDir = loraDir });

        var choice = await LoraPicker.PickAsync(new PickOptions { RunDir = run, Client = box.Client, ArcFaceModel = TestFiles.ArcFace }, TestFiles.Detector);

        Assert.Equal("r32-adamw-fast", choice.Set);
        Assert.Equal("anna_r32-adamw-fast", choice.Lora);
        Assert.Equal("score", choice.By);
        Assert.Equal(["r32-adamw-fast", "r16-adamw"], choice.Ranking.Select(r => r.Set));
        Assert.True(choice.Ranking[0].Score > 0.9, $"{choice.Ranking[0].Score}");
        Assert.True(choice.Ranking[1].Score < 0.3, $"{choice.Ranking[1].Score}");
        // Two prompts x three seeds per LoRA, each sent with the LoRA tag and the trigger.
        Assert.Equal(6, choice.Ranking[0].Images.Count);
        Assert.All(choice.Ranking[0].Images, i => Assert.StartsWith("<lora:anna_r32-adamw-fast:0.8> photo of annaxyz,", i.Prompt, StringComparison.Ordinal));
        Assert.Equal([1001L, 2002L, 3003L], choice.Ranking[0].Images.Select(i => i.Seed).Distinct());
        Assert.All(choice.Ranking.SelectMany(r => r.Images), i => Assert.True(File.Exists(Path.Combine(run, i.File)), i.File));
        var html = File.ReadAllText(Path.Combine(run, "compare.html"));
        Assert.Contains("validation/r16-adamw/p1-s1001.png", html, StringComparison.Ordinal);
        Assert.Contains("Chosen: <b>anna_r32-adamw-fast</b> (best score)", html, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(run, "scores.json")));

        // The user's pick wins; the portraits on disk are reused (no new txt2img call).
        var calls = box.Server.WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/txt2img");
        var picked = await LoraPicker.PickAsync(new PickOptions { RunDir = run, Client = box.Client, ArcFaceModel = TestFiles.ArcFace, Pick = "r16-adamw" }, TestFiles.Detector);
        Assert.Equal(("r16-adamw", "user"), (picked.Set, picked.By));
        Assert.Equal(calls, box.Server.WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/txt2img"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "choice.json")));
        Assert.Equal("anna_r16-adamw", json.RootElement.GetProperty("lora").GetString());
        Assert.Equal("user", json.RootElement.GetProperty("by").GetString());
    }

    [Fact]
    public async Task Pick_UnknownPick_ListsTheSets()
    {
        var (run, loraDir) = trained.Copy();
        using var box = new MockBox(new MockWebUiOptions { LoraDirectory = loraDir });

        var e = await Assert.ThrowsAsync<TrainingException>(() => LoraPicker.PickAsync(new PickOptions { RunDir = run, Client = box.Client, ArcFaceModel = TestFiles.ArcFace, Pick = "nope" }, TestFiles.Detector));

        Assert.True(e.IsBadInput);
        Assert.Contains("--pick nope: not a trained LoRA of this run; choose one of r16-adamw, r32-adamw-fast", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pick_BeforeInstall_SaysToInstall()
    {
        var (run, loraDir) = trained.Copy();
        using var box = new MockBox(new MockWebUiOptions { LoraDirectory = loraDir });

        var e = await Assert.ThrowsAsync<TrainingException>(() => LoraPicker.PickAsync(new PickOptions { RunDir = run, Client = box.Client, ArcFaceModel = TestFiles.ArcFace }, TestFiles.Detector));

        Assert.Contains("the box does not list anna_r16-adamw, anna_r32-adamw-fast; install them first: miaoya lora install", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The "good" LoRA renders the person (the astronaut), the other someone else (the cameraman).</summary>
    private static Image<Rgba32>? PortraitFor(string prompt, long seed, int width, int height) =>
        Image.Load<Rgba32>(prompt.Contains("<lora:anna_r32-adamw-fast:", StringComparison.Ordinal) ? TestFiles.Fixture("astronaut.png") : TestFiles.Fixture("camera.png"));
}
