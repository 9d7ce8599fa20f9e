using System.Diagnostics;

namespace Miaoya.Faces;

/// <summary>
/// Stopwatch ticks spent inside ONNX Runtime's <c>Run</c> on the current thread (<see cref="BlazeFaceModel.Run"/> adds
/// to it), so a caller that times a synchronous <see cref="IFaceDetector.Detect"/> can tell model inference from the
/// detector's own pre- and post-processing: read <see cref="Ticks"/> before and after the call.
/// </summary>
internal static class InferenceClock
{
    [ThreadStatic]
    private static long t_ticks;

    /// <summary>The running total for this thread, in <see cref="Stopwatch"/> ticks.</summary>
    public static long Ticks => t_ticks;

    /// <summary>Adds the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/> value).</summary>
    public static void AddSince(long startTimestamp) => t_ticks += Stopwatch.GetTimestamp() - startTimestamp;
}
