using Miaoya.Limits;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;

namespace Miaoya.Imaging;

/// <summary>
/// How images use memory in this process. <see cref="UseBoundedPool"/> gives ImageSharp a small retained pool and a cap
/// on any single buffer (ImageSharp 2.1's <c>MemoryAllocatorOptions</c>: <c>MaximumPoolSizeMegabytes</c>,
/// <c>AllocationLimitMegabytes</c>), so memory used by a burst of large images goes back after it; <see cref="Decoding"/>
/// is the configuration untrusted bytes are decoded with: PNG, JPEG and WebP decoders only, on that allocator.
/// </summary>
public static class ImageMemory
{
    private static readonly Lock Gate = new();
    private static Configuration? decoding;
    private static bool installed;

    /// <summary>
    /// The configuration for decoding untrusted images: only the formats we promise (a GIF, BMP or TIFF is refused by
    /// ImageSharp itself, not just by our signature check), on the bounded allocator.
    /// </summary>
    public static Configuration Decoding
    {
        get
        {
            lock (Gate)
            {
                return decoding ??= new Configuration(new PngConfigurationModule(), new JpegConfigurationModule(), new WebpConfigurationModule())
                {
                    MemoryAllocator = Allocator(),
                };
            }
        }
    }

    /// <summary>
    /// Makes ImageSharp's default configuration (every <c>new Image&lt;T&gt;</c>, every processor) use the bounded allocator.
    /// Composition roots call it once at start (the CLI, the server, the mock); calling it again changes nothing.
    /// </summary>
    public static void UseBoundedPool()
    {
        lock (Gate)
        {
            if (!installed)
            {
                Configuration.Default.MemoryAllocator = Allocator();
                installed = true;
            }
        }
    }

    /// <summary>
    /// Gives memory that a burst of images left behind back to the system: ImageSharp's retained buffers, the managed
    /// heap (one aggressive, compacting collection, which also decommits free space), and the C allocator's free pages
    /// (glibc's <c>malloc_trim</c>, which ImageSharp's unmanaged buffers come from). Call it when idle: it blocks for the
    /// collection. <see cref="DecodeBudget"/> says when images were last decoded.
    /// </summary>
    public static void GiveBack()
    {
        Configuration.Default.MemoryAllocator.ReleaseRetainedResources();
        Decoding.MemoryAllocator.ReleaseRetainedResources();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = NativeMethods.malloc_trim(0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (musl, for one): nothing to trim this way.
            }
        }
    }

    /// <summary>
    /// Until <paramref name="cancellationToken"/> is cancelled: whenever <paramref name="activity"/> has counted work since
    /// the last give-back, nothing is busy, and nothing new happened for <paramref name="idle"/>, calls <see cref="GiveBack"/>
    /// once. A server runs it beside its work so that memory taken by a burst goes back after it.
    /// </summary>
    public static async Task GiveBackWhenIdleAsync(Func<(long Count, bool Busy)> activity, TimeSpan idle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var (seen, _) = activity();
        var given = seen;
        var quietSince = Environment.TickCount64;
        using var timer = new PeriodicTimer(idle / 4);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var (count, busy) = activity();
                if (count != seen || busy)
                {
                    (seen, quietSince) = (count, Environment.TickCount64);
                }
                else if (count != given && Environment.TickCount64 - quietSince >= idle.TotalMilliseconds)
                {
                    GiveBack();
                    given = count;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static MemoryAllocator Allocator() => MemoryAllocator.Create(new MemoryAllocatorOptions
    {
        MaximumPoolSizeMegabytes = InputLimits.Images.PoolMegabytes,
        AllocationLimitMegabytes = InputLimits.Images.AllocationLimitMegabytes,
    });
}

/// <summary>glibc's malloc_trim(3): releases free memory of every arena back to the system.</summary>
internal static class NativeMethods
{
    // A plain blittable call (no marshalling), so DllImport needs no unsafe code where LibraryImport would.
#pragma warning disable SYSLIB1054
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    internal static extern int malloc_trim(nuint pad);
#pragma warning restore SYSLIB1054
}
