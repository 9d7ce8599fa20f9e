using System.Text.Json;
using Miaoya.Jobs;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya batch</c> in-process: a batch on two boxes, the same batch again, bad input, a failing job.</summary>
[Collection(ConsoleTests.Name)]
public sealed class BatchCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-batch-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task WriteTemplateAsync(string name)
    {
        Directory.CreateDirectory(Path.Combine(_folder, "templates"));
        await using var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!;
        await using var file = File.Create(Path.Combine(_folder, "templates", name));
        await stream.CopyToAsync(file);
    }

    private async Task<string> WriteBatchAsync(string yaml)
    {
        var path = Path.Combine(_folder, "jobs.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }

    [Fact]
    public async Task Batch_EntriesThatCannotRun_AreAllListedBeforeAnythingIsQueued()
    {
        // A template without a face and a LoRA no box lists used to be queued and fail one by one after box calls.
        using var box = MockWebUiServer.Start();
        await WriteTemplateAsync("a.png");
        using (var sky = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(256, 256, new SixLabors.ImageSharp.PixelFormats.Rgb24(90, 140, 220)))
        {
            await SixLabors.ImageSharp.ImageExtensions.SaveAsPngAsync(sky, Path.Combine(_folder, "templates", "sky.png"));
        }

        var jobs = await WriteBatchAsync($"""
            templates: ["templates/*.png"]
            identities:
              - name: anna
                lora: miaoya_demo_face:0.9
              - name: ghost
                lora: nobody_has_this
            recipes: [v1-face]
            boxes: ["{box.Url}"]
            """);
        var output = Path.Combine(_folder, "out");

        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);

        Assert.True(code == 2, stdout + stderr);
        Assert.Contains("3 entries of jobs.yaml cannot run:", stderr, StringComparison.Ordinal);
        Assert.Contains("a.png × ghost × v1-face: lora: LoRA \"nobody_has_this\" is on none of the boxes", stderr, StringComparison.Ordinal);
        Assert.Contains("sky.png × anna × v1-face: template: sky.png: no face found", stderr, StringComparison.Ordinal);
        Assert.Contains("sky.png × ghost × v1-face: lora:", stderr, StringComparison.Ordinal);
        await using var store = await JobStore.OpenAsync(Path.Combine(output, "jobs.db"));
        Assert.Empty(await store.ListJobsAsync());
        Assert.DoesNotContain(box.WireMock.LogEntries, e => e.RequestMessage?.Path is "/tagger/v1/interrogate" or "/sdapi/v1/img2img");
    }

    [Fact]
    public async Task Batch_AnIdentityWithAListOfFacePhotosAndNoLora_RunsV4FaceId_BestOfTwo()
    {
        // Arrange: a box with four unit slots, two photos of the person (the fixture and a mirrored copy), no LoRA.
        using var box = MockWebUiServer.Start(new MockWebUiOptions { ControlNetUnitCount = 4 });
        await WriteTemplateAsync("a.png");
        var faces = Path.Combine(_folder, "faces");
        Directory.CreateDirectory(faces);
        var astronaut = Path.Combine(AppContext.BaseDirectory, "LikenessFixtures", "astronaut.png");
        File.Copy(astronaut, Path.Combine(faces, "one.png"));
        using (var photo = await SixLabors.ImageSharp.Image.LoadAsync<SixLabors.ImageSharp.PixelFormats.Rgb24>(astronaut))
        {
            SixLabors.ImageSharp.Processing.ProcessingExtensions.Mutate(photo, c => SixLabors.ImageSharp.Processing.FlipExtensions.Flip(c, SixLabors.ImageSharp.Processing.FlipMode.Horizontal));
            await SixLabors.ImageSharp.ImageExtensions.SaveAsPngAsync(photo, Path.Combine(faces, "two.png"));
        }

        var jobs = await WriteBatchAsync($"""
            templates: ["templates/a.png"]
            identities:
              - name: anna
                face: [faces/one.png, faces/two.png]
            recipes:
              - recipe: v4-faceid
                name: best-of-2
                overrides: {"{"}candidates.count: 2, candidates.min_similarity: 0, candidates.min_ratio: 0{"}"}
            boxes: ["{box.Url}"]
            """);
        var output = Path.Combine(_folder, "out");

        // Act
        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output, "--models", Path.Combine(AppContext.BaseDirectory, "StandInModels"));

        // Assert
        Assert.True(code == 0, stdout + stderr);
        var folder = Assert.Single(Directory.GetDirectories(Path.Combine(output, "jobs")));
        Assert.True(File.Exists(Path.Combine(folder, "face.png")));
        Assert.True(File.Exists(Path.Combine(folder, "face-2.png")));
        Assert.True(File.Exists(Path.Combine(folder, "select.png")));
        Assert.Equal(Pixels(Path.Combine(folder, "select.png")), Pixels(Path.Combine(folder, "final.png")));
        Assert.Contains("final.png", await File.ReadAllTextAsync(Path.Combine(output, "index.html")), StringComparison.Ordinal);
    }

    /// <summary>An image's pixels (select.png and final.png are not byte-equal; the pipeline's own test compares pixels too).</summary>
    private static byte[] Pixels(string path)
    {
        using var image = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(path);
        var pixels = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }

    [Fact]
    public async Task Batch_AnIdentityWithoutLora_UsedWithARecipeWithoutAnIdentitySection_IsAProblemOfTheFile()
    {
        await WriteTemplateAsync("a.png");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "LikenessFixtures", "astronaut.png"), Path.Combine(_folder, "me.png"));
        var jobs = await WriteBatchAsync("""
            templates: ["templates/a.png"]
            identities:
              - name: anna
                face: [me.png, missing.png]
            recipes: [v4-faceid, v1-face]
            """);

        var (code, _, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", Path.Combine(_folder, "out"));

        Assert.Equal(2, code);
        Assert.Contains("jobs.yaml: identities[0].lora: missing: recipe v1-face (recipes[1])", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("recipe v4-faceid (recipes[0]) takes the person from their face LoRA", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: identities[0].face[1]: ", stderr, StringComparison.Ordinal);
        Assert.Contains("missing.png: no such file", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_KeepJobs_DeletesOldFinishedJobsOfTheStoreBeforeQueuing()
    {
        using var box = MockWebUiServer.Start();
        await WriteTemplateAsync("a.png");
        var jobs = await WriteBatchAsync($"""
            templates: ["templates/a.png"]
            identities:
              - name: anna
                lora: miaoya_demo_face:0.9
            recipes: [v1-face]
            boxes: ["{box.Url}"]
            """);
        var output = Path.Combine(_folder, "out");
        var oldId = NewJob.NewJobId();
        var oldFolder = Path.Combine(output, "jobs", oldId);
        Directory.CreateDirectory(oldFolder);
        await using (var store = await JobStore.OpenAsync(Path.Combine(output, "jobs.db"), time: new FixedTime(DateTimeOffset.UtcNow - TimeSpan.FromDays(3))))
        {
            await store.CreateJobAsync(new NewJob { Id = oldId, Recipe = "v1-face", InputsJson = "{}", OutputFolder = oldFolder, Steps = ["inpaint"] });
            await store.CancelJobAsync(oldId, "old");
        }

        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output, "--keep-jobs", "2d");

        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("Deleted 1 job that finished more than 48 h ago, with their folders (--keep-jobs)", stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(oldFolder));
        await using var check = await JobStore.OpenAsync(Path.Combine(output, "jobs.db"));
        Assert.Null(await check.GetJobAsync(oldId));
        Assert.Equal(JobState.Succeeded, Assert.Single(await check.ListJobsAsync()).State);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task Batch_TemplatesTimesIdentitiesTimesRecipes_RunOnTwoBoxes_AndTheSameBatchAgainQueuesNothing()
    {
        using var boxA = MockWebUiServer.Start();
        using var boxB = MockWebUiServer.Start();
        var renders = 0;
        void Count(object? sender, System.Collections.Specialized.NotifyCollectionChangedEventArgs e) =>
            Interlocked.Add(ref renders, e.NewItems?.OfType<WireMock.Logging.ILogEntry>().Count(x => x.RequestMessage?.Path == "/sdapi/v1/img2img") ?? 0);
        boxA.WireMock.LogEntriesChanged += Count;
        boxB.WireMock.LogEntriesChanged += Count;
        await WriteTemplateAsync("a.png");
        await WriteTemplateAsync("b.png");
        var jobs = await WriteBatchAsync($"""
            templates: ["templates/*.png"]
            identities:
              - name: anna
                lora: miaoya_demo_face:0.9
                trigger: [anna_mya, woman]
              - name: ben
                lora: miaoya_demo_face
            recipes:
              - v1-face
              - recipe: v2
                name: v2-realistic
                overrides: {"{"}base_model: realisticVisionV60B1_v51VAE, img2img.skip_if_delta_e_below: 0{"}"}
            seed: 42
            boxes: ["{boxA.Url}", "{boxB.Url}"]
            """);
        var output = Path.Combine(_folder, "out");

        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);

        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("8 jobs (2 templates × 2 identities × 2 recipes), 8 queued now; 2 boxes", stdout, StringComparison.Ordinal);
        Assert.Contains("8/8 jobs", stdout, StringComparison.Ordinal);
        Assert.Contains("Total: 8 jobs: 8 succeeded", stdout, StringComparison.Ordinal);
        Assert.Matches(@"b\.png\s+ben\s+v2-realistic\s+succeeded", stdout);
        await using (var store = await JobStore.OpenAsync(Path.Combine(output, "jobs.db")))
        {
            var stored = await store.ListJobsAsync();
            Assert.Equal(8, stored.Count);
            Assert.All(stored, j => Assert.True(File.Exists(Path.Combine(j.OutputFolder, "final.png"))));
            Assert.Equal(4, stored.Count(j => j.InputsJson.Contains("realisticVisionV60B1_v51VAE", StringComparison.Ordinal)));
        }

        using (var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "batch.json"))))
        {
            var entries = record.RootElement.GetProperty("jobs").EnumerateArray().ToList();
            Assert.Equal(8, entries.Count);
            Assert.All(entries, e => Assert.Equal("succeeded", e.GetProperty("state").GetString()));
            Assert.Equal(["a.png", "a.png", "a.png", "a.png", "b.png", "b.png", "b.png", "b.png"], entries.Select(e => Path.GetFileName(e.GetProperty("template").GetString())));
        }

        var calls = Volatile.Read(ref renders);
        Assert.Equal(8 + 4, calls); // v1-face: one inpaint; v2: inpaint and img2img
        (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);

        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("8 already in the store, 0 queued now", stdout, StringComparison.Ordinal);
        Assert.Equal(calls, Volatile.Read(ref renders));

        // --json: the batch as one object and nothing else on standard output.
        (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output, "--json");
        Assert.True(code == 0, stdout + stderr);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(output, json.RootElement.GetProperty("folder").GetString());
            Assert.Equal(0, json.RootElement.GetProperty("exit_code").GetInt32());
            var entries = json.RootElement.GetProperty("jobs").EnumerateArray().ToList();
            Assert.Equal(8, entries.Count);
            Assert.All(entries, e => Assert.Equal(JsonValueKind.Number, e.GetProperty("seconds").ValueKind));
            Assert.All(entries, e => Assert.True(File.Exists(e.GetProperty("final").GetString())));
        }
        await using (var store = await JobStore.OpenAsync(Path.Combine(output, "jobs.db")))
        {
            Assert.Equal(8, (await store.ListJobsAsync()).Count);
        }
    }

    [Fact]
    public async Task Batch_BadFile_ExitsTwo_NamingFileFieldAndEntry_BeforeAnythingRuns()
    {
        var jobs = await WriteBatchAsync("""
            templates: [nothing/*.png]
            identities:
              - name: anna
                lora: miaoya_demo_face
              - name: ben
                trigger: ben_mya
            recipes: [v2, v9]
            seed: soon
            """);

        var (code, _, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", Path.Combine(_folder, "out"));

        Assert.Equal(2, code);
        Assert.Contains("jobs.yaml: identities[1].lora: missing: recipe v2 (recipes[0]) takes the person from their face LoRA", stderr, StringComparison.Ordinal);
        Assert.Contains("such as v4-faceid, take face photos alone) (line 5)", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: templates[0]: \"nothing/*.png\" matches no file", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: recipes[1]: v9", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: seed: expected a whole number", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder, "out")));
    }

    [Fact]
    public async Task Batch_AJobWhoseCheckpointNoBoxHas_Fails_TheOthersSucceed_ExitOne()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("realisticVisionV60B1_v51VAE");
        using var box = MockWebUiServer.Start(options);
        await WriteTemplateAsync("a.png");
        var jobs = await WriteBatchAsync($"""
            templates: [templates/a.png]
            identities: [{"{"}name: anna, lora: miaoya_demo_face{"}"}]
            recipes: [v1-face, {"{"}recipe: v1-face, name: elsewhere, overrides: [base_model=realisticVisionV60B1_v51VAE]{"}"}]
            """);

        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--webui", box.Url.ToString(), "--out", Path.Combine(_folder, "out"));

        Assert.True(code == 1, stdout + stderr);
        Assert.Contains("Total: 2 jobs: 1 succeeded, 1 failed", stdout, StringComparison.Ordinal);
        Assert.Matches(@"failed: #2 a\.png × anna × elsewhere, step inpaint: [\s\S]*checkpoint ""realisticVisionV60B1_v51VAE"" is not on the box", stdout);
    }
}
