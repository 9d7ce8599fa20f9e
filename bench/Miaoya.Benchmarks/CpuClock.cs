using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Miaoya.Benchmarks;

/// <summary>
/// This process's CPU time with the kernel's own precision (Linux <c>clock_gettime(CLOCK_PROCESS_CPUTIME_ID)</c>,
/// nanoseconds; every thread, ended ones included); elsewhere <see cref="Process.TotalProcessorTime"/>, which Linux
/// reports in 10 ms ticks.
/// </summary>
internal static partial class CpuClock
{
    private const int ProcessCpuTimeId = 2;

    public static TimeSpan Process
    {
        get
        {
            if (OperatingSystem.IsLinux() && ClockGetTime(ProcessCpuTimeId, out var ts) == 0)
            {
                return TimeSpan.FromTicks((ts.Seconds * TimeSpan.TicksPerSecond) + (ts.Nanoseconds / 100));
            }

            using var process = System.Diagnostics.Process.GetCurrentProcess();
            return process.TotalProcessorTime;
        }
    }

    /// <summary>The calling thread's CPU time (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>); zero elsewhere.</summary>
    public static TimeSpan Thread =>
        OperatingSystem.IsLinux() && ClockGetTime(3, out var ts) == 0
            ? TimeSpan.FromTicks((ts.Seconds * TimeSpan.TicksPerSecond) + (ts.Nanoseconds / 100))
            : TimeSpan.Zero;

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
