namespace Miaoya.Likeness.Tests;

/// <summary>Centroid, leave-one-out baseline and ratio on known vectors.</summary>
public sealed class MathsTests
{
    private static readonly float S = MathF.Sqrt(0.5f);

    [Fact]
    public void Centroid_IsTheNormalisedMean()
    {
        var centroid = Embeddings.Centroid([[1, 0], [0, 1]]);

        Assert.Equal(S, centroid[0], 6);
        Assert.Equal(S, centroid[1], 6);
    }

    [Fact]
    public void Centroid_LeavesOneOut()
    {
        Assert.Equal([0f, 1f], Embeddings.Centroid([[1, 0], [0, 1]], skip: 0));
    }

    [Fact]
    public void Centroid_OfOppositeVectors_IsZero_AndCosinesToItAreZero()
    {
        var centroid = Embeddings.Centroid([[1, 0], [-1, 0]]);

        Assert.Equal([0f, 0f], centroid);
        Assert.Equal(0, Embeddings.Cosine([1, 0], centroid));
    }

    [Fact]
    public void Cosine_IgnoresLength()
    {
        Assert.Equal(S, Embeddings.Cosine([3, 0], [2, 2]), 6);
        Assert.Equal(-1, Embeddings.Cosine([1, 1], [-4, -4]), 9);
    }

    [Fact]
    public void Normalize_RefusesAZeroVector_NamingTheModel()
    {
        var e = Assert.Throws<InvalidDataException>(() => Embeddings.Normalize([0, 0], "m.onnx"));

        Assert.StartsWith("m.onnx gave an embedding of norm 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reference_ThreePhotos_LeaveOneOutAndBaseline()
    {
        // e0 = (1,0), e1 = (0,1), e2 = (1,1)/√2. Leaving e0 out: centroid ∝ (S, 1 + S), cos = S / √(S² + (1 + S)²) ≈ 0.3827;
        // e1 likewise; leaving e2 out: centroid = (S, S) = e2, cos 1. Baseline = their mean.
        var reference = LikenessReference.FromEmbeddings([[1, 0], [0, 1], [S, S]], ScorerKind.SFace, ["a", "b", "c"]);
        var expected = S / Math.Sqrt((S * S) + ((1 + S) * (1 + S)));

        Assert.Equal(3, reference.Photos);
        Assert.Equal(["a", "b", "c"], reference.PhotoNames);
        Assert.Equal(expected, reference.LeaveOneOut[0], 6);
        Assert.Equal(expected, reference.LeaveOneOut[1], 6);
        Assert.Equal(1, reference.LeaveOneOut[2], 6);
        Assert.Equal(((2 * expected) + 1) / 3, reference.Baseline!.Value, 6);
    }

    [Fact]
    public void Reference_TwoPhotos_BothLeaveOneOutValuesAreTheirCosine()
    {
        var reference = LikenessReference.FromEmbeddings([[1, 0], [S, S]], ScorerKind.SFace, ["a", "b"]);

        Assert.Equal([S, S], reference.LeaveOneOut.Select(v => (float)v));
        Assert.Equal(S, reference.Baseline!.Value, 6);
    }

    [Fact]
    public void Reference_OnePhoto_HasNoBaseline()
    {
        var reference = LikenessReference.FromEmbeddings([[1, 0]], ScorerKind.SFace, ["a"]);

        Assert.Equal(1, reference.Photos);
        Assert.Empty(reference.LeaveOneOut);
        Assert.Null(reference.Baseline);
    }
}
