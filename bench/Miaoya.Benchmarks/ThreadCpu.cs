using System.Globalization;

namespace Miaoya.Benchmarks;

/// <summary>
/// CPU time of this process's threads by name, from <c>/proc/self/task</c> (Linux; zero elsewhere): the runtime's tiered
/// compilation thread (".NET Tiered Com") recompiles hot methods for minutes after a start, which a long-running service
/// pays once and a short benchmark pays per job. Threads that end take their time with them, so <see cref="Sample"/>
/// keeps the last value seen per thread; call it now and then (the tiered compilation thread ends when idle).
/// </summary>
internal sealed class ThreadCpu
{
    private const string TieredCompilation = ".NET Tiered Com";
    private readonly Dictionary<int, double> _seen = [];

    /// <summary>Milliseconds the tiered compilation thread(s) have used so far (as last sampled).</summary>
    public double TieredCompilationMs
    {
        get
        {
            Sample();
            return _seen.Values.Sum();
        }
    }

    public void Sample()
    {
        if (!Directory.Exists("/proc/self/task"))
        {
            return;
        }

        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(TieredCompilation, StringComparison.Ordinal))
                {
                    continue;
                }

                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based), in clock ticks of 10 ms.
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                _seen[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = ticks * 10.0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // The thread ended meanwhile.
            }
        }
    }
}
