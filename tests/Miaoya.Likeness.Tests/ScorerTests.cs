using Miaoya.FaceSwap;

namespace Miaoya.Likeness.Tests;

/// <summary>Loading the scorers through the real code: signatures, licences, the insightface switch.</summary>
/// <remarks>Every test that loads ArcFace is in this class, so none runs while another sets MIAOYA_DISABLE_INSIGHTFACE.</remarks>
public sealed class ScorerTests
{
    [Fact]
    public void Load_SFaceStandIn_RecordsLicenceAndShape()
    {
        var scorer = TestSupport.SFace;

        Assert.Equal(ScorerKind.SFace, scorer.Kind);
        Assert.Equal(TestSupport.ModelPath("face_recognition_sface_2021dec.onnx"), scorer.ModelFile);
        Assert.False(scorer.NonCommercial);
        Assert.True(scorer.IsStandIn);
        Assert.StartsWith("Apache-2.0", scorer.Licence, StringComparison.Ordinal);
        Assert.Contains("opencv_zoo", scorer.Source, StringComparison.Ordinal);
        Assert.Equal(128, scorer.EmbeddingLength);
        Assert.Equal(ExecutionDevice.Cpu, scorer.Device);
    }

    [Fact]
    public void DefaultFileName_IsTheDistributedName()
    {
        Assert.Equal("face_recognition_sface_2021dec.onnx", FaceScorer.DefaultFileName(ScorerKind.SFace));
        Assert.Equal("w600k_r50.onnx", FaceScorer.DefaultFileName(ScorerKind.ArcFace));
    }

    [Fact]
    public void Load_WrongSignature_NamesTheFileAndBothSignatures()
    {
        var e = Assert.Throws<InvalidDataException>(() => FaceScorer.Load(TestSupport.ModelPath("not_a_scorer_64d.onnx"), ScorerKind.SFace, ExecutionDevice.Cpu));

        Assert.Equal(
            "not_a_scorer_64d.onnx is not face_recognition_sface_2021dec.onnx (face recognition (OpenCV Zoo SFace, 128-d)): expected inputs aligned face [1,3,112,112] " +
            "and outputs embedding [1,128] (float32); the file has inputs 'data' [1,3,112,112] Float and outputs 'fc1' [1,64] Float.",
            e.Message);
    }

    [Fact]
    public void Load_SFaceFileAsArcFace_IsASignatureMismatch()
    {
        var e = Assert.Throws<InvalidDataException>(() => FaceScorer.Load(TestSupport.ModelPath("face_recognition_sface_2021dec.onnx"), ScorerKind.ArcFace, ExecutionDevice.Cpu));

        Assert.Contains("face_recognition_sface_2021dec.onnx is not w600k_r50.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("outputs embedding [1,512]", e.Message, StringComparison.Ordinal);
        Assert.Contains("'fc1' [1,128]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_NamesTheModel()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-folder", "face_recognition_sface_2021dec.onnx");

        var e = Assert.Throws<FileNotFoundException>(() => FaceScorer.Load(path, ScorerKind.SFace, ExecutionDevice.Cpu));

        Assert.Contains("OpenCV Zoo SFace", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Cuda_FallsBackToTheCpu_SayingWhy()
    {
        var lines = new List<string>();

        using var scorer = FaceScorer.Load(TestSupport.ModelPath("face_recognition_sface_2021dec.onnx"), ScorerKind.SFace, ExecutionDevice.Cuda(0), lines.Add);

        if (scorer.Device.IsCuda)
        {
            Assert.Null(scorer.FallbackReason);
            return;
        }

        Assert.NotNull(scorer.FallbackReason);
        Assert.Contains(lines, l => l.Contains("running on the CPU", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ArcFace_IsNonCommercial_AndPrintsTheNotice()
    {
        var lines = new List<string>();

        using var scorer = FaceScorer.Load(TestSupport.ModelPath("w600k_r50.onnx"), ScorerKind.ArcFace, ExecutionDevice.Cpu, lines.Add);

        Assert.True(scorer.NonCommercial);
        Assert.Contains("non-commercial", scorer.Licence, StringComparison.Ordinal);
        Assert.Equal(512, scorer.EmbeddingLength);
        Assert.Contains(ModelRegistry.LicenceNotice, lines);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("true")]
    public void Load_ArcFace_IsRefused_WhenInsightfaceIsDisabled(string value)
    {
        Environment.SetEnvironmentVariable("MIAOYA_DISABLE_INSIGHTFACE", value);
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => FaceScorer.Load(TestSupport.ModelPath("w600k_r50.onnx"), ScorerKind.ArcFace, ExecutionDevice.Cpu));
            using var sface = FaceScorer.Load(TestSupport.ModelPath("face_recognition_sface_2021dec.onnx"), ScorerKind.SFace, ExecutionDevice.Cpu);

            Assert.Contains("MIAOYA_DISABLE_INSIGHTFACE", e.Message, StringComparison.Ordinal);
            Assert.Contains("non-commercial", e.Message, StringComparison.Ordinal);
            Assert.Equal(ScorerKind.SFace, sface.Kind);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MIAOYA_DISABLE_INSIGHTFACE", null);
        }
    }

    [Fact]
    public void ArcFace_ScoresThroughTheSamePath_With512dEmbeddings()
    {
        using var scorer = FaceScorer.Load(TestSupport.ModelPath("w600k_r50.onnx"), ScorerKind.ArcFace, ExecutionDevice.Cpu);
        using var astronaut = TestSupport.Astronaut();
        using var shifted = TestSupport.Shifted(16, 8);

        var reference = LikenessReference.Build(scorer, TestSupport.Detector, [new PersonPhoto("astronaut.png", astronaut)]);
        var score = reference.Score(scorer, TestSupport.Detector, shifted);

        Assert.Equal(1, score.FacesFound);
        Assert.InRange(score.Similarity!.Value, 0.9, 1.0);
        Assert.Throws<ArgumentException>(() => reference.Score(TestSupport.SFace, TestSupport.Detector, shifted));
    }

    [Fact]
    public void Embed_ZeroEmbedding_IsRefused_NamingTheModel()
    {
        // The stand-in is mean-free and linear, so a uniform grey crop gives a zero vector, which cannot be compared.
        using var grey = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(112, 112, new SixLabors.ImageSharp.PixelFormats.Rgb24(200, 200, 200));
        long ticks = 0;

        var e = Assert.Throws<InvalidDataException>(() => TestSupport.SFace.EmbedAligned(grey, ref ticks, default));

        Assert.Contains("face_recognition_sface_2021dec.onnx", e.Message, StringComparison.Ordinal);
        Assert.True(ticks > 0);
    }
}
