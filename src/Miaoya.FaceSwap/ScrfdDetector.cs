using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.FaceSwap;

/// <summary>
/// SCRFD (insightface <c>det_10g.onnx</c>, as deepinsight/insightface v0.7
/// python-package/insightface/model_zoo/scrfd.py runs it). The image is letterboxed top-left into 640×640 keeping its
/// aspect (pad right/bottom with black), as RGB (insightface swaps its BGR to RGB, scrfd.py:154; ImageSharp is already
/// RGB) with (p − 127.5)/128; large images are thereby detected on a downscaled copy and
/// the coordinates mapped back through det_scale. One session, created once; <see cref="Detect"/> is thread-safe.
/// </summary>
public sealed class ScrfdDetector : IDisposable
{
    /// <summary>
    /// insightface det_size (FaceAnalysis.prepare, insightface v0.7
    /// python-package/insightface/app/face_analysis.py:47).
    /// </summary>
    public const int InputSize = 640;

    /// <summary>Strides of the three feature maps (scrfd.py:118-122).</summary>
    internal static readonly int[] Strides = [8, 16, 32];

    /// <summary>Anchors per cell (scrfd.py:118-122).</summary>
    internal const int AnchorsPerCell = 2;

    private readonly OnnxModel _model;

    private ScrfdDetector(OnnxModel model, float scoreThreshold, float nmsThreshold)
    {
        _model = model;
        ScoreThreshold = scoreThreshold;
        NmsThreshold = nmsThreshold;
    }

    /// <summary>det_thresh, kept when score ≥ it (scrfd.py:85, 206).</summary>
    public float ScoreThreshold { get; }

    /// <summary>IoU above which NMS drops a box (scrfd.py:84, 300).</summary>
    public float NmsThreshold { get; }

    /// <summary>Where the model runs.</summary>
    public ExecutionDevice Device => _model.Device;

    /// <summary>Why CUDA was not used, when it was asked for.</summary>
    public string? FallbackReason => _model.FallbackReason;

    /// <summary>Loads det_10g.onnx and checks its signature (<see cref="ModelRegistry.Det10g"/>).</summary>
    public static ScrfdDetector Load(string path, ExecutionDevice device, Action<string>? log = null, float scoreThreshold = 0.5f, float nmsThreshold = 0.4f) =>
        new(OnnxModel.Load(path, ModelRegistry.Det10g, device, log), scoreThreshold, nmsThreshold);

    /// <summary>
    /// Faces in source pixels, highest score first (NMS order, scrfd.py:241-248). Empty when there is none.
    /// </summary>
    public IReadOnlyList<SwapFace> Detect(Image<Rgb24> image, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        cancellationToken.ThrowIfCancellationRequested();
        var letterbox = ScrfdLetterbox.For(image.Width, image.Height, InputSize);
        var input = new float[3 * InputSize * InputSize];
        letterbox.Fill(image, input);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, InputSize, InputSize]);
        using var outputs = _model.Run([inputValue], cancellationToken);
        var candidates = new List<ScrfdCandidate>();
        for (var i = 0; i < Strides.Length; i++)
        {
            ScrfdDecoder.Decode(
                outputs[i].GetTensorDataAsSpan<float>(),
                outputs[i + 3].GetTensorDataAsSpan<float>(),
                outputs[i + 6].GetTensorDataAsSpan<float>(),
                Strides[i], InputSize, ScoreThreshold, letterbox.DetScale, candidates, _model.FileName);
        }

        return ScrfdDecoder.Nms(candidates, NmsThreshold).ConvertAll(c => c.ToFace());
    }

    /// <summary>Disposes the session.</summary>
    public void Dispose() => _model.Dispose();
}

/// <summary>
/// insightface's detection letterbox (scrfd.py:224-235, SCRFD.detect): im_ratio = h/w; if im_ratio &gt; 1 then new_h =
/// 640, new_w = int(640/im_ratio) else new_w = 640, new_h = int(640·im_ratio); det_scale = new_h / h; content at the
/// top left.
/// </summary>
internal readonly record struct ScrfdLetterbox(int NewWidth, int NewHeight, double DetScale, int Size)
{
    public static ScrfdLetterbox For(int width, int height, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var imRatio = (double)height / width;
        int newW, newH;
        if (imRatio > 1.0)
        {
            newH = size;
            newW = Math.Max(1, (int)(newH / imRatio));
        }
        else
        {
            newW = size;
            newH = Math.Max(1, (int)(newW * imRatio));
        }

        return new ScrfdLetterbox(newW, newH, (double)newH / height, size);
    }

    /// <summary>
    /// Writes the NCHW RGB tensor, (p − 127.5)/128, padding black (−127.5/128). Resizing uses ImageSharp's Triangle
    /// (bilinear) resampler; unlike cv2.resize it also filters when downscaling (less aliasing on big images), so
    /// scores can differ slightly from insightface's.
    /// </summary>
    public void Fill(Image<Rgb24> image, float[] tensor)
    {
        const float pad = -127.5f / 128f;
        Array.Fill(tensor, pad);
        var (w, h, size) = (NewWidth, NewHeight, Size);
        var resized = image.Width == w && image.Height == h ? image : image.Clone(c => c.Resize(w, h, KnownResamplers.Triangle));
        try
        {
            var plane = size * size;
            resized.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    var o = y * size;
                    for (var x = 0; x < row.Length; x++)
                    {
                        var p = row[x];
                        tensor[o + x] = (p.R - 127.5f) / 128f;
                        tensor[plane + o + x] = (p.G - 127.5f) / 128f;
                        tensor[(2 * plane) + o + x] = (p.B - 127.5f) / 128f;
                    }
                }
            });
        }
        finally
        {
            if (!ReferenceEquals(resized, image))
            {
                resized.Dispose();
            }
        }
    }
}

/// <summary>A decoded SCRFD box with its five key points, in source pixels.</summary>
internal sealed record ScrfdCandidate(float X1, float Y1, float X2, float Y2, float Score, float[] Kps)
{
    public SwapFace ToFace()
    {
        var points = new PointF[Face5.Count];
        for (var k = 0; k < points.Length; k++)
        {
            points[k] = new PointF(Kps[2 * k], Kps[(2 * k) + 1]);
        }

        return new SwapFace(new RectangleF(X1, Y1, X2 - X1, Y2 - Y1), Face5.FromPoints(points), Score);
    }
}

/// <summary>
/// SCRFD anchor decoding and NMS (insightface v0.7 model_zoo/scrfd.py:149-218 SCRFD.forward, 275-303 SCRFD.nms).
/// </summary>
internal static class ScrfdDecoder
{
    /// <summary>
    /// Appends the anchors of one stride with score ≥ <paramref name="threshold"/>. Anchor i: cell i / 2 in row-major
    /// order (y outer), centre (x·s, y·s) with no +0.5; distances are in stride units (distance2bbox / distance2kps);
    /// results are divided by det_scale.
    /// </summary>
    public static void Decode(
        ReadOnlySpan<float> scores, ReadOnlySpan<float> boxes, ReadOnlySpan<float> kps, int stride, int inputSize, float threshold,
        double detScale, List<ScrfdCandidate> into, string modelName)
    {
        var cols = inputSize / stride;
        var count = cols * (inputSize / stride) * ScrfdDetector.AnchorsPerCell;
        if (scores.Length != count || boxes.Length != 4 * count || kps.Length != 10 * count)
        {
            throw new InvalidDataException(
                $"{modelName}: stride {stride} outputs have {scores.Length}/{boxes.Length}/{kps.Length} values, expected {count}/{4 * count}/{10 * count} " +
                $"for a {inputSize}×{inputSize} input with {ScrfdDetector.AnchorsPerCell} anchors per cell.");
        }

        var inv = (float)(1.0 / detScale);
        for (var i = 0; i < count; i++)
        {
            var score = scores[i];
            if (!(score >= threshold))
            {
                continue;
            }

            var cell = i / ScrfdDetector.AnchorsPerCell;
            float cx = cell % cols * stride, cy = cell / cols * stride;
            var b = boxes.Slice(4 * i, 4);
            var k = kps.Slice(10 * i, 10);
            var points = new float[10];
            for (var j = 0; j < 5; j++)
            {
                points[2 * j] = (cx + (k[2 * j] * stride)) * inv;
                points[(2 * j) + 1] = (cy + (k[(2 * j) + 1] * stride)) * inv;
            }

            into.Add(new ScrfdCandidate(
                (cx - (b[0] * stride)) * inv, (cy - (b[1] * stride)) * inv, (cx + (b[2] * stride)) * inv, (cy + (b[3] * stride)) * inv, score, points));
        }
    }

    /// <summary>
    /// Greedy NMS, highest score first, insightface's legacy +1 areas, keep while IoU ≤ threshold (scrfd.py:283-301).
    /// </summary>
    public static List<ScrfdCandidate> Nms(List<ScrfdCandidate> candidates, float threshold)
    {
        var order = candidates.Select((c, i) => (c, i)).OrderByDescending(t => t.c.Score).ThenBy(t => t.i).Select(t => t.c).ToList();
        var kept = new List<ScrfdCandidate>();
        var removed = new bool[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            if (removed[i])
            {
                continue;
            }

            var a = order[i];
            kept.Add(a);
            var areaA = (a.X2 - a.X1 + 1) * (a.Y2 - a.Y1 + 1);
            for (var j = i + 1; j < order.Count; j++)
            {
                if (removed[j])
                {
                    continue;
                }

                var b = order[j];
                var w = MathF.Max(0, MathF.Min(a.X2, b.X2) - MathF.Max(a.X1, b.X1) + 1);
                var h = MathF.Max(0, MathF.Min(a.Y2, b.Y2) - MathF.Max(a.Y1, b.Y1) + 1);
                var inter = w * h;
                var areaB = (b.X2 - b.X1 + 1) * (b.Y2 - b.Y1 + 1);
                if (inter / (areaA + areaB - inter) > threshold)
                {
                    removed[j] = true;
                }
            }
        }

        return kept;
    }
}
