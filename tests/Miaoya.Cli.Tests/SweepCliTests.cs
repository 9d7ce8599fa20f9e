using System.Text.Json.Nodes;
using Miaoya.MockWebUi;
using Miaoya.TestSupport;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya sweep</c>, <c>miaoya compare</c> and the demo report in a browser, as a user runs them.</summary>
[Collection(ConsoleTests.Name)]
public sealed class SweepCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-sweep-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => CliRunner.RunAsync(args);

    private async Task<string> TemplateAsync()
    {
        var path = Path.Combine(_folder, "astronaut.png");
        await using var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!;
        await using var file = File.Create(path);
        await stream.CopyToAsync(file);
        return path;
    }

    private static int Img2Img(MockWebUiServer server) => server.WireMock.LogEntries.Count(e => e.RequestMessage!.Path == "/sdapi/v1/img2img");

    [Fact]
    public async Task Sweep_WhenNoBoxAnswers_ExitsOneNamingTheBox_InsteadOfWaitingForOne()
    {
        // The cells' calls go through a fleet, which waits for a box to come back; with none up at the start the sweep
        // says so at once.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var template = await TemplateAsync();

        var (code, output, error) = await RunAsync(
            "sweep", "v1-face", "--template", template, "--lora", "miaoya_demo_face", "--vary", "inpaint.denoising_strength=0.4,0.6",
            "--webui", $"http://127.0.0.1:{port}", "--out", Path.Combine(_folder, "down")).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(code == 1, error + output);
        Assert.Contains("no WebUI box answers", error, StringComparison.Ordinal);
        Assert.Contains($"http://127.0.0.1:{port}/", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_OnTwoBoxes_WritesCellsAndContactSheets_RerunSkipsFinishedCells_ThenCompare()
    {
        using var boxA = MockWebUiServer.Start();
        using var boxB = MockWebUiServer.Start();
        var template = await TemplateAsync();
        var sweep = Path.Combine(_folder, "sweep");
        string[] args =
        [
            "sweep", "v1-face", "--template", template, "--lora", "miaoya_demo_face",
            "--vary", "inpaint.controlnet.softedge.weight=0.5,1.0", "--vary", "inpaint.denoising_strength=0.4,0.6",
            "--seed", "42", "--set", "inpaint.steps=20", "--webui", boxA.Url.ToString(), "--webui", boxB.Url.ToString(), "--out", sweep,
        ];

        var (code, output, error) = await RunAsync(args);

        Assert.True(code == 0, error + output);
        Assert.Contains("Sweep of v1-face: 4 cells (2 inpaint.controlnet.softedge.weight × 2 inpaint.denoising_strength), seed 42, on 2 boxes", output, StringComparison.Ordinal);
        Assert.Contains($"Contact sheet: {Path.Combine(sweep, "contact-sheet.html")}", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(sweep, "contact-sheet.png")));
        Assert.Equal(4, Img2Img(boxA) + Img2Img(boxB));

        // Each cell shows a zoom on the face it masked (the template's face box, from the cell's run manifest).
        var sheet = await File.ReadAllTextAsync(Path.Combine(sweep, "contact-sheet.html"));
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Count(sheet, "class=\"face-zoom\""));
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sweep, "sweep.json")))!;
        var cells = manifest["cells"]!.AsArray();
        Assert.Equal(4, cells.Count);
        Assert.All(cells, c => Assert.Equal("succeeded", c!["status"]!.GetValue<string>()));
        foreach (var cell in cells)
        {
            var run = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sweep, cell!["folder"]!.GetValue<string>(), "manifest.json")))!;
            Assert.Equal(42, run["inputs"]!["seed"]!.GetValue<long>());
            Assert.Contains("inpaint.steps=20", run["recipe"]!["overrides"]!.AsArray().Select(o => o!.GetValue<string>()));
        }

        // The same command again: nothing is generated again.
        (code, output, error) = await RunAsync(args);
        Assert.True(code == 0, error + output);
        Assert.Contains("holds this sweep already; finished cells are skipped.", output, StringComparison.Ordinal);
        Assert.Equal(4, output.Split('\n').Count(l => l.Contains("skipped (finished earlier)", StringComparison.Ordinal)));
        Assert.Equal(4, Img2Img(boxA) + Img2Img(boxB));

        // --resume DIR reads everything from sweep.json.
        (code, output, error) = await RunAsync("sweep", "--resume", sweep, "--webui", boxA.Url.ToString());
        Assert.True(code == 0, error + output);
        Assert.Contains($"Resuming {sweep}", output, StringComparison.Ordinal);
        Assert.Equal(4, Img2Img(boxA) + Img2Img(boxB));

        // Compare two cells.
        var first = Path.Combine(sweep, cells[0]!["folder"]!.GetValue<string>());
        var last = Path.Combine(sweep, cells[3]!["folder"]!.GetValue<string>());
        var page = Path.Combine(_folder, "compare");
        (code, output, error) = await RunAsync("compare", first, last, "--out", page);
        Assert.True(code == 0, error + output);
        Assert.Matches(@"recipe: inpaint\.denoising_strength +0\.4 +0\.6", output);
        Assert.Matches(@"recipe: inpaint\.controlnet\.softedge\.weight +0\.5 +1", output);
        Assert.Contains("Step timings:", output, StringComparison.Ordinal);
        Assert.Contains($"Side by side: {Path.Combine(page, "compare.html")}", output, StringComparison.Ordinal);
        var comparePage = await File.ReadAllTextAsync(Path.Combine(page, "compare.html"));
        Assert.Contains("ControlNet map: softedge_pidinet, weight 0.5", comparePage, StringComparison.Ordinal);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(comparePage, "class=\"face-zoom\""));

        (code, output, error) = await RunAsync("compare", first, last, "--out", page, "--json");
        Assert.True(code == 0, error + output);
        var comparison = JsonNode.Parse(output)!;
        Assert.Equal(first, comparison["a"]!.GetValue<string>());
        Assert.Contains(comparison["differences"]!.AsArray(), d => d!["key"]!.GetValue<string>() == "recipe: inpaint.denoising_strength" && d["a"]!.GetValue<string>() == "0.4");
        Assert.All(comparison["timings"]!.AsArray(), t => Assert.Equal(System.Text.Json.JsonValueKind.Number, t!["a_ms"]!.GetValueKind()));
        Assert.Equal(Path.Combine(page, "compare.html"), comparison["page"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sweep_ShowsEachCellsSteps_AndTheSweepsEta_ThenJsonPrintsTheSweepAsOneObjectWithTypedValues()
    {
        using var box = MockWebUiServer.Start();
        var template = await TemplateAsync();
        var sweep = Path.Combine(_folder, "json");
        string[] args =
        [
            "sweep", "v1-face", "--template", template, "--lora", "miaoya_demo_face", "--vary", "inpaint.denoising_strength=0.4,0.6,0.8",
            "--seed", "7", "--set", "inpaint.steps=20", "--webui", box.Url.ToString(), "--out", sweep,
        ];

        var (code, output, error) = await RunAsync(args);

        // Redirected output: a plain line per step of each cell, and the ETA once a cell has finished.
        Assert.True(code == 0, error + output);
        Assert.Matches(@"\[1/3\] inpaint\.denoising_strength=0\.4( on \S+)?: inpaint\r?\n", output);
        Assert.Matches(@"\[\d/3\] inpaint\.denoising_strength=0\.\d on \S+: succeeded in \d+ ms; 2 to go, ETA \d+m\d\ds", output);

        // --json on the finished sweep: nothing but the object on standard output.
        (code, output, error) = await RunAsync([.. args, "--json"]);

        Assert.True(code == 0, error + output);
        var json = JsonNode.Parse(output)!;
        Assert.Equal(sweep, json["folder"]!.GetValue<string>());
        Assert.Equal(7, json["seed"]!.GetValue<long>());
        Assert.Equal(3, json["succeeded"]!.GetValue<int>());
        Assert.Equal(0, json["exit_code"]!.GetValue<int>());
        Assert.Equal([0.4, 0.6, 0.8], json["axes"]![0]!["values"]!.AsArray().Select(v => v!.GetValue<double>()));
        var cell = json["cells"]![1]!;
        Assert.Equal(System.Text.Json.JsonValueKind.Number, cell["values"]!["inpaint.denoising_strength"]!.GetValueKind());
        Assert.Equal("succeeded", cell["status"]!.GetValue<string>());
        Assert.True(File.Exists(cell["final"]!.GetValue<string>()));
        Assert.True(File.Exists(json["contact_sheet"]!["html"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Sweep_BadVary_IsExit2BeforeAnyCall()
    {
        using var box = MockWebUiServer.Start();
        var template = await TemplateAsync();

        var (code, _, error) = await RunAsync("sweep", "v1-face", "--template", template, "--lora", "miaoya_demo_face",
            "--vary", "inpaint.controlnet.softedge.weigth=0.5,1.0", "--vary", "inpaint.denoising_strength=0.4,1.4", "--webui", box.Url.ToString(), "--out", Path.Combine(_folder, "s"));

        Assert.Equal(2, code);
        Assert.Contains("--vary inpaint.controlnet.softedge.weigth: no such field in the recipe; did you mean inpaint.controlnet.softedge.weight?", error, StringComparison.Ordinal);
        Assert.Contains("--vary inpaint.denoising_strength=1.4: ", error, StringComparison.Ordinal);
        Assert.Empty(box.WireMock.LogEntries);
        Assert.False(Directory.Exists(Path.Combine(_folder, "s")));
    }

    [Fact]
    public async Task Sweep_MissingArguments_AndADifferentSweepInTheFolder_AreExit2()
    {
        // Parse errors exit like every other command's (System.CommandLine's code, not 0).
        var (code, _, error) = await RunAsync("sweep", "v1-face");
        Assert.NotEqual(0, code);
        Assert.Contains("--template: required", error, StringComparison.Ordinal);
        Assert.Contains("--vary: required", error, StringComparison.Ordinal);
        Assert.DoesNotContain("--lora: required", error, StringComparison.Ordinal); // said once the recipe is read

        var template = await TemplateAsync();
        var sweep = Path.Combine(_folder, "s");
        Directory.CreateDirectory(sweep);
        await File.WriteAllTextAsync(Path.Combine(sweep, "sweep.json"), """
            {"version": 1, "definition": {"recipe": "v1-face", "template": "/elsewhere.png", "lora": "x", "seed": 1, "axes": [{"path": "inpaint.steps", "values": ["20", "30"]}]}, "cells": []}
            """);
        (code, _, error) = await RunAsync("sweep", "v1-face", "--template", template, "--lora", "miaoya_demo_face", "--vary", "inpaint.steps=20,30", "--out", sweep);
        Assert.Equal(2, code);
        Assert.Contains($"--out: {sweep} holds a different sweep (inpaint.steps=20,30, seed 1)", error, StringComparison.Ordinal);
    }

    /// <summary>A photo of the person: the astronaut, mirrored, padded and tilted a little.</summary>
    private string FacePhoto(string name, float degrees)
    {
        var path = Path.Combine(_folder, name);
        using var photo = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(Path.Combine(AppContext.BaseDirectory, "LikenessFixtures", "astronaut.png"));
        SixLabors.ImageSharp.Processing.ProcessingExtensions.Mutate(photo, c => SixLabors.ImageSharp.Processing.RotateExtensions.Rotate(
            SixLabors.ImageSharp.Processing.PadExtensions.Pad(SixLabors.ImageSharp.Processing.FlipExtensions.Flip(c, SixLabors.ImageSharp.Processing.FlipMode.Horizontal), photo.Width + 60, photo.Height + 60, SixLabors.ImageSharp.Color.Gray), degrees));
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(photo, path);
        return path;
    }

    private static string StandInModels => Path.Combine(AppContext.BaseDirectory, "StandInModels");

    [Fact]
    public async Task Sweep_FaceIdWithFacePhotos_NoLora_ScoresEveryCell_InTheManifestPageAndConsole()
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { ControlNetUnitCount = 4 });
        var template = await TemplateAsync();
        var sweep = Path.Combine(_folder, "faceid");

        var (code, output, error) = await RunAsync(
            "sweep", "v4-faceid", "--template", template, "--face", FacePhoto("a.png", 4), "--face", FacePhoto("b.png", -3), "--models", StandInModels,
            "--vary", "identity.weight=0.2,0.8", "--seed", "42", "--webui", box.Url.ToString(), "--out", sweep);

        Assert.True(code == 0, error + output);
        Assert.Matches(@"Likeness: sface against 2 photos of the person, baseline 0\.\d{3}", output);
        Assert.Equal(2, output.Split('\n').Count(l => l.Contains("succeeded in", StringComparison.Ordinal) && l.Contains(", similarity 0.", StringComparison.Ordinal)));
        var cells = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(sweep, "sweep.json")))!["cells"]!.AsArray();
        var similarity = cells.Select(c => c!["likeness"]!["similarity"]!.GetValue<double>()).ToArray();
        Assert.True(similarity[1] > similarity[0], $"identity.weight 0.8: {similarity[1]}, 0.2: {similarity[0]}");
        Assert.All(cells, c => Assert.NotNull(c!["likeness"]!["ratio"]));
        Assert.All(cells, c => Assert.NotNull(c!["likeness"]!["baseline"]));
        var html = await File.ReadAllTextAsync(Path.Combine(sweep, "contact-sheet.html"));
        Assert.Single(html.Split("<svg class=\"chart\"").Skip(1));
        Assert.Equal(2, html.Split("<circle class=\"cell\"").Length - 1);
    }

    [Fact]
    public async Task Sweep_V3WithItsFacePhoto_WithoutTheScorerModel_RunsUnscored_SayingSo()
    {
        using var box = MockWebUiServer.Start();
        var template = await TemplateAsync();
        var models = Path.Combine(_folder, "insightface");
        Directory.CreateDirectory(models);
        foreach (var file in new[] { "det_10g.onnx", "w600k_r50.onnx", "inswapper_128.onnx" })
        {
            File.Copy(Path.Combine(StandInModels, file), Path.Combine(models, file));
        }

        var (code, _, error) = await RunAsync(
            "sweep", "v3", "--template", template, "--lora", "miaoya_demo_face", "--face", FacePhoto("a.png", 4), "--models", models,
            "--set", "faceswap.detector=blazeface", "--vary", "img2img.denoising_strength=0.2,0.3", "--webui", box.Url.ToString(), "--out", Path.Combine(_folder, "v3"));

        Assert.True(code == 0, error);
        Assert.Contains("note: the cells are not scored for likeness", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_AFacePhotoWithoutAFace_OrNoScorerModel_IsExit2BeforeAnyCall()
    {
        using var box = MockWebUiServer.Start(new MockWebUiOptions { ControlNetUnitCount = 4 });
        var template = await TemplateAsync();
        var coffee = Path.Combine(AppContext.BaseDirectory, "LikenessFixtures", "coffee.png");
        string[] common = ["sweep", "v4-faceid", "--template", template, "--vary", "identity.weight=0.2,0.8", "--webui", box.Url.ToString(), "--out", Path.Combine(_folder, "s")];

        var (code, _, error) = await RunAsync([.. common, "--face", FacePhoto("a.png", 4), "--face", coffee, "--models", StandInModels]);
        Assert.Equal(2, code);
        Assert.Contains($"error: --face {coffee}: no face found", error, StringComparison.Ordinal);

        (code, _, error) = await RunAsync([.. common, "--face", FacePhoto("a.png", 4)]);
        Assert.Equal(2, code);
        Assert.Contains("give --models DIR (a folder with face_recognition_sface_2021dec.onnx) or --model FILE; face_recognition_sface_2021dec.onnx is OpenCV Zoo's SFace (Apache-2.0): https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface", error, StringComparison.Ordinal);

        (code, _, error) = await RunAsync([.. common, "--face", FacePhoto("a.png", 4), "--models", _folder]);
        Assert.Equal(2, code);
        Assert.Contains($"--models {_folder}: no face_recognition_sface_2021dec.onnx there (OpenCV Zoo's SFace (Apache-2.0)", error, StringComparison.Ordinal);

        // An identity recipe without photos, and a LoRA recipe without --lora.
        (code, _, error) = await RunAsync(common);
        Assert.Equal(2, code);
        Assert.Contains("recipe v4-faceid takes the person's identity from face photos: give --face PHOTO", error, StringComparison.Ordinal);
        (code, _, error) = await RunAsync("sweep", "v1-face", "--template", template, "--vary", "inpaint.steps=20,30", "--webui", box.Url.ToString(), "--out", Path.Combine(_folder, "s"));
        Assert.Equal(2, code);
        Assert.Contains("--lora: required for recipe v1-face", error, StringComparison.Ordinal);

        Assert.Empty(box.WireMock.LogEntries);
        Assert.False(Directory.Exists(Path.Combine(_folder, "s")));
    }

    [Fact]
    public async Task Compare_NotARunFolder_IsExit2NamingThePath()
    {
        var missing = Path.Combine(_folder, "missing");

        var (code, _, error) = await RunAsync("compare", _folder, missing);

        Assert.Equal(2, code);
        Assert.Contains($"error: RUN_A: {Path.Combine(_folder, "manifest.json")}: no manifest; is this a run folder written by 'miaoya run'?", error, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task DemoReport_EveryImageLoadsInChromium()
    {
        var (code, _, error) = await RunAsync("demo", "--out", _folder);
        Assert.True(code == 0, error);
        var report = Path.Combine(Assert.Single(Directory.GetDirectories(_folder)), "index.html");

        var check = await HeadlessChromium.CheckPageAsync(report, Path.Combine(AppContext.BaseDirectory, "screenshots", "demo-report.png"));

        check.AssertAllImagesLoaded(atLeast: 12);
        Assert.Equal("Miaoya runs", check.Title);
    }
}
