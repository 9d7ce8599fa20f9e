using System.Text.Json.Nodes;
using Miaoya.Pipeline;

namespace Miaoya.Tuning.Tests;

public sealed class SweepRunnerTests
{
    private static readonly SweepAxis Weight = new("inpaint.controlnet.softedge.weight", ["0.5", "1.0"]);
    private static readonly SweepAxis Denoise = new("inpaint.denoising_strength", ["0.4", "0.6"]);

    [Fact]
    public async Task Run_EveryCellIsARunFolder_SameSeed_OnlyTheVariedValuesDiffer()
    {
        using var harness = new SweepHarness();
        var manifest = SweepManifest.Create(SweepHarness.Definition(Weight, Denoise));
        var events = new List<SweepEvent>();

        var done = await harness.Runner().RunAsync(harness.Folder, manifest, new SyncProgress(e =>
        {
            lock (events)
            {
                events.Add(e);
            }
        }));

        Assert.All(done.Cells, c => Assert.Equal(CellStatus.Succeeded, c.Status));
        Assert.Equal(4, harness.Img2ImgCount());
        var requests = new List<JsonNode>();
        foreach (var cell in done.Cells)
        {
            var run = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(harness.Folder, cell.Folder, "manifest.json")))!;
            Assert.Equal("succeeded", run["status"]!.GetValue<string>());
            var inpaint = run["steps"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "inpaint")!;
            Assert.Equal(4242, inpaint["request"]!["seed"]!.GetValue<long>());
            Assert.Equal(double.Parse(cell.Values[1], System.Globalization.CultureInfo.InvariantCulture), inpaint["request"]!["denoising_strength"]!.GetValue<double>());
            var softedge = inpaint["request"]!["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray().Single(u => u!["module"]!.GetValue<string>() == "softedge_pidinet")!;
            Assert.Equal(double.Parse(cell.Values[0], System.Globalization.CultureInfo.InvariantCulture), softedge["weight"]!.GetValue<double>());
            Assert.True(File.Exists(Path.Combine(harness.Folder, cell.Final!)));
            requests.Add(inpaint["request"]!);
        }

        // Apart from the two varied fields, the four requests are the same.
        var normalised = requests.Select(r =>
        {
            var copy = r.DeepClone();
            copy["denoising_strength"] = 0;
            foreach (var unit in copy["alwayson_scripts"]!["controlnet"]!["args"]!.AsArray())
            {
                unit!["weight"] = 0;
            }

            return copy.ToJsonString();
        }).Distinct().ToArray();
        Assert.Single(normalised);

        // A start and an end per cell, and each cell's steps as they progressed.
        Assert.Equal(8, events.Count(e => e.Step is null));
        Assert.All(Enumerable.Range(0, 4), cell => Assert.Contains(events, e => e.Cell.Index == cell && e.Step?.Step == "inpaint"));

        var saved = await SweepManifest.LoadAsync(harness.Folder);
        Assert.All(saved.Cells, c => Assert.Equal(CellStatus.Succeeded, c.Status));
        Assert.Empty(Directory.GetFiles(harness.Folder, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Rerun_SkipsFinishedCells_RedoesMissingOnes_ResumesHalfDoneOnes()
    {
        using var harness = new SweepHarness();
        var manifest = SweepManifest.Create(SweepHarness.Definition(Weight, Denoise));
        var first = await harness.Runner().RunAsync(harness.Folder, manifest);
        Assert.All(first.Cells, c => Assert.True(c.Status == CellStatus.Succeeded, $"cell {c.Index}: {c.Status} {c.Error}"));
        Assert.Equal(4, harness.Img2ImgCount());

        // As if interrupted: cell 1's run folder never got written, cell 2's run stopped before its inpaint step, and
        // cell 3 finished its run but the sweep died before recording it.
        var saved = await SweepManifest.LoadAsync(harness.Folder);
        Directory.Delete(Path.Combine(harness.Folder, saved.Cells[1].Folder), recursive: true);
        saved.Cells[1].Status = CellStatus.Running;
        var cell2 = new RunFolder(Path.Combine(harness.Folder, saved.Cells[2].Folder));
        var run2 = await cell2.LoadManifestAsync(CancellationToken.None);
        run2.Steps.RemoveAll(s => s.Name == "inpaint");
        run2.Cancel();
        run2.Final = null;
        await cell2.SaveManifestAsync(run2, CancellationToken.None);
        saved.Cells[2].Status = CellStatus.Running;
        saved.Cells[3].Status = CellStatus.Running;
        await saved.SaveAsync(harness.Folder);

        var events = new List<string>();
        var again = await harness.Runner().RunAsync(harness.Folder, await SweepManifest.LoadAsync(harness.Folder), new SyncProgress(e => events.Add($"{e.Cell.Index} {e.What}")));

        Assert.All(again.Cells, c => Assert.Equal(CellStatus.Succeeded, c.Status));
        Assert.Equal(6, harness.Img2ImgCount()); // cells 1 and 2 generated again; 0 and 3 did not
        Assert.Contains("0 skipped (finished earlier)", events);
        Assert.DoesNotContain(events, e => e.StartsWith("3 skipped", StringComparison.Ordinal));
        Assert.Equal(RunStatus.Succeeded, (await cell2.LoadManifestAsync(CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Cancelled_KeepsFinishedCells_RunningOnesGoBackToPending_AndARerunFinishes()
    {
        using var harness = new SweepHarness();
        var manifest = SweepManifest.Create(SweepHarness.Definition(new SweepAxis("inpaint.denoising_strength", ["0.3", "0.4", "0.5"])));
        using var stop = new CancellationTokenSource();

        // Ctrl+C as the second cell starts.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => harness.Runner().RunAsync(
            harness.Folder, manifest, new SyncProgress(e => { if (e.Cell.Index == 1 && e.What == "started") { stop.Cancel(); } }), stop.Token));

        var saved = await SweepManifest.LoadAsync(harness.Folder);
        Assert.Equal([CellStatus.Succeeded, CellStatus.Pending, CellStatus.Pending], saved.Cells.Select(c => c.Status));
        Assert.Equal(1, harness.Img2ImgCount());

        var done = await harness.Runner().RunAsync(harness.Folder, saved);

        Assert.All(done.Cells, c => Assert.Equal(CellStatus.Succeeded, c.Status));
        Assert.Equal(3, harness.Img2ImgCount());
    }

    [Fact]
    public async Task SeveralBoxes_ShareTheCells_OneInFlightEach()
    {
        using var harness = new SweepHarness(boxes: 2);
        var manifest = SweepManifest.Create(SweepHarness.Definition(Weight, Denoise));

        var done = await harness.Runner().RunAsync(harness.Folder, manifest);

        Assert.All(done.Cells, c => Assert.Equal(CellStatus.Succeeded, c.Status));
        Assert.Equal(4, harness.Img2ImgCount(0) + harness.Img2ImgCount(1));
        Assert.True(harness.Img2ImgCount(0) >= 1 && harness.Img2ImgCount(1) >= 1, $"box 0 ran {harness.Img2ImgCount(0)}, box 1 ran {harness.Img2ImgCount(1)}");
        Assert.Equal(["box0", "box1"], done.Cells.Select(c => c.Box!).Distinct().Order());
        Assert.Equal(["box0", "box1"], (await SweepManifest.LoadAsync(harness.Folder)).Boxes);
    }

    [Fact]
    public async Task A_failing_box_is_quarantined_by_the_fleet_and_every_cell_finishes_on_the_other()
    {
        using var harness = new SweepHarness(boxes: 2, fleet: o => o.QuarantineAfterFailures = 1);
        harness.Servers[0].AddFault(new Miaoya.MockWebUi.MockFault("/sdapi/v1/img2img") { Kind = Miaoya.MockWebUi.MockFaultKind.DropConnection });
        var manifest = SweepManifest.Create(SweepHarness.Definition(Weight, Denoise));

        var done = await harness.Runner().RunAsync(harness.Folder, manifest);

        Assert.All(done.Cells, c => Assert.Equal(CellStatus.Succeeded, c.Status));
        Assert.All(done.Cells, c => Assert.Equal("box1", c.Box));
        Assert.Equal(4, harness.Servers[1].CompletedJobs("img2img"));
        var box0 = harness.Fleet.Status().Single(b => b.Name == "box0");
        Assert.True(box0.Failures >= 1, "the dropped calls are counted against box0");
    }

    [Fact]
    public async Task MissingLora_StopsTheSweep_AndRecordsWhy()
    {
        using var harness = new SweepHarness();
        var manifest = SweepManifest.Create(SweepHarness.Definition(Weight) with { Lora = "nobody_face" });

        var e = await Assert.ThrowsAsync<PipelineException>(() => harness.Runner().RunAsync(harness.Folder, manifest));

        Assert.Equal("preflight", e.Step);
        var saved = await SweepManifest.LoadAsync(harness.Folder);
        Assert.Contains(saved.Cells, c => c.Status == CellStatus.Failed && c.Error!.Contains("nobody_face", StringComparison.Ordinal));
        Assert.Equal(0, harness.Img2ImgCount());
    }

    [Fact]
    public async Task LoadAsync_NotASweepFolder_NamesThePath()
    {
        using var harness = new SweepHarness(boxes: 0);

        var e = await Assert.ThrowsAsync<SweepException>(() => SweepManifest.LoadAsync(harness.Folder));
        await File.WriteAllTextAsync(Path.Combine(harness.Folder, "sweep.json"), "{ nope");
        var corrupt = await Assert.ThrowsAsync<SweepException>(() => SweepManifest.LoadAsync(harness.Folder));

        Assert.Equal($"{Path.Combine(harness.Folder, "sweep.json")}: no sweep manifest; is this a folder written by 'miaoya sweep'?", e.Message);
        Assert.StartsWith($"{Path.Combine(harness.Folder, "sweep.json")}: not a valid sweep manifest", corrupt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SameAs_ComparesTheGrid()
    {
        var a = SweepHarness.Definition(Weight, Denoise);

        Assert.True(a.SameAs(SweepHarness.Definition(Weight, Denoise)));
        Assert.False(a.SameAs(SweepHarness.Definition(Weight)));
        Assert.False(a.SameAs(a with { Seed = 1 }));
        Assert.False(a.SameAs(SweepHarness.Definition(Weight, new SweepAxis(Denoise.Path, ["0.4"]))));
    }

    [Fact]
    public async Task CheckRecipeUnchanged_AnEditedRecipeFile_IsAnError()
    {
        using var harness = new SweepHarness(boxes: 0);
        var file = Path.Combine(harness.Folder, "mine.yaml");
        await File.WriteAllTextAsync(file, Miaoya.Recipes.RecipeLoader.ReadBuiltIn("v1-face"));
        var definition = SweepHarness.Definition(Weight) with { Recipe = file, RecipeSha256 = SweepDefinition.HashRecipe(file) };
        definition.CheckRecipeUnchanged();
        Assert.Equal(SweepDefinition.HashRecipe("v1-face"), definition.RecipeSha256);

        await File.AppendAllTextAsync(file, "# tuned\n");

        var e = Assert.Throws<SweepException>(definition.CheckRecipeUnchanged);
        Assert.Equal($"{file} changed since the sweep started; finished cells used the old recipe. Start a new sweep (another --out).", e.Message);
        Assert.False(definition.SameAs(definition with { RecipeSha256 = SweepDefinition.HashRecipe(file) }));
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool and arrive late).</summary>
    private sealed class SyncProgress(Action<SweepEvent> report) : IProgress<SweepEvent>
    {
        private readonly Lock _lock = new();

        public void Report(SweepEvent value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
