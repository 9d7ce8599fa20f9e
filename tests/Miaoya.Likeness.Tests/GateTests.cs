namespace Miaoya.Likeness.Tests;

/// <summary>The gate's verdicts and their reasons.</summary>
public sealed class GateTests
{
    private static readonly LikenessGate Gate = new(0.40, 0.8);

    private static LikenessScore Score(double? similarity, double? baseline, int faces = 1)
    {
        double? ratio = similarity is { } s && baseline is > 0 ? s / baseline : null;
        return new LikenessScore(similarity, baseline, ratio, faces, null, TimeSpan.Zero, TimeSpan.Zero);
    }

    [Fact]
    public void Check_AboveBoth_Passes_WithoutReasons()
    {
        var verdict = Gate.Check(Score(0.55, 0.6));

        Assert.True(verdict.Passed);
        Assert.Empty(verdict.Reasons);
    }

    [Fact]
    public void Check_LowSimilarity_Fails()
    {
        var verdict = Gate.Check(Score(0.31, 0.35));

        Assert.False(verdict.Passed);
        Assert.Equal(["similarity 0.31 < min_similarity 0.40"], verdict.Reasons);
    }

    [Fact]
    public void Check_LowRatio_Fails()
    {
        var verdict = Gate.Check(Score(0.434, 0.7));

        Assert.False(verdict.Passed);
        Assert.Equal(["ratio 0.62 < min_ratio 0.8"], verdict.Reasons);
    }

    [Fact]
    public void Check_BothLow_ListsBoth()
    {
        var verdict = Gate.Check(Score(0.2, 0.7));

        Assert.False(verdict.Passed);
        Assert.Equal(["similarity 0.20 < min_similarity 0.40", "ratio 0.29 < min_ratio 0.8"], verdict.Reasons);
    }

    [Fact]
    public void Check_AtTheThresholds_Passes()
    {
        Assert.True(Gate.Check(Score(0.40, 0.5)).Passed);
    }

    [Fact]
    public void Check_WithoutBaseline_SkipsTheRatio_WithANote()
    {
        var verdict = Gate.Check(Score(0.5, null));

        Assert.True(verdict.Passed);
        Assert.Equal(["ratio not checked: no baseline (one reference photo; give two or more)"], verdict.Reasons);
    }

    [Fact]
    public void Check_NonPositiveBaseline_SkipsTheRatio_WithANote()
    {
        var verdict = Gate.Check(Score(0.5, -0.1));

        Assert.True(verdict.Passed);
        Assert.Equal(["ratio not checked: baseline -0.10 is not positive"], verdict.Reasons);
    }

    [Fact]
    public void Check_RatioZero_TurnsTheRatioCheckOff()
    {
        var verdict = new LikenessGate(0.4, 0).Check(Score(0.5, null));

        Assert.True(verdict.Passed);
        Assert.Empty(verdict.Reasons);
    }

    [Fact]
    public void Check_NoFace_Fails()
    {
        var verdict = Gate.Check(Score(null, 0.6, faces: 0));

        Assert.False(verdict.Passed);
        Assert.Equal(["no face found"], verdict.Reasons);
    }

    [Fact]
    public void Check_FaceIndexBeyondTheFaces_Fails()
    {
        var verdict = Gate.Check(Score(null, 0.6, faces: 1));

        Assert.False(verdict.Passed);
        Assert.Equal(["no face at the asked-for face index (1 face found)"], verdict.Reasons);
    }

    [Fact]
    public void Default_IsTheDocumentedGate()
    {
        Assert.Equal(new LikenessGate(0.40, 0.8), LikenessGate.Default);
    }
}
