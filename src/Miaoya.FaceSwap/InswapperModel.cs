using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.FaceSwap;

/// <summary>
/// insightface inswapper_128 (deepinsight/insightface v0.7 python-package/insightface/model_zoo/inswapper.py:46-56,
/// INSwapper.get). Inputs by position, as insightface feeds them: 0 = target, the
/// 128×128 crop aligned to arcface_dst + (8, 0), RGB NCHW p/255; 1 = source, the latent [1,512]. Output [1,3,128,128]
/// RGB in [0,1] (clip, ×255, truncate). <see cref="Emap"/> is the model file's LAST graph initializer, read from the
/// protobuf without a second session.
/// </summary>
public sealed class InswapperModel : IDisposable
{
    /// <summary>Crop size.</summary>
    public const int Size = FaceAlignment.InswapperSize;

    private readonly OnnxModel _model;
    private readonly float[] _emap;

    private InswapperModel(OnnxModel model, float[] emap)
    {
        _model = model;
        _emap = emap;
    }

    /// <summary>emap, 512×512 row-major (emap[i, j] at i·512 + j).</summary>
    public ReadOnlyMemory<float> Emap => _emap;

    /// <summary>Where the model runs.</summary>
    public ExecutionDevice Device => _model.Device;

    /// <summary>Why CUDA was not used, when it was asked for.</summary>
    public string? FallbackReason => _model.FallbackReason;

    /// <summary>Loads inswapper_128.onnx, checks its signature and reads emap.</summary>
    public static InswapperModel Load(string path, ExecutionDevice device, Action<string>? log = null)
    {
        var model = OnnxModel.Load(path, ModelRegistry.Inswapper, device, log);
        try
        {
            return new InswapperModel(model, ReadEmap(path));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The last initializer of <paramref name="path"/>, checked to be float [512,512] (insightface's emap,
    /// inswapper.py:18).
    /// </summary>
    internal static float[] ReadEmap(string path)
    {
        var init = OnnxInitializerReader.ReadLastInitializer(path);
        if (init.Dims is not [512, 512])
        {
            throw new InvalidDataException(
                $"{Path.GetFileName(path)}: the last initializer '{init.Name}' has dims {TensorSpec.FormatDims(init.Dims)}; inswapper's emap is [512,512].");
        }

        return init.Data;
    }

    /// <summary>
    /// insightface's latent (inswapper.py:50-52): e = embedding/‖embedding‖ as a row vector, latent = e·emap
    /// (latent[j] = Σᵢ e[i]·emap[i, j], not transposed), then latent/‖latent‖.
    /// </summary>
    public float[] ComputeLatent(ReadOnlySpan<float> embedding) => ComputeLatent(embedding, _emap);

    internal static float[] ComputeLatent(ReadOnlySpan<float> embedding, ReadOnlySpan<float> emap)
    {
        if (embedding.Length != 512 || emap.Length != 512 * 512)
        {
            throw new ArgumentException($"expected a 512-d embedding and a 512×512 emap, got {embedding.Length} and {emap.Length} values.");
        }

        var e = ArcFaceEmbedder.Normalize(embedding);
        var latent = new double[512];
        for (var i = 0; i < 512; i++)
        {
            var ei = (double)e[i];
            if (ei == 0)
            {
                continue;
            }

            var row = emap.Slice(i * 512, 512);
            for (var j = 0; j < 512; j++)
            {
                latent[j] += ei * row[j];
            }
        }

        return ArcFaceEmbedder.Normalize([.. latent.Select(v => (float)v)]);
    }

    /// <summary>Runs the swapper on an aligned 128×128 crop; returns the raw NCHW output (RGB, nominally [0,1]).</summary>
    public float[] Run(Image<Rgb24> crop128, ReadOnlySpan<float> latent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crop128);
        if (crop128.Width != Size || crop128.Height != Size)
        {
            throw new ArgumentException($"expected a 128×128 crop, got {crop128.Width}×{crop128.Height}.", nameof(crop128));
        }

        if (latent.Length != 512)
        {
            throw new ArgumentException($"expected a 512-d latent, got {latent.Length}.", nameof(latent));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var target = ArcFaceEmbedder.ToTensor(crop128, 0f, 255f);
        using var targetValue = OrtValue.CreateTensorValueFromMemory(target, [1, 3, Size, Size]);
        using var sourceValue = OrtValue.CreateTensorValueFromMemory(latent.ToArray(), [1, 512]);
        using var outputs = _model.Run([targetValue, sourceValue], cancellationToken);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// Raw NCHW output → RGB image: clip to [0,1], ×255, truncate (astype(uint8), inswapper.py:55-56); no channel flip.
    /// </summary>
    public static Image<Rgb24> ToImage(float[] output)
    {
        ArgumentNullException.ThrowIfNull(output);
        const int plane = Size * Size;
        if (output.Length != 3 * plane)
        {
            throw new ArgumentException($"expected {3 * plane} values, got {output.Length}.", nameof(output));
        }

        var pixels = new Rgb24[plane];
        for (var i = 0; i < plane; i++)
        {
            pixels[i] = new Rgb24(Byte(output[i]), Byte(output[plane + i]), Byte(output[(2 * plane) + i]));
        }

        return Image.LoadPixelData<Rgb24>(pixels, Size, Size);

        static byte Byte(float v) => (byte)Math.Clamp(255f * (float.IsNaN(v) ? 0f : v), 0f, 255f);
    }

    /// <summary>Disposes the session.</summary>
    public void Dispose() => _model.Dispose();
}
