using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Miaoya.FaceSwap;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Likeness;

/// <summary>
/// A face-recognition model that turns an aligned face into a unit-length embedding: OpenCV Zoo SFace (default) or
/// insightface's ArcFace w600k_r50. One ONNX Runtime session, created and signature-checked once; thread-safe.
/// <para>
/// Both models take the face aligned by a 5-point similarity to the same 112×112 template (insightface's
/// <c>arcface_dst</c>; OpenCV's FaceRecognizerSF::alignCrop uses the identical points and warpAffine INTER_LINEAR at
/// 112×112, opencv/opencv@0692bb41f5afd79dd8c0d943ddf42a0b87397ab8:modules/objdetect/src/face_recognize.cpp:42-55,80),
/// computed by <see cref="FaceAlignment"/>. They differ in the input values: SFace gets raw RGB 0–255, ArcFace
/// (p − 127.5)/127.5.
/// </para>
/// </summary>
public sealed class FaceScorer : IDisposable
{
    [ThreadStatic]
    private static float[]? t_input;

    private readonly OnnxModel _model;
    private readonly float _mean;
    private readonly float _std;

    private FaceScorer(OnnxModel model, ScorerKind kind)
    {
        _model = model;
        Kind = kind;
        (_mean, _std) = kind == ScorerKind.SFace ? (0f, 1f) : (127.5f, 127.5f);
        EmbeddingLength = (int)model.Spec.Outputs[0].Dims[1];
    }

    /// <summary>Which model this is.</summary>
    public ScorerKind Kind { get; }

    /// <summary>The model file as given to <see cref="Load"/>.</summary>
    public string ModelFile => _model.Path;

    /// <summary>True for insightface's ArcFace: "non-commercial research purposes only".</summary>
    public bool NonCommercial => Kind == ScorerKind.ArcFace;

    /// <summary>The model's licence, as recorded with its signature.</summary>
    public string Licence => _model.Spec.Licence;

    /// <summary>Where the model comes from.</summary>
    public string Source => _model.Spec.Source;

    /// <summary>Embedding length: 128 (SFace) or 512 (ArcFace).</summary>
    public int EmbeddingLength { get; }

    /// <summary>Where the model actually runs (the CPU when CUDA was asked for but could not load).</summary>
    public ExecutionDevice Device => _model.Device;

    /// <summary>Why CUDA was not used although it was asked for; null otherwise.</summary>
    public string? FallbackReason => _model.FallbackReason;

    /// <summary>True when the model is one of the repository's stand-ins (not SFace or ArcFace: its figures say nothing about real faces).</summary>
    public bool IsStandIn => _model.IsStandIn;

    /// <summary>The file name the model is distributed under: face_recognition_sface_2021dec.onnx or w600k_r50.onnx.</summary>
    public static string DefaultFileName(ScorerKind kind) => ScorerModels.For(kind).FileName;

    /// <summary>Where users get the model and on what terms, in a phrase for messages.</summary>
    public static string Origin(ScorerKind kind) => kind == ScorerKind.SFace
        ? "OpenCV Zoo's SFace (Apache-2.0): https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface"
        : "insightface's buffalo_l pack (non-commercial research only)";

    /// <summary>
    /// Loads <paramref name="modelPath"/> as <paramref name="kind"/> and checks its inputs and outputs. Throws
    /// <see cref="FileNotFoundException"/> when the file is missing, <see cref="InvalidDataException"/> naming the file
    /// and the expected and actual signatures when it is not that model, and <see cref="InvalidOperationException"/> for
    /// ArcFace when <c>MIAOYA_DISABLE_INSIGHTFACE</c> is set. Loading ArcFace logs insightface's licence notice; a CUDA
    /// fallback is logged too.
    /// </summary>
    public static FaceScorer Load(string modelPath, ScorerKind kind, ExecutionDevice device, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        var spec = ScorerModels.For(kind);
        if (kind == ScorerKind.ArcFace && ScorerModels.InsightfaceDisabled)
        {
            throw new InvalidOperationException(
                $"ArcFace scoring is disabled on this deployment ({ScorerModels.DisableInsightfaceVariable}): insightface's {spec.FileName} " +
                "is for non-commercial research only. Score with SFace (face_recognition_sface_2021dec.onnx, Apache-2.0) instead.");
        }

        var model = OnnxModel.Load(modelPath, spec, device, log);
        if (kind == ScorerKind.ArcFace)
        {
            log?.Invoke(ModelRegistry.LicenceNotice);
        }

        return new FaceScorer(model, kind);
    }

    /// <summary>
    /// Aligns <paramref name="face"/> to 112×112, runs the model and returns the unit-length embedding;
    /// <paramref name="inferenceTicks"/> gets the <see cref="Stopwatch"/> ticks of the model run added.
    /// </summary>
    internal float[] Embed(Image<Rgb24> image, Face5 face, ref long inferenceTicks, CancellationToken cancellationToken)
    {
        using var crop = FaceAlignment.Warp(image, FaceAlignment.EstimateNorm(face, FaceAlignment.ArcFaceSize), FaceAlignment.ArcFaceSize);
        return EmbedAligned(crop, ref inferenceTicks, cancellationToken);
    }

    /// <summary>The unit-length embedding of a face already aligned to 112×112.</summary>
    internal float[] EmbedAligned(Image<Rgb24> crop112, ref long inferenceTicks, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // This thread's tensor, reused: a new 150 KB one per face went to the large object heap (bench likeness, GC counts).
        var input = t_input ??= new float[3 * FaceAlignment.ArcFaceSize * FaceAlignment.ArcFaceSize];
        ArcFaceEmbedder.ToTensor(crop112, _mean, _std, input);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, FaceAlignment.ArcFaceSize, FaceAlignment.ArcFaceSize]);
        var start = Stopwatch.GetTimestamp();
        float[] raw;
        using (var outputs = _model.Run([value], cancellationToken))
        {
            inferenceTicks += Stopwatch.GetTimestamp() - start;
            raw = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        return Embeddings.Normalize(raw, _model.FileName);
    }

    /// <summary>Disposes the session.</summary>
    public void Dispose() => _model.Dispose();
}
