namespace Miaoya.Training.Tests;

public class ProgressTests
{
    [Fact]
    public void Parser_ReadsKohyasStepsBar()
    {
        var parser = new TrainerProgressParser();

        Assert.True(parser.Feed("steps:  45%|████▌     | 450/1000 [01:23<01:42,  5.36it/s, avr_loss=0.0812]"));

        var p = parser.Latest!;
        Assert.Equal((450L, 1000L), (p.Step, p.Total));
        Assert.Equal(0.0812, p.Loss);
        Assert.Equal(TimeSpan.FromSeconds(83), p.Elapsed);
        Assert.Equal(TimeSpan.FromSeconds(102), p.Eta);
        Assert.Equal(5.36, p.Rate);
        Assert.Equal(0.45, p.Fraction);
    }

    [Fact]
    public void Parser_StartOfBar_SecondsPerIteration_Hours_AndEpochs()
    {
        var parser = new TrainerProgressParser();
        Assert.True(parser.Feed("steps:   0%|          | 0/1600 [00:00<?, ?it/s]"));
        Assert.Null(parser.Latest!.Eta);
        Assert.True(parser.Feed("epoch 2/10"));
        Assert.True(parser.Feed("steps:  10%|#         | 160/1600 [02:00<1:20:00,  2.50s/it, avr_loss=0.121]"));

        var p = parser.Latest!;
        Assert.Equal(0.4, p.Rate!.Value, 6);
        Assert.Equal(TimeSpan.FromMinutes(80), p.Eta);
        Assert.Equal((2, 10), (p.Epoch, p.Epochs));
        Assert.Equal(0.121, p.Loss);
    }

    [Fact]
    public void Parser_IgnoresValidationBarsAndOtherLines()
    {
        var parser = new TrainerProgressParser();

        Assert.False(parser.Feed("validation steps:  50%|#####     | 5/10 [00:01<00:01,  5.00it/s, val_loss=0.2]"));
        Assert.False(parser.Feed("override steps. steps for 10 epochs is: 1000"));
        Assert.Null(parser.Latest);
    }

    [Fact]
    public void RelevantLines_QuoteTheLastTraceback()
    {
        string[] tail = ["prepare tokenizer", "Traceback (most recent call last):", "  old", "ValueError: old", "steps: 5/10", "Traceback (most recent call last):", "  File \"x.py\", line 1", "RuntimeError: boom"];

        Assert.Equal(["Traceback (most recent call last):", "  File \"x.py\", line 1", "RuntimeError: boom"], TrainerRunner.RelevantLines(tail));
    }

    [Fact]
    public void RelevantLines_WithoutTraceback_QuoteErrorLines_ElseTheTail()
    {
        Assert.Equal(["ERROR: no module named accelerate"], TrainerRunner.RelevantLines(["a", "ERROR: no module named accelerate", "b"]));
        Assert.Equal(["a", "b"], TrainerRunner.RelevantLines(["a", "b"]));
        Assert.Contains("printed nothing", Assert.Single(TrainerRunner.RelevantLines([])), StringComparison.Ordinal);
    }

    [Fact]
    public void RelevantLines_OfAResult_TakeTheTracebackFromStderr_WhenStdoutLinesWereReadAfterIt()
    {
        // Two pipes, two readers: on a loaded machine stdout's "epoch" lines, printed before the failure, were read after
        // stderr's traceback, and the quote kept them in place of the exception line (a flaky CLI test showed it).
        string[] traceback =
        [
            "Traceback (most recent call last):", "  File \"train_network.py\", line 1512, in train", "    loss = self.process_batch(batch)",
            "  File \"train_network.py\", line 381, in process_batch", "    noise_pred = self.call_unet(args)", "torch.OutOfMemoryError: CUDA out of memory.",
        ];
        var epochs = Enumerable.Range(1, 60).Select(i => $"epoch {i}/240").ToArray();
        var result = new TrainerResult(1, null, [.. traceback, .. epochs], traceback);

        Assert.DoesNotContain(traceback[^1], TrainerRunner.RelevantLines(result.Tail));
        Assert.Equal(traceback, TrainerRunner.RelevantLines(result));
    }

    [Fact]
    public void RelevantLines_OfAResult_WithoutATracebackOnStderr_ReadBothStreams()
    {
        var result = new TrainerResult(1, null, ["a", "ERROR: no module named accelerate", "b"], ["b"]);

        Assert.Equal(["ERROR: no module named accelerate"], TrainerRunner.RelevantLines(result));
    }

    [Fact]
    public async Task RunAsync_KeepsStderrApart_SoATracebackFollowedByStdoutLinesIsQuotedWhole()
    {
        var folder = Directory.CreateTempSubdirectory("miaoya-trainer-runner-").FullName;
        try
        {
            var script = Path.Combine(folder, "fail.sh");
            await File.WriteAllTextAsync(script, "printf 'Traceback (most recent call last):\\n  File \"x.py\", line 1\\nRuntimeError: boom\\n' >&2\n"
                + "i=0; while [ $i -lt 80 ]; do echo \"epoch $i/80\"; i=$((i+1)); done\nexit 1\n");

            var result = await TrainerRunner.RunAsync($"sh '{script}'", folder, Path.Combine(folder, "train.log"), null);

            Assert.Equal(1, result.ExitCode);
            Assert.Equal(["Traceback (most recent call last):", "  File \"x.py\", line 1", "RuntimeError: boom"], result.ErrorTail);
            Assert.Equal(83, result.Tail.Count);
            Assert.Equal(["Traceback (most recent call last):", "  File \"x.py\", line 1", "RuntimeError: boom"], TrainerRunner.RelevantLines(result));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
