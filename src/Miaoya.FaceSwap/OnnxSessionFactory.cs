using Microsoft.ML.OnnxRuntime;

namespace Miaoya.FaceSwap;

/// <summary>
/// Session options for <c>--device cpu|cuda[:N]</c>, with a CPU fallback when CUDA cannot load: ONNX
/// Runtime's C# API has none of its own (microsoft/onnxruntime
/// csharp/src/Microsoft.ML.OnnxRuntime/SessionOptions.shared.cs, AppendExecutionProvider_CUDA, throws
/// OnnxRuntimeException through NativeApiStatus.VerifySuccess).
/// </summary>
public static class OnnxSessionFactory
{
    /// <summary>
    /// Options for <paramref name="device"/>. For CUDA, tries <c>AppendExecutionProvider_CUDA(id)</c>; when that throws
    /// (the GPU package on a machine without the CUDA libraries throws here) the options are CPU options and
    /// <paramref name="fallbackReason"/> says why. ORT logs at ERROR only. The caller disposes the result.
    /// </summary>
    public static SessionOptions CreateSessionOptions(ExecutionDevice device, out string? fallbackReason, int intraOpThreads = 0)
    {
        fallbackReason = null;
        var options = NewOptions(intraOpThreads);
        if (!device.IsCuda)
        {
            return options;
        }

        try
        {
            options.AppendExecutionProvider_CUDA(device.DeviceId);
            return options;
        }
        catch (OnnxRuntimeException e)
        {
            // The same options would still work for a CPU session (seen with ORT 1.31), but start clean.
            options.Dispose();
            fallbackReason = $"{device} unavailable, running on the CPU: {FirstLine(e.Message)}";
            return NewOptions(intraOpThreads);
        }
    }

    /// <summary>
    /// A session for <paramref name="path"/> on <paramref name="device"/>, falling back to the CPU when CUDA cannot be
    /// appended or the CUDA session cannot be created (no device: the CUDA provider's constructor calls cudaSetDevice
    /// and throws, microsoft/onnxruntime onnxruntime/core/providers/cuda/cuda_execution_provider.cc). A file ONNX
    /// Runtime cannot load gives an <see cref="InvalidDataException"/> naming the file and <paramref name="spec"/>'s
    /// signature.
    /// </summary>
    internal static (InferenceSession Session, ExecutionDevice Device, string? FallbackReason) CreateSession(
        string path, ModelSpec spec, ExecutionDevice device, int intraOpThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{spec.FileName} ({spec.Task}) not found at {path}.", path);
        }

        var options = CreateSessionOptions(device, out var reason, intraOpThreads);
        var actual = reason is null ? device : ExecutionDevice.Cpu;
        try
        {
            try
            {
                return (new InferenceSession(path, options), actual, reason);
            }
            catch (OnnxRuntimeException e) when (actual.IsCuda)
            {
                options.Dispose();
                options = NewOptions(intraOpThreads);
                reason = $"{device} session failed, running on the CPU: {FirstLine(e.Message)}";
                return (new InferenceSession(path, options), ExecutionDevice.Cpu, reason);
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException(
                $"{Path.GetFileName(path)}: ONNX Runtime cannot load it as {spec.FileName} ({spec.Task}; expected {spec.Signature}): {FirstLine(e.Message)}", e);
        }
        finally
        {
            options.Dispose();
        }
    }

    private static SessionOptions NewOptions(int intraOpThreads) => new()
    {
        // ERROR only: ORT warns about unused initializers etc. at load (onnxruntime/core/graph/graph.cc,
        // Graph::CleanUnusedInitializersAndNodeArgs).
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        IntraOpNumThreads = intraOpThreads,
    };

    private static string FirstLine(string message)
    {
        var i = message.IndexOf('\n', StringComparison.Ordinal);
        return (i < 0 ? message : message[..i]).Trim();
    }
}

/// <summary>
/// One ONNX model: one session, created once, checked against its <see cref="ModelSpec"/>, disposed with its owner.
/// <see cref="Run"/> is thread-safe (ORT sessions are; every call has its own values and RunOptions).
/// </summary>
internal sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;

    private OnnxModel(InferenceSession session, string path, ModelSpec spec, ExecutionDevice device, string? fallbackReason)
    {
        _session = session;
        Path = path;
        Spec = spec;
        Device = device;
        FallbackReason = fallbackReason;
        InputNames = [.. session.InputNames];
        OutputNames = [.. session.OutputNames];
    }

    public string Path { get; }

    public string FileName => System.IO.Path.GetFileName(Path);

    public ModelSpec Spec { get; }

    /// <summary>Where it actually runs.</summary>
    public ExecutionDevice Device { get; }

    /// <summary>Why it runs on the CPU although CUDA was asked for; null otherwise.</summary>
    public string? FallbackReason { get; }

    /// <summary>
    /// True for the repository's tiny stand-in models (their ONNX producer_name is "miaoya-stand-in", set by the
    /// generator scripts), so reports can say that their figures mean nothing about real faces.
    /// </summary>
    public bool IsStandIn => string.Equals(_session.ModelMetadata.ProducerName, ModelRegistry.StandInProducer, StringComparison.Ordinal);

    /// <summary>Input names in model order (inputs are fed by position, as insightface does).</summary>
    public IReadOnlyList<string> InputNames { get; }

    public IReadOnlyList<string> OutputNames { get; }

    public static OnnxModel Load(string path, ModelSpec spec, ExecutionDevice device, Action<string>? log, int intraOpThreads = 0)
    {
        var (session, actual, reason) = OnnxSessionFactory.CreateSession(path, spec, device, intraOpThreads);
        try
        {
            ModelRegistry.CheckSignature(session, spec, path);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        if (reason is not null)
        {
            log?.Invoke($"{System.IO.Path.GetFileName(path)}: {reason}");
        }

        return new OnnxModel(session, path, spec, actual, reason);
    }

    /// <summary>
    /// Runs the model. Cancellation sets <c>RunOptions.Terminate</c> (the registration is disposed after the run) and
    /// ORT's terminate error becomes an <see cref="OperationCanceledException"/>. The caller disposes the outputs.
    /// </summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(IReadOnlyCollection<OrtValue> inputs, CancellationToken cancellationToken)
    {
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(static o => ((RunOptions)o!).Terminate = true, runOptions);
        try
        {
            return _session.Run(runOptions, InputNames, inputs, OutputNames);
        }
        catch (OnnxRuntimeException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"{FileName}: run cancelled.", e, cancellationToken);
        }
    }

    public void Dispose() => _session.Dispose();
}
