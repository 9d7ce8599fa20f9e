namespace Miaoya.FaceSwap.Tests;

/// <summary>
/// emap = the swapper file's last initializer, read by the minimal protobuf walker; latent = normalise(normalise(e)·emap)
/// as insightface does (row vector × matrix, not transposed: deepinsight/insightface v0.7
/// python-package/insightface/model_zoo/inswapper.py:50-52).
/// </summary>
public class EmapTests
{
    [Fact]
    public void ReadLastInitializer_StandIn_IsEmapWithMarkers()
    {
        var init = OnnxInitializerReader.ReadLastInitializer(StandIns.Inswapper);
        Assert.Equal("emap", init.Name);
        Assert.Equal([512L, 512L], init.Dims);
        Assert.Equal(OnnxInitializerReader.Float, init.DataType);
        Assert.Equal(0.25f, init.Data[1]); // e[0,1]
        Assert.Equal(-0.5f, init.Data[511 * 512]); // e[511,0]
        Assert.Equal(1f, init.Data[(7 * 512) + 7]);
        Assert.Equal(0f, init.Data[(7 * 512) + 8]);
    }

    [Fact]
    public void ComputeLatent_IsRowVectorTimesEmap_Renormalised()
    {
        using var swapper = InswapperModel.Load(StandIns.Inswapper, ExecutionDevice.Cpu);
        var e = new float[512];
        e[0] = 3f; // not unit length: normalised first
        var latent = swapper.ComputeLatent(e);
        var norm = MathF.Sqrt(1f + (0.25f * 0.25f));
        Assert.Equal(1f / norm, latent[0], 5);
        Assert.Equal(0.25f / norm, latent[1], 5); // row 0 of emap; transposing would put it elsewhere
        Assert.Equal(0f, latent[2]);

        var e511 = new float[512];
        e511[511] = 1f;
        var l511 = swapper.ComputeLatent(e511);
        var n2 = MathF.Sqrt(1f + 0.25f);
        Assert.Equal(-0.5f / n2, l511[0], 5);
        Assert.Equal(1f / n2, l511[511], 5);
    }

    [Fact]
    public void ParseTensor_FloatDataAndUnpackedDims_AreRead()
    {
        // A TensorProto written by hand: dims 2, 2 (unpacked varints), data_type 1, name "w", float_data packed.
        var bytes = new List<byte> { 0x08, 2, 0x08, 2, 0x10, 1, 0x42, 1, (byte)'w', 0x22, 16 };
        foreach (var f in new[] { 1f, 2f, 3f, 4f })
        {
            bytes.AddRange(BitConverter.GetBytes(f));
        }

        var t = OnnxInitializerReader.ParseTensor([.. bytes], "hand.onnx");
        Assert.Equal("w", t.Name);
        Assert.Equal([2L, 2L], t.Dims);
        Assert.Equal([1f, 2f, 3f, 4f], t.Data);
    }

    [Fact]
    public void ReadLastInitializer_Garbage_AndWrongDims_GiveClearErrors()
    {
        var garbage = Path.Combine(Path.GetTempPath(), $"miaoya-garbage-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(garbage, [0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x02]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => OnnxInitializerReader.ReadLastInitializer(garbage));
            Assert.Contains(Path.GetFileName(garbage), e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(garbage);
        }

        // The arcface stand-in has no 512×512 last initializer.
        var wrong = Assert.Throws<InvalidDataException>(() => InswapperModel.ReadEmap(StandIns.ArcFace));
        Assert.Contains("w600k_r50.onnx", wrong.Message, StringComparison.Ordinal);
    }
}
