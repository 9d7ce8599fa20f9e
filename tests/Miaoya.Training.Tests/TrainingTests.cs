using System.Text.Json;

namespace Miaoya.Training.Tests;

/// <summary>A small prepared dataset (three photos, both resolutions, no tagger) and a fake base model.</summary>
public sealed class SmallDataset : IDisposable
{
    public SmallDataset()
    {
        Root = TestFiles.NewFolder("small");
        var photos = Path.Combine(Root, "photos");
        Directory.CreateDirectory(photos);
        for (var i = 0; i < 3; i++)
        {
            Photos.SaveJpeg(Photos.Good(i), Path.Combine(photos, $"p{i}.jpg"));
        }

        DatasetDir = Path.Combine(Root, "dataset");
        DatasetPreparer.PrepareAsync(new DatasetOptions { PhotosDir = photos, Name = "anna", OutDir = DatasetDir, Trigger = "annaxyz" }, TestFiles.Detector).GetAwaiter().GetResult();
        BaseModel = Path.Combine(Root, "base.safetensors");
        File.WriteAllText(BaseModel, "not a real checkpoint");
    }

    public string Root { get; }

    public string DatasetDir { get; }

    public string BaseModel { get; }

    /// <summary>Options training with the fake trainer into a new run folder; steps kept small.</summary>
    public TrainOptions Options(IEnumerable<string>? overrides = null, IReadOnlyDictionary<string, string>? environment = null, string? runDir = null) => new()
    {
        DatasetDir = DatasetDir,
        Recipe = LoraTrainingRecipe.Load(LoraTrainingRecipe.BuiltInName, ["3.max_train_steps=40", "4.max_train_steps=30", "1.max_train_epochs=2", "2.max_train_epochs=1", .. overrides ?? []]),
        BaseModel = BaseModel,
        RunDir = runDir ?? Path.Combine(Root, "runs", Guid.NewGuid().ToString("N")),
        TrainerCommand = $"bash {KohyaConfig.ShellQuote(TestFiles.FakeTrainer)} --config_file {{config}}",
        TrainerDir = Root,
        Environment = environment,
    };

    public void Dispose() => Directory.Delete(Root, true);
}

public class TrainingTests(SmallDataset data) : IClassFixture<SmallDataset>
{
    private sealed class Recorder : IProgress<(string Set, TrainerProgress Progress)>
    {
        public List<(string Set, TrainerProgress Progress)> Reports { get; } = [];

        public void Report((string Set, TrainerProgress Progress) value)
        {
            lock (Reports)
            {
                Reports.Add(value);
            }
        }
    }

    [Fact]
    public async Task Train_AllSets_WritesLorasStateAndConfigs_ThenResumesWithoutRetraining()
    {
        var options = data.Options();
        var progress = new Recorder();

        var outcomes = await TrainingRun.TrainAsync(options, progress);

        Assert.Equal(["r16-adamw", "r32-adamw-fast", "r16-prodigy", "r32-face-512x768"], outcomes.Select(o => o.Set));
        Assert.All(outcomes, o => Assert.Equal(TrainingStatus.Done, o.Status));
        Assert.All(outcomes, o => Assert.True(File.Exists(o.OutputFile), o.OutputFile));
        Assert.Equal(Path.Combine(options.RunDir, "loras", "anna_r16-adamw.safetensors"), outcomes[0].OutputFile);

        // 3 images x 10 repeats / batch 2 = 15 steps per epoch; 2 epochs.
        var state = TrainingRun.LoadState(options.RunDir, "r16-adamw")!;
        Assert.Equal(TrainingStatus.Done, state.Status);
        Assert.Equal((30L, 30L), (state.Step, state.Total));
        Assert.Equal(0.08, state.Loss);
        Assert.Equal(0, state.ExitCode);
        Assert.NotNull(state.OutputSha256);
        Assert.Equal(2, state.Epochs);

        var steps = progress.Reports.Where(r => r.Set == "r16-adamw").Select(r => r.Progress.Step).Distinct().ToArray();
        Assert.Equal(Enumerable.Range(0, 31).Select(i => (long)i), steps);
        Assert.Equal(40L, progress.Reports.Last(r => r.Set == "r16-prodigy").Progress.Total);

        // The face set trained on the 512x768 crops with face captions.
        var faceDataset = File.ReadAllText(Path.Combine(options.RunDir, "sets", "r32-face-512x768", "dataset.toml"));
        Assert.Contains("img-512x768/10_annaxyz", faceDataset, StringComparison.Ordinal);
        Assert.Contains("caption_extension = \".face.txt\"", faceDataset, StringComparison.Ordinal);
        Assert.Contains("Loading settings from", File.ReadAllText(Path.Combine(options.RunDir, "sets", "r16-adamw", "train.log")), StringComparison.Ordinal);
        var manifest = TrainingRun.LoadManifest(options.RunDir);
        Assert.Equal("annaxyz", manifest.Trigger);
        Assert.Equal(4, manifest.Sets.Count);

        // Again: nothing is retrained. Then one changed set is retrained, alone.
        var again = await TrainingRun.TrainAsync(options);
        Assert.All(again, o => Assert.True(o.Skipped));
        var changed = await TrainingRun.TrainAsync(options with { Recipe = LoraTrainingRecipe.Load(LoraTrainingRecipe.BuiltInName, ["3.max_train_steps=40", "4.max_train_steps=30", "1.max_train_epochs=2", "2.max_train_epochs=1", "r16-prodigy.network_dim=32"]) });
        Assert.Equal(["r16-prodigy"], changed.Where(o => !o.Skipped).Select(o => o.Set));
    }

    [Fact]
    public async Task Train_TrainerTraceback_FailsThatSet_QuotingTheTraceback()
    {
        // seed 666 makes the fake trainer fail halfway like a CUDA OOM; only the first set gets it.
        var options = data.Options(["1.seed=666"]) with { Only = ["r16-adamw", "r32-adamw-fast"] };

        var outcomes = await TrainingRun.TrainAsync(options);

        var failed = outcomes[0];
        Assert.Equal(TrainingStatus.Failed, failed.Status);
        Assert.Contains("set r16-adamw: the trainer exited with code 1", failed.Error, StringComparison.Ordinal);
        Assert.Contains("| Traceback (most recent call last):", failed.Error, StringComparison.Ordinal);
        Assert.Contains("| torch.OutOfMemoryError: CUDA out of memory.", failed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("prepare tokenizer", failed.Error, StringComparison.Ordinal);
        Assert.Equal(TrainingStatus.Done, outcomes[1].Status);

        var state = TrainingRun.LoadState(options.RunDir, "r16-adamw")!;
        Assert.Equal(TrainingStatus.Failed, state.Status);
        Assert.Equal(15L, state.Step);
        Assert.Equal(1, state.ExitCode);
        Assert.Equal(failed.Error, state.Error);
        Assert.False(File.Exists(failed.OutputFile));
    }

    [Fact]
    public async Task Train_ExitZeroWithoutOutput_IsAnError_NamingTheFile()
    {
        var options = data.Options(environment: new Dictionary<string, string> { ["FAKE_TRAINER_FAIL"] = "no-output" }) with { Only = ["r16-adamw"] };

        var outcome = Assert.Single(await TrainingRun.TrainAsync(options));

        Assert.Equal(TrainingStatus.Failed, outcome.Status);
        Assert.Contains($"exited with code 0 but wrote no {outcome.OutputFile}", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("model saved.", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_SilentFailure_SaysTheTrainerPrintedNothing()
    {
        var options = data.Options(environment: new Dictionary<string, string> { ["FAKE_TRAINER_FAIL"] = "silent" }) with { Only = ["r16-adamw"] };

        var outcome = Assert.Single(await TrainingRun.TrainAsync(options));

        Assert.Contains("exited with code 3", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("the trainer printed nothing", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_MissingCommand_IsBadInput_QuotingTheShellsComplaint_AndStopsAtTheFirstSet()
    {
        // Every set would run the same missing program: a configuration error, not a failed set.
        var options = data.Options() with { TrainerCommand = "no-such-trainer-xyz --config_file {config}" };

        var e = await Assert.ThrowsAsync<TrainingException>(() => TrainingRun.TrainAsync(options));

        Assert.True(e.IsBadInput);
        Assert.Contains("the trainer command could not be started (", e.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-trainer-xyz", e.Message, StringComparison.Ordinal);
        Assert.Contains("not found; exit code 127)", e.Message, StringComparison.Ordinal);
        Assert.Contains("It is --trainer-command, now 'no-such-trainer-xyz --config_file {config}'", e.Message, StringComparison.Ordinal);
        var manifest = TrainingRun.LoadManifest(options.RunDir);
        Assert.Equal(TrainingStatus.Failed, TrainingRun.LoadState(options.RunDir, manifest.Sets[0].Name)!.Status);
        Assert.All(manifest.Sets.Skip(1), s => Assert.Null(TrainingRun.LoadState(options.RunDir, s.Name)));
    }

    [Fact]
    public void ProgramNotStarted_OnlyForTheShellsOwnExitCodes()
    {
        Assert.Equal("/bin/sh: 1: accelerate: not found", TrainerRunner.ProgramNotStarted(new TrainerResult(127, null, ["/bin/sh: 1: accelerate: not found"])));
        Assert.Equal("sh: ./train.sh: Permission denied", TrainerRunner.ProgramNotStarted(new TrainerResult(126, null, ["something", "sh: ./train.sh: Permission denied"])));
        Assert.Equal("exit code 127", TrainerRunner.ProgramNotStarted(new TrainerResult(127, null, [])));

        // The trainer itself started and failed: its own set's failure.
        Assert.Null(TrainerRunner.ProgramNotStarted(new TrainerResult(1, null, ["FileNotFoundError: No such file or directory: 'x'"])));
        Assert.Null(TrainerRunner.ProgramNotStarted(new TrainerResult(0, null, [])));
    }

    [Fact]
    public async Task Train_Cancel_KillsTheTrainer_AndRecordsIt()
    {
        var pidFile = Path.Combine(data.Root, $"pid-{Guid.NewGuid():N}");
        var options = data.Options(["1.max_train_epochs=50"], new Dictionary<string, string> { ["FAKE_TRAINER_SLEEP"] = "0.05", ["FAKE_TRAINER_PID_FILE"] = pidFile }) with { Only = ["r16-adamw"] };
        using var cancel = new CancellationTokenSource();

        var run = TrainingRun.TrainAsync(options, new CancelAtStep(3, cancel), cancellationToken: cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var state = TrainingRun.LoadState(options.RunDir, "r16-adamw")!;
        Assert.Equal(TrainingStatus.Cancelled, state.Status);
        Assert.True(state.Step < 750);
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(IsRunning(pid), $"trainer process {pid} still runs");
    }

    [Fact]
    public async Task Train_DatasetWithoutTheSetsResolution_IsBadInput_BeforeTraining()
    {
        var options = data.Options(["1.resolution=768x768"]);

        var e = await Assert.ThrowsAsync<TrainingException>(() => TrainingRun.TrainAsync(options));

        Assert.True(e.IsBadInput);
        Assert.Contains("set r16-adamw: the dataset has no 768x768 crops (it has 512x512, 512x768); prepare it with --resolution 512x512,512x768,768x768", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(options.RunDir, "sets")));
    }

    [Fact]
    public async Task Train_DryRun_WritesConfigsOnly()
    {
        var options = data.Options() with { DryRun = true };

        var outcomes = await TrainingRun.TrainAsync(options);

        Assert.All(outcomes, o => Assert.Equal(TrainingStatus.Pending, o.Status));
        Assert.All(outcomes, o => Assert.Contains("--config_file", o.Command, StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(options.RunDir, "sets", "r16-adamw", "config.toml")));
        Assert.False(File.Exists(outcomes[0].OutputFile));
        Assert.Null(TrainingRun.LoadState(options.RunDir, "r16-adamw"));
    }

    [Fact]
    public void StateFile_IsSnakeCaseJson()
    {
        var json = JsonSerializer.Serialize(new TrainingState { Set = "a", Status = TrainingStatus.Running, ConfigSha256 = "x", OutputFile = "f", EtaSeconds = 3 }, JsonFiles.Options);

        Assert.Contains("\"status\": \"running\"", json, StringComparison.Ordinal);
        Assert.Contains("\"eta_seconds\": 3", json, StringComparison.Ordinal);
    }

    private static bool IsRunning(int pid)
    {
        // Killing is asynchronous to the exit we awaited for the shell; give the children a moment, no more.
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var p = System.Diagnostics.Process.GetProcessById(pid);
                if (p.HasExited)
                {
                    return false;
                }
            }
            catch (ArgumentException)
            {
                return false;
            }

            Thread.Sleep(50);
        }

        return true;
    }

    private sealed class CancelAtStep(long step, CancellationTokenSource cancel) : IProgress<(string Set, TrainerProgress Progress)>
    {
        public void Report((string Set, TrainerProgress Progress) value)
        {
            if (value.Progress.Step >= step)
            {
                cancel.Cancel();
            }
        }
    }
}
