using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.FaceSwap;

/// <summary>
/// ArcFace w600k_r50 (deepinsight/insightface v0.7 python-package/insightface/model_zoo/arcface_onnx.py, ArcFaceONNX:
/// mean/std 127.5 at :39-41, norm_crop and flatten at :65-67): the face aligned to the 112×112 arcface_dst template,
/// RGB NCHW with (p − 127.5)/127.5, output [1,512], L2-normalised. One session; thread-safe.
/// </summary>
public sealed class ArcFaceEmbedder : IDisposable
{
    /// <summary>Embedding length.</summary>
    public const int EmbeddingLength = 512;

    private readonly OnnxModel _model;

    private ArcFaceEmbedder(OnnxModel model) => _model = model;

    /// <summary>Where the model runs.</summary>
    public ExecutionDevice Device => _model.Device;

    /// <summary>Why CUDA was not used, when it was asked for.</summary>
    public string? FallbackReason => _model.FallbackReason;

    /// <summary>Loads w600k_r50.onnx and checks its signature (<see cref="ModelRegistry.ArcFace"/>).</summary>
    public static ArcFaceEmbedder Load(string path, ExecutionDevice device, Action<string>? log = null) =>
        new(OnnxModel.Load(path, ModelRegistry.ArcFace, device, log));

    /// <summary>Aligns <paramref name="face"/> to 112×112 and returns its unit-length embedding.</summary>
    public float[] Embed(Image<Rgb24> image, Face5 face, CancellationToken cancellationToken = default)
    {
        using var crop = FaceAlignment.Warp(image, FaceAlignment.EstimateNorm(face, FaceAlignment.ArcFaceSize), FaceAlignment.ArcFaceSize);
        return Normalize(EmbedAligned(crop, cancellationToken));
    }

    /// <summary>The raw (not normalised) embedding of an already aligned 112×112 crop.</summary>
    public float[] EmbedAligned(Image<Rgb24> crop112, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crop112);
        if (crop112.Width != FaceAlignment.ArcFaceSize || crop112.Height != FaceAlignment.ArcFaceSize)
        {
            throw new ArgumentException($"expected a 112×112 crop, got {crop112.Width}×{crop112.Height}.", nameof(crop112));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var input = ToTensor(crop112, 127.5f, 127.5f);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 112, 112]);
        using var outputs = _model.Run([value], cancellationToken);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// v / ‖v‖₂ (insightface <c>Face.normed_embedding</c>, deepinsight/insightface v0.7
    /// python-package/insightface/app/common.py:40). Throws for a zero vector.
    /// </summary>
    public static float[] Normalize(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (var x in v)
        {
            sum += (double)x * x;
        }

        var norm = Math.Sqrt(sum);
        if (!(norm > 0) || double.IsInfinity(norm))
        {
            throw new InvalidOperationException($"cannot normalise a vector of norm {norm}.");
        }

        var result = new float[v.Length];
        for (var i = 0; i < v.Length; i++)
        {
            result[i] = (float)(v[i] / norm);
        }

        return result;
    }

    /// <summary>NCHW RGB float tensor (p − mean)/std of a square crop.</summary>
    internal static float[] ToTensor(Image<Rgb24> crop, float mean, float std)
    {
        var t = new float[3 * crop.Width * crop.Width];
        ToTensor(crop, mean, std, t);
        return t;
    }

    /// <summary>As <see cref="ToTensor(Image{Rgb24}, float, float)"/>, into <paramref name="t"/> (3 · side² values).</summary>
    internal static void ToTensor(Image<Rgb24> crop, float mean, float std, float[] t)
    {
        var size = crop.Width;
        var plane = size * size;
        ArgumentOutOfRangeException.ThrowIfNotEqual(t.Length, 3 * plane);
        crop.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    var i = (y * size) + x;
                    t[i] = (row[x].R - mean) / std;
                    t[plane + i] = (row[x].G - mean) / std;
                    t[(2 * plane) + i] = (row[x].B - mean) / std;
                }
            }
        });
    }

    /// <summary>Disposes the session.</summary>
    public void Dispose() => _model.Dispose();
}
