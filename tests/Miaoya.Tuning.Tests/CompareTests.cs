using System.Text.RegularExpressions;
using Miaoya.Pipeline;

namespace Miaoya.Tuning.Tests;

[Collection(TwoRunsGroup.Name)]
public sealed partial class CompareTests(TwoRunsFixture runs) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("miaoya-compare-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task TwoCells_DifferInTheVariedValueAndWhatFollowsFromIt()
    {
        var comparison = await RunComparison.LoadAsync(runs.RunA, runs.RunB);

        var differences = comparison.Differences.ToDictionary(d => d.Key);
        Assert.Equal(("0.5", "1"), (differences["recipe: inpaint.controlnet.softedge.weight"].A, differences["recipe: inpaint.controlnet.softedge.weight"].B));
        Assert.Equal(("0.5", "1"), (differences["step inpaint: request.alwayson_scripts.controlnet.args[1].weight"].A, differences["step inpaint: request.alwayson_scripts.controlnet.args[1].weight"].B));
        Assert.Contains("final.sha256", differences.Keys);

        // Same seed, model, box and every other recipe value: not listed.
        Assert.DoesNotContain(differences.Keys, k => k.Contains("seed", StringComparison.Ordinal) || k.StartsWith("server.", StringComparison.Ordinal) || k.Contains("sd_model", StringComparison.Ordinal));
        Assert.DoesNotContain("recipe: inpaint.steps", differences.Keys);
        Assert.True(comparison.Compared > 100, $"{comparison.Compared} values compared");
        Assert.Equal(["interrogate", "mask", "inpaint"], comparison.Timings.Select(t => t.Step));
        Assert.All(comparison.Timings, t => Assert.True(t.A > 0 && t.B > 0));

        var table = comparison.FormatTable();
        Assert.Contains($"A: {runs.RunA}", table, StringComparison.Ordinal);
        Assert.Matches(@"recipe: inpaint\.controlnet\.softedge\.weight +0\.5 +1\n", table);
        Assert.Matches(@"inpaint +\d+ +\d+ +[+-]?\d+\n", table);
    }

    [Fact]
    public async Task DifferentSeedAndServer_AreListed()
    {
        // A copy of run B as if made with another seed on another WebUI version.
        var copy = Path.Combine(_scratch, "b");
        CopyFolder(runs.RunB, copy);
        var folder = new RunFolder(copy);
        var manifest = await folder.LoadManifestAsync(CancellationToken.None);
        await folder.SaveManifestAsync(manifest with { Inputs = manifest.Inputs with { Seed = 7 }, Server = manifest.Server! with { WebUiVersion = "v1.9.4" } }, CancellationToken.None);

        var comparison = await RunComparison.LoadAsync(runs.RunA, copy);

        var differences = comparison.Differences.ToDictionary(d => d.Key);
        Assert.Equal(("4242", "7"), (differences["inputs.seed"].A, differences["inputs.seed"].B));
        Assert.Equal("v1.9.4", differences["server.web_ui_version"].B);
    }

    [Fact]
    public async Task Html_ShowsEachStepsImagesSideBySide()
    {
        var comparison = await RunComparison.LoadAsync(runs.RunA, runs.RunB);

        var page = await comparison.WriteHtmlAsync(Path.Combine(_scratch, "page"));

        var html = await File.ReadAllTextAsync(page);
        var rows = ImageRowRegex().Matches(html);
        Assert.Contains(rows, r => r.Groups[1].Value == "inpaint");
        Assert.Contains(rows, r => r.Groups[1].Value == "final");
        var images = ImageRegex().Matches(html).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(2 * comparison.Images.Count, images.Length);
        Assert.All(images, src => Assert.True(File.Exists(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(src)))), src));
        Assert.Contains("recipe: inpaint.controlnet.softedge.weight", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInput_SaysWhichRunAndWhere()
    {
        var missing = Path.Combine(_scratch, "nope");
        var empty = Directory.CreateDirectory(Path.Combine(_scratch, "empty")).FullName;
        var corrupt = Directory.CreateDirectory(Path.Combine(_scratch, "corrupt")).FullName;
        await File.WriteAllTextAsync(Path.Combine(corrupt, "manifest.json"), "{\"version\": 1, \"recipe\": [");
        var file = Path.Combine(_scratch, "file.txt");
        await File.WriteAllTextAsync(file, "x");

        Assert.Equal($"RUN_B: {missing}: no such folder.", (await Assert.ThrowsAsync<CompareException>(() => RunComparison.LoadAsync(runs.RunA, missing))).Message);
        Assert.Equal($"RUN_A: {empty}/manifest.json: no manifest; is this a run folder written by 'miaoya run'?", (await Assert.ThrowsAsync<CompareException>(() => RunComparison.LoadAsync(empty, runs.RunB))).Message);
        Assert.StartsWith($"RUN_A: {corrupt}/manifest.json: not a valid manifest", (await Assert.ThrowsAsync<CompareException>(() => RunComparison.LoadAsync(corrupt, runs.RunB))).Message, StringComparison.Ordinal);
        Assert.Equal($"RUN_A: {file} is a file; give the run folder (the one holding manifest.json).", (await Assert.ThrowsAsync<CompareException>(() => RunComparison.LoadAsync(file, runs.RunB))).Message);
        Assert.StartsWith($"RUN_A: {runs.Folder} is a sweep folder", (await Assert.ThrowsAsync<CompareException>(() => RunComparison.LoadAsync(runs.Folder, runs.RunB))).Message, StringComparison.Ordinal);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    [GeneratedRegex("<tr><td>([^<]+)<br>")]
    private static partial Regex ImageRowRegex();

    [GeneratedRegex("<img src=\"([^\"]+)\"")]
    private static partial Regex ImageRegex();
}
