using Miaoya.MockWebUi;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Cli.Tests;

/// <summary><c>miaoya dataset prepare</c> and <c>miaoya lora train|status|install|pick</c> end to end on the mock WebUI and the fake trainer.</summary>
[Collection(ConsoleTests.Name)]
public sealed class TrainingCliTests : IDisposable
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "StandInModels");
    private static readonly string FakeTrainer = Path.Combine(AppContext.BaseDirectory, "FakeTrainer", "train_network.sh");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-training-cli-" + Guid.NewGuid().ToString("N"));

    public TrainingCliTests()
    {
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Image<Rgba32> Astronaut()
    {
        using var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!;
        return Image.Load<Rgba32>(stream);
    }

    [Fact]
    public async Task PrepareTrainInstallPick_EndToEnd()
    {
        var photos = Path.Combine(_folder, "photos");
        Directory.CreateDirectory(photos);
        using (var a = Astronaut())
        {
            a.SaveAsPng(Path.Combine(photos, "a.png"));
            using var mirrored = a.Clone(c => c.Flip(FlipMode.Horizontal));
            mirrored.SaveAsJpeg(Path.Combine(photos, "b.jpg"));
            using var framed = a.Clone(c => c.Crop(new Rectangle(40, 0, 420, 460)));
            framed.SaveAsJpeg(Path.Combine(photos, "c.jpg"));
            using var blurred = a.Clone(c => c.Crop(new Rectangle(60, 0, 400, 420)).GaussianBlur(5));
            blurred.SaveAsPng(Path.Combine(photos, "d-blurred.png"));
        }

        var loraDir = Path.Combine(_folder, "webui", "models", "Lora");
        Directory.CreateDirectory(loraDir);
        using var astronaut = Astronaut();
        using var server = MockWebUiServer.Start(new MockWebUiOptions
        {
            LoraDirectory = loraDir,
            Txt2ImgImage = (prompt, _, _, _) => prompt.Contains("anna_r16-adamw", StringComparison.Ordinal) ? astronaut.Clone() : null,
        });
        var url = server.Url.ToString();
        var dataset = Path.Combine(_folder, "dataset");
        var run = Path.Combine(_folder, "run");
        var baseModel = Path.Combine(_folder, "base.safetensors");
        await File.WriteAllTextAsync(baseModel, "x");

        var (code, stdout, stderr) = await CliRunner.RunAsync("dataset", "prepare", photos, "--name", "anna", "--out", dataset, "--webui", url, "--models", Models, "--trigger", "annaxyz");
        Assert.True(code == 0, stderr);
        Assert.True(stdout.Contains("d-blurred.png: rejected: too blurry", StringComparison.Ordinal), stdout);
        Assert.Contains("3 training image(s), 0 held out, 0 flagged, 1 rejected; trigger 'annaxyz'.", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dataset, "img", "10_annaxyz", "001.txt")));

        (code, stdout, stderr) = await CliRunner.RunAsync("lora", "train", dataset, "--base-model", baseModel, "--out", run,
            "--trainer-command", $"bash '{FakeTrainer}' --config_file {{config}}", "--trainer-dir", _folder,
            "--only", "r16-adamw", "r32-adamw-fast", "--set", "1.max_train_epochs=1", "2.max_train_epochs=1");
        Assert.True(code == 0, stderr);
        Assert.Contains("[r16-adamw] [########################] 15/15 100% loss 0.0800", stdout, StringComparison.Ordinal);
        Assert.Contains("2 of 2 set(s) trained (0 already done).", stdout, StringComparison.Ordinal);

        (code, stdout, _) = await CliRunner.RunAsync("lora", "status", run);
        Assert.Equal(0, code);
        Assert.Contains("r16-adamw                done 15/15 loss 0.0800", stdout, StringComparison.Ordinal);
        Assert.Contains("r16-prodigy              pending", stdout, StringComparison.Ordinal);

        (code, stdout, stderr) = await CliRunner.RunAsync("lora", "install", run, "--webui", url, "--lora-dir", loraDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("The box lists anna_r16-adamw, anna_r32-adamw-fast.", stdout, StringComparison.Ordinal);

        (code, stdout, stderr) = await CliRunner.RunAsync("lora", "pick", run, "--webui", url, "--models", Models);
        Assert.True(code == 0, stderr);
        Assert.Contains("Chosen: anna_r16-adamw (best score); use it as --lora anna_r16-adamw --trigger annaxyz", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(run, "compare.html")));

        (code, stdout, stderr) = await CliRunner.RunAsync("lora", "pick", run, "--webui", url, "--models", Models, "--pick", "r32-adamw-fast");
        Assert.True(code == 0, stderr);
        Assert.Contains("Chosen: anna_r32-adamw-fast (your pick)", stdout, StringComparison.Ordinal);
    }

    /// <summary>A dataset prepared from one photo (no tagger) and a placeholder base model, in the test folder.</summary>
    private async Task<(string Dataset, string BaseModel)> OnePhotoDatasetAsync()
    {
        var dataset = Path.Combine(_folder, "dataset");
        var photos = Path.Combine(_folder, "photos");
        Directory.CreateDirectory(photos);
        using (var a = Astronaut())
        {
            a.SaveAsPng(Path.Combine(photos, "a.png"));
        }

        var (code, _, stderr) = await CliRunner.RunAsync("dataset", "prepare", photos, "--name", "anna", "--out", dataset, "--no-tagger");
        Assert.True(code == 0, stderr);
        var baseModel = Path.Combine(_folder, "base.safetensors");
        await File.WriteAllTextAsync(baseModel, "x");
        return (dataset, baseModel);
    }

    [Fact]
    public async Task Train_FailingTrainer_ExitsOne_WithTheTraceback()
    {
        var (dataset, baseModel) = await OnePhotoDatasetAsync();

        var (code, _, stderr) = await CliRunner.RunAsync("lora", "train", dataset, "--base-model", baseModel, "--out", Path.Combine(_folder, "run"),
            "--trainer-command", $"FAKE_TRAINER_FAIL=traceback bash '{FakeTrainer}' --config_file {{config}}", "--trainer-dir", _folder, "--only", "r16-prodigy");

        // The whole stderr and the trainer's log go into each failure message: a failure here once quoted something else.
        var log = Path.Combine(_folder, "run", "sets", "r16-prodigy", "train.log");
        var context = $"stderr:\n{stderr}\ntrain.log:\n{(File.Exists(log) ? await File.ReadAllTextAsync(log) : "(none)")}";
        Assert.True(code == 1, context);
        Assert.True(stderr.Contains("error: set r16-prodigy: the trainer exited with code 1", StringComparison.Ordinal), context);
        Assert.True(stderr.Contains("torch.OutOfMemoryError: CUDA out of memory.", StringComparison.Ordinal), context);
        Assert.True(stderr.Contains("run the same command again", StringComparison.Ordinal), context);
    }

    [Fact]
    public async Task Train_TrainerProgramMissing_IsExit2_SaidOnce_AndNoOtherSetIsTried()
    {
        var (dataset, baseModel) = await OnePhotoDatasetAsync();
        var run = Path.Combine(_folder, "run");

        var (code, stdout, stderr) = await CliRunner.RunAsync("lora", "train", dataset, "--base-model", baseModel, "--out", run,
            "--trainer-command", "miaoya-no-such-trainer --config_file {config}", "--trainer-dir", _folder);

        Assert.Equal(2, code);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(stderr, "error: "));
        Assert.Contains("the trainer command could not be started (", stderr, StringComparison.Ordinal);
        Assert.Contains("miaoya-no-such-trainer: not found; exit code 127", stderr.Replace("command not found", "not found", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("It is --trainer-command, now 'miaoya-no-such-trainer --config_file {config}'", stderr, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(stdout, @"\] training: "));
        Assert.Single(Directory.GetDirectories(Path.Combine(run, "sets")));
    }

    [Fact]
    public async Task BadInput_ExitsTwo_NamingWhatIsWrong()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("lora", "train", Path.Combine(_folder, "missing"), "--base-model", "/nope.safetensors", "--out", Path.Combine(_folder, "run"));
        Assert.Equal(2, code);
        Assert.Contains("no dataset.json; prepare the photos first with: miaoya dataset prepare", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await CliRunner.RunAsync("lora", "train", _folder, "--base-model", "x", "--out", "y", "--set", "1.network_dim=0", "--recipe", "lora-training");
        Assert.Equal(2, code);
        Assert.Contains("r16-adamw.network_dim: '0' is not an integer in 1..1024", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await CliRunner.RunAsync("dataset", "prepare", _folder, "--name", "x", "--out", Path.Combine(_folder, "o"), "--resolution", "500x500", "--no-tagger");
        Assert.Equal(2, code);
        Assert.Contains("--resolution: '500x500': width and height must be multiples of 64", stderr, StringComparison.Ordinal);
    }
}
