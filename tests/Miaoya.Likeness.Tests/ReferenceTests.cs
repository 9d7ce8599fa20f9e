using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace Miaoya.Likeness.Tests;

/// <summary>Building a reference from photos and scoring images with the BlazeFace detector and the SFace stand-in.</summary>
public sealed class ReferenceTests(ITestOutputHelper output)
{
    private static LikenessReference AstronautReference()
    {
        using var astronaut = TestSupport.Astronaut();
        return LikenessReference.Build(TestSupport.SFace, TestSupport.Detector, [new PersonPhoto("astronaut.png", astronaut)]);
    }

    private static LikenessScore ScoreOf(LikenessReference reference, Func<Image<Rgb24>> make, int? faceIndex = null)
    {
        using var image = make();
        return reference.Score(TestSupport.SFace, TestSupport.Detector, image, faceIndex);
    }

    [Fact]
    public void Build_PhotoWithoutAFace_NamesIt()
    {
        using var astronaut = TestSupport.Astronaut();
        using var coffee = TestSupport.Load("coffee.png");

        var e = Assert.Throws<LikenessInputException>(() => LikenessReference.Build(
            TestSupport.SFace, TestSupport.Detector, [new PersonPhoto("astronaut.png", astronaut), new PersonPhoto("coffee.png", coffee)]));

        Assert.Equal("coffee.png", e.Photo);
        Assert.StartsWith("coffee.png: no face found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_PhotoWithTwoFaces_NamesIt()
    {
        using var pair = TestSupport.TwoFaces();

        var e = Assert.Throws<LikenessInputException>(() => LikenessReference.Build(TestSupport.SFace, TestSupport.Detector, [new PersonPhoto("pair.png", pair)]));

        Assert.Equal("pair.png", e.Photo);
        Assert.StartsWith("pair.png: 2 faces found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ThreePhotosOfOneFace_HasAHighBaseline()
    {
        using var a = TestSupport.Astronaut();
        using var b = TestSupport.Shifted(24, -10);
        using var c = TestSupport.Brightness(1.15f);

        var reference = LikenessReference.Build(TestSupport.SFace, TestSupport.Detector, [new("a.png", a), new("b.png", b), new("c.png", c)]);

        Assert.Equal(3, reference.Photos);
        Assert.Equal(3, reference.LeaveOneOut.Count);
        Assert.All(reference.LeaveOneOut, v => Assert.InRange(v, 0.95, 1.0));
        Assert.Equal(reference.LeaveOneOut.Average(), reference.Baseline!.Value, 12);
    }

    [Fact]
    public void Score_SameFace_ScoresClearlyHigherThanAnotherOrAlteredFace()
    {
        var reference = AstronautReference();
        var same = new (string Name, Func<Image<Rgb24>> Make)[]
        {
            ("shifted", () => TestSupport.Shifted(20, 12)),
            ("brighter", () => TestSupport.Brightness(1.2f)),
            ("darker", () => TestSupport.Brightness(0.8f)),
            ("cropped", () => TestSupport.FaceCrop()),
            ("mirrored", TestSupport.Mirrored),
            ("pasted onto coffee.png", () => TestSupport.PastedOnto("coffee.png", 300, 100)),
        };
        var other = new (string Name, Func<Image<Rgb24>> Make)[]
        {
            ("camera.png (another man)", () => TestSupport.Load("camera.png")),
            ("altered (face flipped upside down)", TestSupport.Altered),
        };

        var sameScores = same.Select(c => (c.Name, Score: ScoreOf(reference, c.Make))).ToList();
        var otherScores = other.Select(c => (c.Name, Score: ScoreOf(reference, c.Make))).ToList();
        foreach (var (name, score) in sameScores.Concat(otherScores))
        {
            output.WriteLine($"{name}: {score.Similarity:0.000} ({score.FacesFound} face(s))");
        }

        Assert.All(sameScores.Concat(otherScores), s => Assert.Equal(1, s.Score.FacesFound));
        Assert.All(sameScores, s => Assert.True(s.Score.Similarity > 0.7, $"{s.Name}: {s.Score.Similarity}"));
        Assert.All(otherScores, s => Assert.True(s.Score.Similarity < 0.5, $"{s.Name}: {s.Score.Similarity}"));
        Assert.True(sameScores.Min(s => s.Score.Similarity) - otherScores.Max(s => s.Score.Similarity) > 0.2);
        Assert.All(sameScores, s => Assert.True(LikenessGate.Default.Check(s.Score).Passed));
        Assert.All(otherScores.Take(1), s => Assert.False(LikenessGate.Default.Check(s.Score).Passed));
    }

    [Fact]
    public void Score_RatioIsSimilarityOverBaseline()
    {
        using var a = TestSupport.Astronaut();
        using var b = TestSupport.Mirrored();
        var reference = LikenessReference.Build(TestSupport.SFace, TestSupport.Detector, [new("a.png", a), new("b.png", b)]);

        var score = ScoreOf(reference, () => TestSupport.Shifted(10, 10));

        Assert.Equal(reference.Baseline, score.Baseline);
        Assert.Equal(score.Similarity!.Value / reference.Baseline!.Value, score.Ratio!.Value, 12);
        Assert.True(score.Ratio > 1, "a copy of the first photo is closer to the centroid than the mirror is to the first photo");
    }

    [Fact]
    public void Score_OnePhotoReference_HasNoBaselineOrRatio()
    {
        var score = ScoreOf(AstronautReference(), TestSupport.Astronaut);

        Assert.Equal(1.0, score.Similarity!.Value, 5);
        Assert.Null(score.Baseline);
        Assert.Null(score.Ratio);
    }

    [Theory]
    [InlineData("chelsea.png")]
    [InlineData("coffee.png")]
    public void Score_NoFace_HasNoSimilarity(string name)
    {
        var score = ScoreOf(AstronautReference(), () => TestSupport.Load(name));

        Assert.Equal(0, score.FacesFound);
        Assert.Null(score.Similarity);
        Assert.Null(score.Ratio);
        Assert.Null(score.Face);
        Assert.Equal(["no face found"], LikenessGate.Default.Check(score).Reasons);
    }

    [Fact]
    public void Score_FaceIndex_CountsFromTheLargestFace()
    {
        var reference = AstronautReference();

        // Left: the astronaut at 80 % size; right: her mirror image at full size (the larger face).
        var largest = ScoreOf(reference, () => TestSupport.TwoFaces(0.8f));
        var first = ScoreOf(reference, () => TestSupport.TwoFaces(0.8f), faceIndex: 0);
        var second = ScoreOf(reference, () => TestSupport.TwoFaces(0.8f), faceIndex: 1);
        var third = ScoreOf(reference, () => TestSupport.TwoFaces(0.8f), faceIndex: 2);

        Assert.Equal(2, largest.FacesFound);
        Assert.Equal(largest, first with { LocalWork = largest.LocalWork, Inference = largest.Inference });
        Assert.True(largest.Face!.Value.X > second.Face!.Value.X, "the largest face is the right-hand one");
        Assert.True(largest.Face.Value.Width > second.Face.Value.Width);
        Assert.True(second.Similarity > largest.Similarity, "the unmirrored face is closer to the astronaut");
        Assert.Null(third.Similarity);
        Assert.Equal(2, third.FacesFound);
        Assert.Throws<ArgumentOutOfRangeException>(() => ScoreOf(reference, TestSupport.Astronaut, faceIndex: -1));
    }

    [Fact]
    public void Score_ReportsLocalWorkAndInferenceApart()
    {
        var reference = AstronautReference();

        var score = ScoreOf(reference, () => TestSupport.Shifted(4, 4));

        Assert.True(score.Inference > TimeSpan.Zero);
        Assert.True(score.LocalWork > TimeSpan.Zero);
    }

    [Fact]
    public void Score_IsThreadSafe()
    {
        var reference = AstronautReference();
        using var image = TestSupport.Shifted(20, 12);
        var expected = reference.Score(TestSupport.SFace, TestSupport.Detector, image).Similarity;

        var results = new double?[8];
        Parallel.For(0, results.Length, i => results[i] = reference.Score(TestSupport.SFace, TestSupport.Detector, image).Similarity);

        Assert.All(results, r => Assert.Equal(expected!.Value, r!.Value, 6));
    }
}
