using System.Text.Json.Nodes;

namespace Miaoya.Pipeline.Tests;

/// <summary>Run folders written by an earlier release still resume and replay (Fixtures/run-manifest-v1).</summary>
public sealed class ManifestCompatibilityTests
{
    private static string CopyFixture(PipelineHarness h)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Fixtures", "run-manifest-v1");
        var folder = Path.Combine(h.Folder, "old-run");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(source).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        return folder;
    }

    [Fact]
    public async Task Resume_RunFolderOfManifestVersion1_RestoresItsStepsAndRunsTheRest()
    {
        using var h = new PipelineHarness();
        var folder = CopyFixture(h);

        var result = await h.Pipeline.ResumeAsync(folder);

        // interrogate, mask and inpaint come back from the old manifest's data; only img2img calls the box.
        Assert.Equal(RunStatus.Succeeded, result.Manifest.Status);
        Assert.Equal(0, h.Count("/tagger/v1/interrogate"));
        Assert.Equal(1, h.Count("/sdapi/v1/img2img"));
        var img2img = h.Received("/sdapi/v1/img2img").Single();
        var prompt = (await File.ReadAllTextAsync(Path.Combine(folder, "prompt.txt"))).Split('\n')[0];
        Assert.Equal(prompt, img2img["prompt"]!.GetValue<string>());
        Assert.True(File.Exists(result.FinalImage));
        var written = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder, RunFolder.ManifestFileName)))!;
        Assert.Equal(RunManifest.CurrentVersion, written["version"]!.GetValue<int>());
        Assert.Equal(["interrogate", "mask", "inpaint", "img2img"], result.Manifest.Steps.Select(s => s.Name));
    }

    [Fact]
    public async Task Replay_ManifestVersion1_SendsItsRecordedRequestsAgain()
    {
        using var h = new PipelineHarness();
        var folder = CopyFixture(h);

        var replayed = await Replay.RunAsync(h.Client, Path.Combine(folder, RunFolder.ManifestFileName), Path.Combine(h.Folder, "replay"));

        Assert.Equal(["inpaint"], replayed.Select(r => r.Step));
        Assert.Equal(1, h.Count("/sdapi/v1/img2img"));
    }
}
