using System.Collections.Concurrent;
using Miaoya.FaceSwap;

namespace Miaoya.Pipeline;

/// <summary>
/// One <see cref="FaceSwapper"/> (three ONNX sessions) per model set and device, created on first use, shared by every
/// V3 run (sessions run concurrently) and disposed with the host.
/// </summary>
public sealed class FaceSwapperCache : IDisposable
{
    private readonly ConcurrentDictionary<(string Models, string Device, bool Scrfd), Lazy<FaceSwapper>> _swappers = new();

    /// <summary>The swapper for these models; <paramref name="log"/> receives the notes of the first creation only.</summary>
    public FaceSwapper Get(FaceSwapModelPaths paths, ExecutionDevice device, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var key = (Path.GetFullPath(Path.GetDirectoryName(paths.Inswapper)!), device.ToString(), paths.Detector is not null);
        var lazy = _swappers.GetOrAdd(key, _ => new Lazy<FaceSwapper>(() => FaceSwapper.Create(paths, device, log)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed load (missing or wrong file) is not cached: the next run tries again.
            _swappers.TryRemove(key, out _);
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var swapper in _swappers.Values.Where(l => l.IsValueCreated))
        {
            swapper.Value.Dispose();
        }

        _swappers.Clear();
    }
}
