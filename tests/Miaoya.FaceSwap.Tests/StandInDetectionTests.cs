namespace Miaoya.FaceSwap.Tests;

/// <summary>Telling the repository's stand-in models from real ones by their ONNX producer_name, without a session.</summary>
public sealed class StandInDetectionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-standin-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void IsStandIn_TheStandIns_Yes_AnotherOnnxModel_No()
    {
        Assert.True(ModelRegistry.IsStandIn(StandIns.Det));
        Assert.True(ModelRegistry.IsStandIn(StandIns.ArcFace));
        Assert.True(ModelRegistry.IsStandIn(StandIns.Inswapper));
        Assert.Equal(ModelRegistry.StandInProducer, OnnxInitializerReader.ReadProducerName(StandIns.Det));

        // The built-in BlazeFace model is a real ONNX file, made elsewhere.
        var blazeFace = Path.Combine(_folder, "blazeface.onnx");
        using (var stream = typeof(Miaoya.Faces.BlazeFaceDetector).Assembly.GetManifestResourceStream(
            typeof(Miaoya.Faces.BlazeFaceDetector).Assembly.GetManifestResourceNames().First(n => n.EndsWith(".onnx", StringComparison.Ordinal)))!)
        using (var file = File.Create(blazeFace))
        {
            stream.CopyTo(file);
        }

        Assert.False(ModelRegistry.IsStandIn(blazeFace));
    }

    [Fact]
    public void IsStandIn_MissingOrNotOnnx_IsNo()
    {
        var text = Path.Combine(_folder, "det_10g.onnx");
        File.WriteAllText(text, "not a model");

        Assert.False(ModelRegistry.IsStandIn(text));
        Assert.False(ModelRegistry.IsStandIn(Path.Combine(_folder, "missing.onnx")));
    }

    [Fact]
    public void StandInDetectorNote_NamesTheFile_OnlyForAStandInDet10g()
    {
        var note = ModelRegistry.StandInDetectorNote(Path.GetDirectoryName(StandIns.Det)!);

        Assert.NotNull(note);
        Assert.StartsWith($"{StandIns.Det} is the repository's stand-in for SCRFD", note, StringComparison.Ordinal);
        Assert.Contains("detecting with the built-in BlazeFace instead", note, StringComparison.Ordinal);
        Assert.Null(ModelRegistry.StandInDetectorNote(_folder));
    }
}
