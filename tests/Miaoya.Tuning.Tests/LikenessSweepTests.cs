using Miaoya.FaceSwap;
using Miaoya.Likeness;
using Miaoya.MockWebUi;

namespace Miaoya.Tuning.Tests;

/// <summary>Sweeps with face photos: every cell's final image is scored against the person, with the SFace stand-in.</summary>
public sealed class LikenessSweepTests
{
    private static readonly SweepAxis IdentityWeight = new("identity.weight", ["0.2", "0.8"]);

    /// <summary>v4-faceid over <paramref name="axes"/> with two photos of the person (so the scores have a baseline).</summary>
    private static SweepDefinition FaceId(SweepHarness harness, params SweepAxis[] axes) => SweepHarness.Definition(axes) with
    {
        Recipe = "v4-faceid",
        Lora = null,
        Faces = [harness.FacePhoto("a.png"), harness.FacePhoto("b.png", degrees: -3, pad: 90)],
        Scorer = "sface",
        ScorerModel = SweepHarness.ScorerModel,
    };

    private static Task<SweepLikeness> LikenessAsync(IReadOnlyList<string> faces) =>
        SweepLikeness.CreateAsync(faces, SweepHarness.ScorerModel, ScorerKind.SFace, ExecutionDevice.Cpu, null);

    [Fact]
    public async Task FaceIdSweepOverIdentityWeight_ScoresEveryCell_TheHeavierUnitLooksMoreLikeThePerson_RerunKeepsTheScores()
    {
        using var harness = new SweepHarness(mock: new MockWebUiOptions { ControlNetUnitCount = 4 });
        var manifest = SweepManifest.Create(FaceId(harness, IdentityWeight));
        using var likeness = await LikenessAsync(manifest.Definition.Faces);
        var events = new List<string>();

        var done = await harness.Runner(likeness).RunAsync(harness.Folder, manifest, new SyncProgress(e => events.Add(e.What)));

        Assert.All(done.Cells, c => Assert.True(c.Status == CellStatus.Succeeded, $"cell {c.Index}: {c.Error}"));
        var light = done.Cells[0].Likeness!;
        var heavy = done.Cells[1].Likeness!;
        Assert.NotNull(light.Similarity);
        Assert.NotNull(heavy.Similarity);
        Assert.True(heavy.Similarity > light.Similarity + 0.02, $"weight 0.8: {heavy.Similarity}, weight 0.2: {light.Similarity}");
        Assert.NotNull(heavy.Baseline);
        Assert.Equal(light.Baseline, heavy.Baseline);
        Assert.Equal(Math.Round(heavy.Similarity!.Value / heavy.Baseline!.Value, 2), heavy.Ratio!.Value, 2);
        Assert.Contains(events, e => e.StartsWith("succeeded in", StringComparison.Ordinal) && e.Contains(", similarity 0.", StringComparison.Ordinal));

        // The scores are in sweep.json, and a rerun skips the cells and keeps them without rendering again.
        var saved = await SweepManifest.LoadAsync(harness.Folder);
        Assert.Equal([light, heavy], saved.Cells.Select(c => c.Likeness));
        Assert.Equal(manifest.Definition.Faces, saved.Definition.Faces);
        var again = await harness.Runner(likeness).RunAsync(harness.Folder, saved);
        Assert.Equal(2, harness.Img2ImgCount());
        Assert.Equal([light, heavy], again.Cells.Select(c => c.Likeness));
    }

    [Fact]
    public async Task AFinishedCellWithoutAScore_IsScoredWhenSkipped()
    {
        using var harness = new SweepHarness(mock: new MockWebUiOptions { ControlNetUnitCount = 4 });
        var manifest = SweepManifest.Create(FaceId(harness, IdentityWeight));
        var first = await harness.Runner().RunAsync(harness.Folder, manifest);
        Assert.All(first.Cells, c => Assert.True(c.Status == CellStatus.Succeeded && c.Likeness is null, c.Error));

        using var likeness = await LikenessAsync(manifest.Definition.Faces);
        var scored = await harness.Runner(likeness).RunAsync(harness.Folder, await SweepManifest.LoadAsync(harness.Folder));

        Assert.Equal(2, harness.Img2ImgCount());
        Assert.All(scored.Cells, c => Assert.NotNull(c.Likeness?.Similarity));
    }

    [Fact]
    public async Task TwoPhotos_GiveTheBaselineAndRatio()
    {
        using var harness = new SweepHarness(boxes: 0);
        using var likeness = await LikenessAsync([SweepHarness.Astronaut, harness.FacePhoto("a.png")]);

        var score = await likeness.ScoreAsync(SweepHarness.Astronaut);

        Assert.Equal(2, likeness.Photos);
        Assert.NotNull(likeness.Baseline);
        Assert.Equal(Math.Round(likeness.Baseline!.Value, 4), score.Baseline);
        Assert.Equal(Math.Round(score.Similarity!.Value / likeness.Baseline.Value, 4), score.Ratio!.Value, 3);
        Assert.Equal(1, score.FacesFound);
    }

    [Fact]
    public async Task APhotoWithoutAFace_IsRefusedNamingIt()
    {
        var coffee = Path.Combine(AppContext.BaseDirectory, "Fixtures", "coffee.png");

        var e = await Assert.ThrowsAsync<LikenessInputException>(() => LikenessAsync([SweepHarness.Camera, coffee]));

        Assert.Equal(coffee, e.Photo);
        Assert.StartsWith($"{coffee}: no face found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Definition_ReadsAnOldSweepsSingleFace_AndFacesDecideWhetherItIsTheSameSweep()
    {
        var old = System.Text.Json.JsonSerializer.Deserialize<SweepDefinition>(
            """{"recipe": "v3", "template": "/t.png", "lora": "x", "seed": 1, "axes": [], "face": "/me.jpg"}""", SweepManifest.Json)!;

        Assert.Equal(["/me.jpg"], old.Faces);
        Assert.DoesNotContain("\"face\"", System.Text.Json.JsonSerializer.Serialize(old, SweepManifest.Json), StringComparison.Ordinal);
        Assert.True(old.SameAs(old with { Faces = ["/me.jpg"] }));
        Assert.False(old.SameAs(old with { Faces = ["/me.jpg", "/me2.jpg"] }));
        Assert.False(old.SameAs(old with { ScorerModel = "/m.onnx" }));
    }

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
