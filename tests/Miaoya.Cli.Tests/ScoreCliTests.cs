using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya score</c> with the SFace stand-in (not SFace): text and JSON output, exit codes, bad input named.</summary>
[Collection(ConsoleTests.Name)]
public sealed class ScoreCliTests : IDisposable
{
    private static readonly string Model = Path.Combine(AppContext.BaseDirectory, "StandInModels", "face_recognition_sface_2021dec.onnx");
    private static readonly string Astronaut = Fixture("astronaut.png");
    private static readonly string Camera = Fixture("camera.png");
    private static readonly string Coffee = Fixture("coffee.png");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-score-" + Guid.NewGuid().ToString("N"));

    public ScoreCliTests()
    {
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "LikenessFixtures", name);

    /// <summary>The astronaut changed by <paramref name="change"/>, saved as PNG in the test folder.</summary>
    private async Task<string> VariantAsync(string name, Action<IImageProcessingContext> change)
    {
        var path = Path.Combine(_folder, name);
        using var image = await Image.LoadAsync<Rgb24>(Astronaut);
        image.Mutate(change);
        await image.SaveAsPngAsync(path);
        return path;
    }

    [Fact]
    public async Task Score_Text_ShowsBaselineAndVerdicts_Exit1WhenOneFails()
    {
        var brighter = await VariantAsync("brighter.png", c => c.Brightness(1.15f));

        var (code, stdout, stderr) = await CliRunner.RunAsync("score", "--face", Astronaut, "--face", brighter, "--model", Model, Astronaut, Camera, Coffee);

        Assert.True(code == 1, stderr);
        Assert.Contains("Scorer  SFace face_recognition_sface_2021dec.onnx (Apache-2.0", stdout, StringComparison.Ordinal);
        Assert.Contains("Person  2 photos, baseline 0.99", stdout, StringComparison.Ordinal);
        Assert.Contains("Gate    similarity ≥ 0.40, ratio ≥ 0.8", stdout, StringComparison.Ordinal);
        var lines = stdout.Split('\n');
        Assert.Matches(@"astronaut\.png +1\.000 +0\.99\d +1\.0\d +pass\r?$", lines.Single(l => l.StartsWith(Astronaut, StringComparison.Ordinal)));
        // The cameraman is someone else: about 0.2 with the stand-in scorer (0.19 since detection sees a 256 px copy).
        Assert.Matches(@"camera\.png +0\.[12]\d\d +0\.99\d +0\.[12]\d +FAIL  similarity 0\.[12]\d < min_similarity 0\.40; ratio 0\.[12]\d < min_ratio 0\.8\r?$", lines.Single(l => l.StartsWith(Camera, StringComparison.Ordinal)));
        Assert.Matches(@"coffee\.png +- +0\.99\d +- +FAIL  no face found\r?$", lines.Single(l => l.StartsWith(Coffee, StringComparison.Ordinal)));
        Assert.Contains("1 of 3 passed.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_AllPass_Exit0_AndOnePhotoSkipsTheRatio()
    {
        var shifted = await VariantAsync("shifted.png", c => c.Crop(new Rectangle(20, 10, 480, 480)));

        var (code, stdout, stderr) = await CliRunner.RunAsync("score", "--face", Astronaut, "--models", Path.GetDirectoryName(Model)!, shifted);

        Assert.True(code == 0, stderr);
        Assert.Contains("no baseline: give two or more --face photos", stdout, StringComparison.Ordinal);
        Assert.Contains("pass  ratio not checked: no baseline", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_Json_IsOneDocumentWithNumbers()
    {
        var brighter = await VariantAsync("brighter.png", c => c.Brightness(1.15f));

        var (code, stdout, stderr) = await CliRunner.RunAsync("score", "--json", "--face", Astronaut, "--face", brighter, "--model", Model, "--min-ratio", "0.5", Astronaut, Coffee);

        Assert.True(code == 1, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("sface", root.GetProperty("scorer").GetProperty("kind").GetString());
        Assert.False(root.GetProperty("scorer").GetProperty("nonCommercial").GetBoolean());
        Assert.Equal(0.5, root.GetProperty("gate").GetProperty("minRatio").GetDouble());
        var person = root.GetProperty("person");
        Assert.Equal(2, person.GetProperty("photos").GetArrayLength());
        Assert.Equal(JsonValueKind.Number, person.GetProperty("photos")[0].GetProperty("leaveOneOut").ValueKind);
        var baseline = person.GetProperty("baseline").GetDouble();
        var first = root.GetProperty("images")[0];
        Assert.Equal(1, first.GetProperty("facesFound").GetInt32());
        Assert.Equal(JsonValueKind.Number, first.GetProperty("face").GetProperty("width").ValueKind);
        Assert.Equal(first.GetProperty("similarity").GetDouble() / baseline, first.GetProperty("ratio").GetDouble(), 4);
        Assert.True(first.GetProperty("passed").GetBoolean());
        Assert.Equal(0, first.GetProperty("reasons").GetArrayLength());
        Assert.True(first.GetProperty("inferenceMs").GetDouble() > 0);
        var second = root.GetProperty("images")[1];
        Assert.Equal(0, second.GetProperty("facesFound").GetInt32());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("similarity").ValueKind);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("face").ValueKind);
        Assert.Equal("no face found", second.GetProperty("reasons")[0].GetString());
        Assert.False(root.GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task Score_FacePhotoWithoutAFace_IsBadInput_NamingIt()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("score", "--face", Astronaut, "--face", Coffee, "--model", Model, Astronaut);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains($"error: --face {Coffee}: no face found", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_FacePhotoWithTwoFaces_IsBadInput_NamingIt()
    {
        var pair = Path.Combine(_folder, "pair.png");
        using (var face = await Image.LoadAsync<Rgb24>(Astronaut))
        {
            face.Mutate(c => c.Crop(new Rectangle(97, 10, 260, 260)));
            using var canvas = new Image<Rgb24>(560, 260, new Rgb24(128, 128, 128));
            canvas.Mutate(c => c.DrawImage(face, new Point(0, 0), 1f).DrawImage(face, new Point(300, 0), 1f));
            await canvas.SaveAsPngAsync(pair);
        }

        var (code, _, stderr) = await CliRunner.RunAsync("score", "--face", pair, "--model", Model, Astronaut);

        Assert.Equal(2, code);
        Assert.Contains($"error: --face {pair}: 2 faces found", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_MissingImage_IsBadInput()
    {
        var missing = Path.Combine(_folder, "missing.png");

        var (code, stdout, stderr) = await CliRunner.RunAsync("score", "--face", Astronaut, "--model", Model, Astronaut, missing);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains($"error: IMAGE {missing}:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_UnknownOption_IsBadInput()
    {
        var (code, _, _) = await CliRunner.RunAsync("score", "--face", Astronaut, "--model", Model, "--bogus", Astronaut);

        Assert.Equal(2, code);
    }

    [Fact]
    public async Task Score_WithoutAModel_SaysWhereToGetSFace()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("score", "--face", Astronaut, Astronaut);
        var (emptyCode, _, emptyError) = await CliRunner.RunAsync("score", "--face", Astronaut, "--models", _folder, Astronaut);

        Assert.Equal(2, code);
        Assert.Contains("give --models DIR (a folder with face_recognition_sface_2021dec.onnx) or --model FILE", stderr, StringComparison.Ordinal);
        Assert.Contains("https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface", stderr, StringComparison.Ordinal);
        Assert.Equal(2, emptyCode);
        Assert.Contains($"no face_recognition_sface_2021dec.onnx there", emptyError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_WrongModel_IsBadInput_WithBothSignatures()
    {
        var wrong = Path.Combine(AppContext.BaseDirectory, "StandInModels", "not_a_scorer_64d.onnx");

        var (code, _, stderr) = await CliRunner.RunAsync("score", "--face", Astronaut, "--model", wrong, Astronaut);

        Assert.Equal(2, code);
        Assert.Contains("error: not_a_scorer_64d.onnx is not face_recognition_sface_2021dec.onnx", stderr, StringComparison.Ordinal);
        Assert.Contains("'fc1' [1,64]", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_ArcFace_PrintsTheNotice_AndIsRefusedWhenInsightfaceIsDisabled()
    {
        var models = Path.GetDirectoryName(Model)!;
        var (code, stdout, stderr) = await CliRunner.RunAsync("score", "--scorer", "arcface", "--face", Astronaut, "--models", models, Astronaut);
        Environment.SetEnvironmentVariable("MIAOYA_DISABLE_INSIGHTFACE", "1");
        try
        {
            var (refused, _, refusedError) = await CliRunner.RunAsync("score", "--scorer", "arcface", "--face", Astronaut, "--models", models, Astronaut);

            Assert.Equal(2, refused);
            Assert.Contains("--scorer arcface is disabled on this deployment (MIAOYA_DISABLE_INSIGHTFACE)", refusedError, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MIAOYA_DISABLE_INSIGHTFACE", null);
        }

        Assert.True(code == 0, stderr);
        Assert.Contains("non-commercial", stderr, StringComparison.Ordinal);
        Assert.Contains("Scorer  ArcFace w600k_r50.onnx", stdout, StringComparison.Ordinal);
    }
}
