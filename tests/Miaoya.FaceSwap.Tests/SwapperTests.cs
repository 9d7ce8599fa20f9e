using Miaoya.Faces;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace Miaoya.FaceSwap.Tests;

/// <summary>
/// The whole swap with the stand-in models, the BlazeFace path, model checks, CUDA fallback and cancellation.
/// Conventions matching insightface: RGB everywhere (no channel swap: ImageSharp is RGB, insightface converts its BGR to
/// RGB for every model), ArcFace (p−127.5)/127.5, swapper target p/255 and output clip·255 truncated, inputs fed by
/// position. Difference: face indices count largest first (Miaoya's FaceSelection), not left to right.
/// </summary>
public class SwapperTests(ITestOutputHelper output)
{
    [Fact]
    public void Swap_StandIns_ChangesTheFaceOnly_AndDumps()
    {
        using var source = Scenes.Squares(640, 640, (288, 192, 64));
        using var target = Scenes.Squares(800, 600, (360, 280, 80)); // det_scale 0.8: 64 px at (288, 224), anchor (320, 256)
        var before = Scenes.Pixels(target);
        using var result = StandIns.Swapper.Swap(source, target, new FaceSwapRequest { Dump = true });

        var face = Assert.Single(result.TargetFaces);
        Assert.Equal(360f, face.Box.X, 0.01f);
        var dump = Assert.IsType<FaceSwapDump>(result.Dump);
        var t = Assert.Single(dump.Targets);
        var after = Scenes.Pixels(result.Image);
        for (var y = 0; y < 600; y++)
        {
            for (var x = 0; x < 800; x++)
            {
                if (!t.PasteRegion.Contains(x, y))
                {
                    Assert.Equal(before[(y * 800) + x], after[(y * 800) + x]);
                }
            }
        }

        // At the face centre (mask 1) the result is the swapper's output at the matching crop pixel.
        var q = System.Numerics.Vector2.Transform(new System.Numerics.Vector2(400, 320), t.ImageToCrop);
        var expected = Scenes.Pixels(t.Output128)[((int)MathF.Round(q.Y) * 128) + (int)MathF.Round(q.X)];
        var actual = after[(320 * 800) + 400];
        Assert.True(Math.Abs(expected.R - actual.R) <= 3 && Math.Abs(expected.G - actual.G) <= 3 && Math.Abs(expected.B - actual.B) <= 3, $"{expected} vs {actual}");
        Assert.NotEqual(before[(320 * 800) + 400], actual);
        Assert.Equal(512, dump.Embedding.Length);
        Assert.Equal(1f, MathF.Sqrt(dump.Embedding.Sum(v => v * v)), 4);
        Assert.Equal(1f, MathF.Sqrt(dump.Latent.Sum(v => v * v)), 4);
        Assert.Equal(3 * 128 * 128, t.RawOutput.Length);
        Assert.Contains("\"detector\": \"scrfd\"", dump.DetectionsJson(), StringComparison.Ordinal);
        Assert.Equal(112, dump.SourceCrop112.Width);
    }

    [Fact]
    public async Task Dump_WritesFiles()
    {
        using var source = Scenes.Squares(640, 640, (288, 192, 64));
        using var result = StandIns.Swapper.Swap(source, source, new FaceSwapRequest { Dump = true });
        var dir = Path.Combine(Path.GetTempPath(), $"miaoya-dump-{Guid.NewGuid():N}");
        try
        {
            await result.Dump!.WriteToAsync(dir);
            Assert.True(File.Exists(Path.Combine(dir, "detections.json")));
            Assert.True(File.Exists(Path.Combine(dir, "target0_mask_128.png")));
            Assert.True(File.Exists(Path.Combine(dir, "latent.json")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Swap_NoFace_OrIndexOutOfRange_IsAFaceSelectionError()
    {
        using var face = Scenes.Squares(640, 640, (288, 192, 64));
        using var empty = new Image<Rgb24>(300, 300);
        var none = Assert.Throws<FaceSelectionException>(() => StandIns.Swapper.Swap(face, empty));
        Assert.Contains("target image: no face", none.Message, StringComparison.Ordinal);
        var index = Assert.Throws<FaceSelectionException>(() => StandIns.Swapper.Swap(face, face, new FaceSwapRequest { TargetFaceIndices = [1] }));
        Assert.Contains("1 face(s)", index.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Swap_SeveralFaces_LargestFirst_AndChosenIndices()
    {
        using var source = Scenes.Squares(640, 640, (288, 192, 64));
        using var target = Scenes.Squares(640, 640, (96, 88, 16), (288, 192, 64));
        using var result = StandIns.Swapper.Swap(source, target, new FaceSwapRequest { TargetFaceIndices = [0, 1] });
        Assert.Equal(64f, result.TargetFaces[0].Size, 0.01f);
        Assert.Equal(16f, result.TargetFaces[1].Size, 0.01f);
        Assert.Equal([0, 1], result.SwappedTargetIndices);
    }

    [Fact]
    public void BlazeFacePath_OnAstronaut_SwapsWithinTheFaceRegion()
    {
        var log = new List<string>();
        using var swapper = FaceSwapper.Create(new FaceSwapModelPaths(StandIns.ArcFace, StandIns.Inswapper), ExecutionDevice.Cpu, log.Add);
        Assert.Contains(log, l => l.Contains("BlazeFace", StringComparison.Ordinal) && l.Contains("coarser", StringComparison.Ordinal));
        Assert.Equal("blazeface", swapper.DetectorName);
        using var astronaut = FaceImages.Load(new Miaoya.Imaging.EncodedImage(File.ReadAllBytes(StandIns.Fixture("astronaut.png"))));
        var before = Scenes.Pixels(astronaut);
        using var result = swapper.Swap(astronaut, astronaut, new FaceSwapRequest { Dump = true });
        var face = Assert.Single(result.TargetFaces);
        var p = face.Points;
        Assert.True(p.ImageLeftEye.X < p.ImageRightEye.X && p.Nose.Y > p.ImageLeftEye.Y && p.ImageLeftMouth.Y > p.Nose.Y);
        var region = result.Dump!.Targets[0].PasteRegion;
        Assert.True(region.Contains(Rectangle.Round(face.Box)) || region.IntersectsWith(Rectangle.Round(face.Box)));
        var after = Scenes.Pixels(result.Image);
        var changed = 0;
        for (var i = 0; i < after.Length; i++)
        {
            var inside = region.Contains(i % astronaut.Width, i / astronaut.Width);
            if (!inside)
            {
                Assert.Equal(before[i], after[i]);
            }
            else if (before[i] != after[i])
            {
                changed++;
            }
        }

        Assert.True(changed > 1000, $"{changed} pixels changed");
        output.WriteLine($"astronaut face {face.Box}, region {region}, changed {changed}");
    }

    [Fact]
    public void Cuda_WithoutCuda_FallsBackToCpu_WithAReason()
    {
        using var options = OnnxSessionFactory.CreateSessionOptions(ExecutionDevice.Parse("cuda:0"), out var reason);
        Assert.NotNull(reason);
        Assert.Contains("cuda:0", reason, StringComparison.Ordinal);
        var log = new List<string>();
        using var embedder = ArcFaceEmbedder.Load(StandIns.ArcFace, ExecutionDevice.Cuda(0), log.Add);
        Assert.Equal(ExecutionDevice.Cpu, embedder.Device);
        Assert.NotNull(embedder.FallbackReason);
        Assert.Single(log);
        using var crop = new Image<Rgb24>(112, 112, new Rgb24(90, 120, 150));
        Assert.Equal(512, embedder.EmbedAligned(crop).Length);
        output.WriteLine(reason);
    }

    [Theory]
    [InlineData("cpu", false, 0)]
    [InlineData("CUDA", true, 0)]
    [InlineData("cuda:3", true, 3)]
    public void ExecutionDevice_Parses(string text, bool cuda, int id)
    {
        var d = ExecutionDevice.Parse(text);
        Assert.Equal(cuda, d.IsCuda);
        Assert.Equal(id, d.DeviceId);
        Assert.Throws<FormatException>(() => ExecutionDevice.Parse("gpu"));
    }

    [Fact]
    public void WrongModelFile_NamesTheFileAndTheExpectedShapes()
    {
        var e = Assert.Throws<InvalidDataException>(() => InswapperModel.Load(StandIns.ArcFace, ExecutionDevice.Cpu));
        Assert.Contains("w600k_r50.onnx is not inswapper_128.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("target [1,3,128,128]", e.Message, StringComparison.Ordinal);
        Assert.Contains("source [1,512]", e.Message, StringComparison.Ordinal);

        var det = Assert.Throws<InvalidDataException>(() => ScrfdDetector.Load(StandIns.Inswapper, ExecutionDevice.Cpu));
        Assert.Contains("det_10g.onnx", det.Message, StringComparison.Ordinal);

        var corrupt = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8]);
        try
        {
            var c = Assert.Throws<InvalidDataException>(() => ArcFaceEmbedder.Load(corrupt, ExecutionDevice.Cpu));
            Assert.Contains(Path.GetFileName(corrupt), c.Message, StringComparison.Ordinal);
            Assert.Contains("[1,3,112,112]", c.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(corrupt);
        }

        Assert.Throws<FileNotFoundException>(() => ArcFaceEmbedder.Load("/nonexistent/w600k_r50.onnx", ExecutionDevice.Cpu));
    }

    [Fact]
    public void Cancellation_TerminatesTheRun_AsOperationCanceled()
    {
        using var model = OnnxModel.Load(StandIns.Det, ModelRegistry.Det10g, ExecutionDevice.Cpu, null);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        using var input = OrtValue.CreateTensorValueFromMemory(new float[3 * 640 * 640], [1, 3, 640, 640]);
        // Run itself does not pre-check the token: the registration sets RunOptions.Terminate and ORT's error is mapped.
        var e = Assert.ThrowsAny<OperationCanceledException>(() => model.Run([input], cts.Token));
        Assert.IsType<OnnxRuntimeException>(e.InnerException);

        using var face = Scenes.Squares(640, 640, (288, 192, 64));
        Assert.ThrowsAny<OperationCanceledException>(() => StandIns.Swapper.Swap(face, face, null, cts.Token));
    }

    [Fact]
    public void LargeTarget_1024x1536_DecodesOneFace()
    {
        // 1024×1536: det_scale = 640/1536; a 154-px square at (691, 461) is ~64 px around the anchor (320, 224).
        // Stage timings for this size are measured in bench/Miaoya.Benchmarks (faceswap), not here.
        using var target = Scenes.Squares(1024, 1536, (691, 461, 154));
        using var source = Scenes.Squares(640, 640, (288, 192, 64));

        using var result = StandIns.Swapper.Swap(source, target);

        Assert.Single(result.TargetFaces);
    }
}
