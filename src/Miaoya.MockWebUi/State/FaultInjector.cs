namespace Miaoya.MockWebUi;

/// <summary>The faults armed with <see cref="MockWebUiServer.AddFault"/>, checked in the order added; its own lock.</summary>
internal sealed class FaultInjector(MockRandom random)
{
    private readonly Lock _gate = new();
    private readonly List<ArmedFault> _faults = [];

    public void Add(MockFault fault)
    {
        lock (_gate)
        {
            _faults.Add(new ArmedFault(fault));
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    /// <summary>The first fault on <paramref name="path"/> (trailing slash ignored) with hits left that its rate lets through, counted as hit; null when none.</summary>
    public MockFault? Take(string path)
    {
        lock (_gate)
        {
            foreach (var f in _faults)
            {
                var faultPath = f.Fault.Path.Length > 1 ? f.Fault.Path.TrimEnd('/') : f.Fault.Path;
                if (!string.Equals(faultPath, path, StringComparison.Ordinal) || f.Fault.Times is { } t && f.Hits >= t)
                {
                    continue;
                }

                if (f.Fault.Rate < 1.0 && random.NextDouble() >= f.Fault.Rate)
                {
                    continue;
                }

                f.Hits++;
                return f.Fault;
            }
        }

        return null;
    }

    private sealed class ArmedFault(MockFault fault)
    {
        public MockFault Fault { get; } = fault;

        public int Hits { get; set; }
    }
}
