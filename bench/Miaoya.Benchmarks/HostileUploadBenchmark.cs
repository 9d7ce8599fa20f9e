using System.Diagnostics;
using System.Globalization;
using System.Net;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Benchmarks;

/// <summary>
/// <c>hostile [N] [bomb|large|both] [worker]</c>: the real <c>miaoya serve</c> (the CLI's own code, in a child process)
/// in front of a mock box, then N concurrent worst-case uploads: "bomb" PNGs (4096×4096 RGBA 16-bit of one colour, about
/// 130 kB that decode to 64 MB of pixels) and "large" PNGs (about 14 MB of noise, the per-image upload limit's size).
/// Prints the server's resident memory before, its peak during the burst (sampled every 20 ms from /proc), and after the
/// burst settled, with each request's status and latency. Without <c>worker</c> the server runs no jobs (<c>--no-worker</c>),
/// so what is measured is the submission path alone.
/// </summary>
internal static class HostileUploadBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 30;
        var kinds = args.Length > 1 && args[1] != "both" ? [args[1]] : new[] { "bomb", "large" };
        var worker = args.Contains("worker");
        var scratch = Directory.CreateTempSubdirectory("miaoya-hostile-").FullName;
        try
        {
            var bodies = new Dictionary<string, byte[]>
            {
                ["bomb"] = Bomb(),
                ["large"] = Noise(),
            };
            using var box = await MockBox.StartAsync(TimeSpan.FromMilliseconds(200));
            var port = MiaoyaProcess.FreePort();
            var serveArgs = new List<string> { "serve", "--urls", $"http://127.0.0.1:{port}", "--webui", box.Url.ToString(), "--jobs-dir", Path.Combine(scratch, "jobs") };
            if (!worker)
            {
                serveArgs.Add("--no-worker");
            }

            using var serve = MiaoyaProcess.Start(scratch, [.. serveArgs]);
            using var client = MiaoyaProcess.Client(port);
            await serve.WaitHealthyAsync(client);

            // Warm up: one ordinary submission (the astronaut), so start-up costs are not counted as the burst's.
            var astronaut = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png"));
            var (warm, _) = await SubmitAsync(client, astronaut);
            Console.WriteLine($"{count} concurrent uploads per kind; serve {(worker ? "with" : "without")} its job worker; warm-up submission: {(int)warm}; {Environment.ProcessorCount} cores");
            Console.WriteLine();
            Console.WriteLine("| kind | upload bytes | accepted | refused | other | latency p50 s | max s | RSS before MB | peak RSS MB | RSS after MB |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var kind in kinds)
            {
                var body = bodies[kind];
                await Task.Delay(2000);
                var before = Rss(serve.Id).Current;
                using var sampling = new CancellationTokenSource();
                var peak = 0L;
                var sampler = Task.Run(async () =>
                {
                    while (!sampling.IsCancellationRequested)
                    {
                        peak = Math.Max(peak, Rss(serve.Id).Current);
                        await Task.Delay(20);
                    }
                });
                var results = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => SubmitAsync(client, body)));
                await Task.Delay(10_000);
                await sampling.CancelAsync();
                await sampler;
                var after = Rss(serve.Id).Current;
                var latencies = results.Select(r => r.Seconds).Order().ToArray();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {kind} | {body.Length:N0} | {results.Count(r => r.Status == HttpStatusCode.Accepted)} | {results.Count(r => (int)r.Status is >= 400 and < 500)} | {results.Count(r => (int)r.Status is < 400 or >= 500 && r.Status != HttpStatusCode.Accepted)} | {latencies[latencies.Length / 2]:0.00} | {latencies[^1]:0.00} | {before / 1048576.0:0} | {peak / 1048576.0:0} | {after / 1048576.0:0} |"));
                foreach (var group in results.GroupBy(r => r.Status))
                {
                    await Console.Error.WriteLineAsync($"  {kind}: {group.Count()} × {(int)group.Key} {group.Key}");
                }
            }

        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<(HttpStatusCode Status, double Seconds)> SubmitAsync(HttpClient client, byte[] template)
    {
        using var form = MiaoyaProcess.JobForm(template, "v2");
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await client.PostAsync("/v1/jobs", form);
            await response.Content.ReadAsByteArrayAsync();
            return (response.StatusCode, clock.Elapsed.TotalSeconds);
        }
        catch (HttpRequestException)
        {
            return (0, clock.Elapsed.TotalSeconds);
        }
    }

    private static byte[] Bomb()
    {
        using var image = new Image<Rgba64>(4096, 4096, new Rgba64(40000, 30000, 20000, 65535));
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, new PngEncoder { BitDepth = PngBitDepth.Bit16, ColorType = PngColorType.RgbWithAlpha, CompressionLevel = PngCompressionLevel.BestCompression });
        return stream.ToArray();
    }

    private static byte[] Noise()
    {
        var random = new Random(7);
        using var image = new Image<Rgb24>(2150, 2150);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.GetRowSpan(y)));
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, new PngEncoder { CompressionLevel = PngCompressionLevel.NoCompression });
        return stream.ToArray();
    }

    /// <summary>Resident set size now and at its peak (bytes), from /proc/PID/status.</summary>
    private static (long Current, long Peak) Rss(int pid)
    {
        long current = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                current = Kb(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kb(line);
            }
        }

        return (current, peak);

        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
