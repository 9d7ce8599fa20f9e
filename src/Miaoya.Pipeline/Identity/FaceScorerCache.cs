using System.Collections.Concurrent;
using Miaoya.FaceSwap;
using Miaoya.Likeness;

namespace Miaoya.Pipeline;

/// <summary>One <see cref="FaceScorer"/> (one ONNX session) per model file, kind and device, made on first use and shared by every run.</summary>
internal sealed class FaceScorerCache : IDisposable
{
    private readonly ConcurrentDictionary<(string Path, ScorerKind Kind, string Device), Lazy<FaceScorer>> _scorers = new();

    public FaceScorer Get(string path, ScorerKind kind, ExecutionDevice device, Action<string> log)
    {
        var key = (Path.GetFullPath(path), kind, device.ToString());
        var lazy = _scorers.GetOrAdd(key, k => new Lazy<FaceScorer>(() => FaceScorer.Load(k.Path, kind, device, log)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _scorers.TryRemove(key, out _);
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var scorer in _scorers.Values.Where(l => l.IsValueCreated))
        {
            scorer.Value.Dispose();
        }

        _scorers.Clear();
    }
}
