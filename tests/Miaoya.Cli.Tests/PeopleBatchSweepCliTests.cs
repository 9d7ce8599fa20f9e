using System.Text.Json.Nodes;
using Miaoya.Jobs;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Tests;

/// <summary>Several people in one template through <c>miaoya batch</c> (an identity's <c>people</c>) and <c>miaoya sweep --person</c>, against the mock WebUI.</summary>
[Collection(ConsoleTests.Name)]
public sealed class PeopleBatchSweepCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-people-batch-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The shipped two-face template (templates/astronaut-duo.png).</summary>
    private static string Duo => Path.Combine(AppContext.BaseDirectory, "Templates", "astronaut-duo.png");

    private static IEnumerable<string> Prompts(MockWebUiServer box) => box.WireMock.LogEntries
        .Where(e => e.RequestMessage!.Path == "/sdapi/v1/img2img")
        .Select(e => System.Text.Json.JsonDocument.Parse(e.RequestMessage!.Body!).RootElement.GetProperty("prompt").GetString()!);

    private async Task<string> WriteBatchAsync(string yaml)
    {
        var path = Path.Combine(_folder, "jobs.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }

    [Fact]
    public async Task Batch_AnIdentityWithPeople_RendersEachFaceWithItsPersonsLora_AndTheJobRecordsThePeople()
    {
        // Arrange
        using var box = MockWebUiServer.Start();
        var jobs = await WriteBatchAsync($"""
            templates: ["{Duo}"]
            identities:
              - name: pair
                people:
                  - {"{"}face_index: 1, lora: add_detail:0.6{"}"}
                  - {"{"}face_index: 0, lora: miaoya_demo_face:0.9{"}"}
            recipes: [v1-face]
            seed: 4
            boxes: ["{box.Url}"]
            """);
        var output = Path.Combine(_folder, "out");

        // Act
        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);

        // Assert
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("Total: 1 jobs: 1 succeeded", stdout, StringComparison.Ordinal);
        await using (var store = await JobStore.OpenAsync(Path.Combine(output, "jobs.db")))
        {
            var job = Assert.Single(await store.ListJobsAsync());
            var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(job.OutputFolder, "manifest.json")))!;
            var people = manifest["inputs"]!["people"]!.AsArray();
            Assert.Equal([0, 1], people.Select(p => p!["face_index"]!.GetValue<int>()));
            Assert.Equal(["miaoya_demo_face:0.9", "add_detail:0.6"], people.Select(p => p!["lora"]!.GetValue<string>()));
            Assert.True(File.Exists(Path.Combine(job.OutputFolder, "inpaint-face-1.png")));
            Assert.Contains("\"people\":[{\"face_index\":0", job.InputsJson, StringComparison.Ordinal);
        }

        var prompts = Prompts(box).ToArray();
        Assert.Equal(2, prompts.Length);
        Assert.Single(prompts, p => p.Contains("<lora:miaoya_demo_face:0.9>", StringComparison.Ordinal) && !p.Contains("add_detail", StringComparison.Ordinal));
        Assert.Single(prompts, p => p.Contains("<lora:add_detail:0.6>", StringComparison.Ordinal) && !p.Contains("miaoya_demo_face", StringComparison.Ordinal));

        // The same batch again finds its job: the people are part of the entry's id.
        (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("1 already in the store, 0 queued now", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_PeopleWithTriggerWords_EachFacesPromptCarriesOnlyThatPersonsWords_AndTheWordsArePartOfTheJobId()
    {
        // Arrange: one person's trigger as a list, the other's as words.
        using var box = MockWebUiServer.Start();
        string Batch(string anna) => $"""
            templates: ["{Duo}"]
            identities:
              - name: pair
                people:
                  - {"{"}face_index: 1, lora: add_detail:0.6, trigger: [ben_mya, man]{"}"}
                  - {"{"}face_index: 0, lora: miaoya_demo_face:0.9, trigger: {anna}{"}"}
            recipes: [v1-face]
            seed: 4
            boxes: ["{box.Url}"]
            """;
        var jobs = await WriteBatchAsync(Batch("anna_mya"));
        var output = Path.Combine(_folder, "out");

        // Act
        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);

        // Assert: each face's inpaint prompt has its person's LoRA and words and not the other's; the manifest records them.
        Assert.True(code == 0, stdout + stderr);
        var prompts = Prompts(box).ToArray();
        Assert.Equal(2, prompts.Length);
        Assert.Single(prompts, p => p.Contains("<lora:miaoya_demo_face:0.9>, anna_mya", StringComparison.Ordinal) && !p.Contains("ben_mya", StringComparison.Ordinal));
        Assert.Single(prompts, p => p.Contains("<lora:add_detail:0.6>, ben_mya, man", StringComparison.Ordinal) && !p.Contains("anna_mya", StringComparison.Ordinal));
        await using (var store = await JobStore.OpenAsync(Path.Combine(output, "jobs.db")))
        {
            var job = Assert.Single(await store.ListJobsAsync());
            var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(job.OutputFolder, "manifest.json")))!;
            Assert.Equal([["anna_mya"], ["ben_mya", "man"]], manifest["inputs"]!["people"]!.AsArray().Select(p => p!["trigger"]!.AsArray().Select(w => w!.GetValue<string>()).ToArray()));
        }

        // The same batch finds its job; another trigger word is another job.
        (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("1 already in the store, 0 queued now", stdout, StringComparison.Ordinal);
        await File.WriteAllTextAsync(jobs, Batch("anna_mya2"));
        (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("(1 template × 1 identity × 1 recipe), 1 queued now", stdout, StringComparison.Ordinal);
        Assert.Contains(Prompts(box), p => p.Contains("<lora:miaoya_demo_face:0.9>, anna_mya2", StringComparison.Ordinal));
        await using (var store = await JobStore.OpenAsync(Path.Combine(output, "jobs.db")))
        {
            Assert.Equal(2, (await store.ListJobsAsync()).Count);
        }
    }

    [Fact]
    public async Task Batch_BadPeople_AreExit2_NamingTheFieldOrTheEntry_BeforeAnythingIsQueued()
    {
        // Arrange: problems of the file itself, and one only the template shows (no face 2 on a two-face template).
        using var box = MockWebUiServer.Start();
        var jobs = await WriteBatchAsync($"""
            templates: ["{Duo}"]
            identities:
              - name: twice
                people:
                  - {"{"}face_index: 0, lora: miaoya_demo_face{"}"}
                  - {"{"}face_index: 0, lora: add_detail{"}"}
              - name: mixed
                lora: add_detail
                people: [{"{"}face_index: 0, lora: miaoya_demo_face{"}"}]
              - name: nolora
                people: [{"{"}face_index: 0{"}"}]
              - name: notanumber
                people: [{"{"}face_index: left, lora: miaoya_demo_face{"}"}]
              - name: triggernolora
                people: [{"{"}face_index: 0, face: me.png, trigger: anna_mya{"}"}]
              - name: triggersyntax
                people: [{"{"}face_index: 0, lora: miaoya_demo_face, trigger: [anna_mya, "(anna:1.5)"]{"}"}]
            recipes: [v1-face]
            boxes: ["{box.Url}"]
            """);
        var output = Path.Combine(_folder, "out");

        // Act
        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);

        // Assert
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains("jobs.yaml: identities[0].people[1].face_index: people[0] already takes face 0", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: identities[1].people: an identity with people gives each person their own lora, trigger and face", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: identities[2].people[0]: the person has neither a lora nor a face photo", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: identities[3].people[0].face_index: \"left\" is not a face index", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: identities[4].people[0].trigger: trigger words but no lora", stderr, StringComparison.Ordinal);
        Assert.Contains("jobs.yaml: identities[5].people[0].trigger: '(anna:1.5)': '(' is prompt syntax", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(output, "jobs.db")));

        // A face the template does not have: found when the entries are checked, before any is queued.
        jobs = await WriteBatchAsync($"""
            templates: ["{Duo}"]
            identities:
              - name: three
                people:
                  - {"{"}face_index: 0, lora: miaoya_demo_face{"}"}
                  - {"{"}face_index: 2, lora: add_detail{"}"}
            recipes: [v1-face]
            boxes: ["{box.Url}"]
            """);
        (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains("astronaut-duo.png × three × v1-face: people[1].face_index: astronaut-duo.png: face_index 2 asked for, but 2 faces were found", stderr, StringComparison.Ordinal);
        await using (var store = await JobStore.OpenAsync(Path.Combine(output, "jobs.db")))
        {
            Assert.Empty(await store.ListJobsAsync());
        }

        Assert.Empty(Prompts(box));
    }

    [Fact]
    public async Task Sweep_WithPeople_EveryCellRendersEachFaceWithItsPersonsTrigger_AndResumeSkipsThem()
    {
        // Arrange
        using var box = MockWebUiServer.Start();
        var sweep = Path.Combine(_folder, "sweep");

        // Act
        var (code, output, error) = await CliRunner.RunAsync(
            "sweep", "v1-face", "--template", Duo, "--person", "0=miaoya_demo_face:0.9", "--person", "1=add_detail:0.6",
            "--person-trigger", "1=ben_mya", "--person-trigger", "1=man", "--vary", "inpaint.denoising_strength=0.4,0.6", "--seed", "3", "--webui", box.Url.ToString(), "--out", sweep);

        // Assert: two cells, one inpaint per face in each.
        Assert.True(code == 0, error + output);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sweep, "sweep.json")))!;
        Assert.Equal(["miaoya_demo_face:0.9", "add_detail:0.6"], manifest["definition"]!["people"]!.AsArray().Select(p => p!["lora"]!.GetValue<string>()));
        Assert.Null(manifest["definition"]!["people"]![0]!["trigger"]);
        Assert.Equal(["ben_mya", "man"], manifest["definition"]!["people"]![1]!["trigger"]!.AsArray().Select(w => w!.GetValue<string>()));
        var cells = manifest["cells"]!.AsArray();
        Assert.Equal(2, cells.Count);
        foreach (var cell in cells)
        {
            Assert.Equal("succeeded", cell!["status"]!.GetValue<string>());
            var run = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sweep, cell["folder"]!.GetValue<string>(), "manifest.json")))!;
            Assert.Equal([0, 1], run["inputs"]!["people"]!.AsArray().Select(p => p!["face_index"]!.GetValue<int>()));
        }

        var prompts = Prompts(box).ToArray();
        Assert.Equal(4, prompts.Length);
        Assert.Equal(2, prompts.Count(p => p.Contains("<lora:add_detail:0.6>, ben_mya, man", StringComparison.Ordinal) && !p.Contains("miaoya_demo_face", StringComparison.Ordinal)));
        Assert.Equal(2, prompts.Count(p => p.Contains("<lora:miaoya_demo_face:0.9>", StringComparison.Ordinal) && !p.Contains("ben_mya", StringComparison.Ordinal)));
        Assert.True(File.Exists(Path.Combine(sweep, "contact-sheet.png")));

        (code, output, error) = await CliRunner.RunAsync("sweep", "--resume", sweep, "--webui", box.Url.ToString());
        Assert.True(code == 0, error + output);
        Assert.Equal(4, Prompts(box).Count());
    }

    [Theory]
    [InlineData("index", "--person 2 asked for, but 2 faces were found")]
    [InlineData("with-lora", "--lora and --face are for a one-person run")]
    [InlineData("twice", "--person 0: two people are given for face 0")]
    [InlineData("trigger-without-lora", "trigger words are given but no LoRA")]
    public async Task Sweep_BadPeople_AreExit2_BeforeTheSweepFolderIsWritten(string what, string expected)
    {
        using var box = MockWebUiServer.Start();
        var sweep = Path.Combine(_folder, what);
        string[] people = what switch
        {
            "index" => ["--person", "0=miaoya_demo_face", "--person", "2=add_detail"],
            "with-lora" => ["--person", "0=miaoya_demo_face", "--lora", "add_detail"],
            "trigger-without-lora" => ["--person", "0=miaoya_demo_face", "--person-face", $"1={Duo}", "--person-trigger", "1=ben_mya"],
            _ => ["--person", "0=miaoya_demo_face", "--person", "0=add_detail"],
        };

        var (code, _, error) = await CliRunner.RunAsync(
            ["sweep", "v1-face", "--template", Duo, .. people, "--vary", "inpaint.denoising_strength=0.4,0.6", "--webui", box.Url.ToString(), "--out", sweep]);

        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(sweep));
        Assert.Empty(Prompts(box));
    }
}
