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
}
