using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Miaoya.Imaging;
using Miaoya.MockWebUi;
using Miaoya.WebUi;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Benchmarks;

// The client's own cost for one V1-sized img2img call: init image + mask + 3 ControlNet images (768x1024 PNGs)
// up, 4 images down. The response is recorded once from the in-process mock WebUI, then replayed from memory so
// that only the client's work (serialising, HTTP pipeline, resilience, parsing, base64) is measured, side by side
// with the baseline of base64-encoding the request images and decoding the response images.
//
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- client [SAMPLES]
internal static class WebUiClientBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var samples = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 15;

        // Linux reports process CPU time in 10 ms ticks: each sample times a batch of calls and divides.
        const int CallsPerSample = 10;

        var images = Enumerable.Range(0, 5).Select(i => Photo(768, 1024, i)).ToArray();
        var request = new Img2ImgRequest
        {
            Prompt = "1girl, solo, portrait, <lora:miaoya_demo_face:0.9>",
            NegativePrompt = "ng_deepnegative_v1_75t, badhandv4",
            Seed = 42,
            SamplerName = "DPM++ SDE",
            Scheduler = "karras",
            Steps = 30,
            Width = 768,
            Height = 1024,
            BatchSize = 1,
            DenoisingStrength = 0.45,
            InitImages = [images[0]],
            Mask = images[1],
            MaskBlur = 16,
            AlwaysOnScripts = new AlwaysOnScripts
            {
                ControlNet = new ControlNetScriptArgs(
                [
                    new ControlNetUnit { Module = "reference_only", Weight = 0.5, Image = images[2] },
                    new ControlNetUnit { Module = "softedge_pidinet", Model = "control_v11p_sd15_softedge", Weight = 0.75, Image = images[3] },
                    new ControlNetUnit { Module = "openpose_faceonly", Model = "control_v11p_sd15_openpose", Weight = 0.7, Image = images[4] },
                ]),
            },
        };

        // Record one real answer (1 generated image + 3 detected maps = 4 images) from the mock.
        byte[] recorded;
        using (var mock = MockWebUiServer.Start(new MockWebUiOptions { Port = 0 }))
        using (var http = new HttpClient { BaseAddress = mock.Url })
        using (var body = new StringContent(Miaoya.WebUi.Json.WebUiJson.Serialize(request), System.Text.Encoding.UTF8, "application/json"))
        {
            using var answer = await http.PostAsync(new Uri("sdapi/v1/img2img", UriKind.Relative), body);
            answer.EnsureSuccessStatusCode();
            recorded = await answer.Content.ReadAsByteArrayAsync();
        }

        var services = new ServiceCollection();
        services.AddWebUiClient(o => { o.BaseUrl = new Uri("http://bench.invalid:7860"); o.ValidateNames = false; });
        services.AddHttpClient(WebUiClientFactory.GenerationClientName).ConfigurePrimaryHttpMessageHandler(() => new ReplayHandler(recorded));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<WebUiClientFactory>().Create(new WebUiEndpoint(new Uri("http://bench.invalid:7860")));

        var check = await client.Img2ImgAsync(request);
        var responseImages = check.Images.Select(i => i.ToBase64()).ToArray();
        var requestBytes = images.Sum(i => (long)i.Length);
        var responseBytes = check.Images.Sum(i => (long)i.Length);
        var payloadBytes = requestBytes + responseBytes;

        Console.WriteLine($"request: 5 PNGs 768x1024, {requestBytes / 1024.0 / 1024:0.00} MiB; response: {check.Images.Count} images, {responseBytes / 1024.0 / 1024:0.00} MiB; JSON {recorded.Length / 1024.0 / 1024:0.00} MiB");
        Console.WriteLine($"{samples} samples of {CallsPerSample} calls each, client and baseline interleaved, after warm-up; workstation non-concurrent GC");

        for (var i = 0; i < 5; i++)
        {
            await client.Img2ImgAsync(request);
            Baseline(images, responseImages);
        }

        var clientCpu = new List<double>();
        var clientWall = new List<double>();
        var clientAlloc = new List<long>();
        var baseCpu = new List<double>();
        var baseWall = new List<double>();
        var baseAlloc = new List<long>();
        var process = Process.GetCurrentProcess();
        for (var i = 0; i < samples; i++)
        {
            {
                var (cpu, wall, alloc) = await MeasureAsync(process, async () =>
                {
                    for (var c = 0; c < CallsPerSample; c++)
                    {
                        await client.Img2ImgAsync(request);
                    }
                });
                clientCpu.Add(cpu / CallsPerSample); clientWall.Add(wall / CallsPerSample); clientAlloc.Add(alloc / CallsPerSample);
            }
            {
                var (cpu, wall, alloc) = await MeasureAsync(process, () =>
                {
                    for (var c = 0; c < CallsPerSample; c++)
                    {
                        Baseline(images, responseImages);
                    }

                    return Task.CompletedTask;
                });
                baseCpu.Add(cpu / CallsPerSample); baseWall.Add(wall / CallsPerSample); baseAlloc.Add(alloc / CallsPerSample);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| per call (median) | CPU ms | wall ms | allocated MiB | allocated / payload |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Row("client img2img", clientCpu, clientWall, clientAlloc);
        Row("baseline base64 enc+dec", baseCpu, baseWall, baseAlloc);
        Console.WriteLine();
        Console.WriteLine($"CPU ratio client/baseline: {Median(clientCpu) / Median(baseCpu):0.00} (target <= 1.5)");
        Console.WriteLine($"wall ratio client/baseline: {Median(clientWall) / Median(baseWall):0.00}");
        Console.WriteLine($"allocations / payload bytes: {Median(clientAlloc) / (double)payloadBytes:0.00} (target <= 3)");

        void Row(string name, List<double> cpu, List<double> wall, List<long> alloc) =>
            Console.WriteLine($"| {name} | {Median(cpu):0.0} | {Median(wall):0.0} | {Median(alloc) / 1024.0 / 1024:0.00} | {Median(alloc) / (double)payloadBytes:0.00} |");

        static double Median<T>(List<T> values)
            where T : IConvertible
        {
            var sorted = values.Select(v => v.ToDouble(System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        static async Task<(double Cpu, double Wall, long Allocated)> MeasureAsync(Process process, Func<Task> action)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
            var wall = Stopwatch.StartNew();
            await action();
            wall.Stop();
            var alloc1 = GC.GetTotalAllocatedBytes(precise: true);
            process.Refresh();
            return ((process.TotalProcessorTime - cpu0).TotalMilliseconds, wall.Elapsed.TotalMilliseconds, alloc1 - alloc0);
        }

        static void Baseline(EncodedImage[] up, string[] down)
        {
            foreach (var image in up)
            {
                GC.KeepAlive(Convert.ToBase64String(image.Bytes.Span));
            }

            foreach (var text in down)
            {
                GC.KeepAlive(Convert.FromBase64String(text));
            }
        }

        // A photo-like 768x1024 PNG: smooth gradients plus fine noise, so it compresses like a real photograph (~1 MiB).
        static EncodedImage Photo(int width, int height, int seed)
        {
            var random = new Random(seed);
            using var image = new Image<Rgb24>(width, height);
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (var x = 0; x < row.Length; x++)
                    {
                        var n = random.Next(-12, 13);
                        row[x] = new Rgb24(
                            (byte)Math.Clamp((x * 255 / width) + n, 0, 255),
                            (byte)Math.Clamp((y * 255 / height) + n, 0, 255),
                            (byte)Math.Clamp(128 + (int)(60 * Math.Sin((x + y + seed * 40) / 50.0)) + n, 0, 255));
                    }
                }
            });
            return EncodedImage.FromPng(image);
        }
    }
}

/// <summary>Answers every request with the recorded body after reading the whole request, as a server would.</summary>
internal sealed class ReplayHandler(byte[] body) : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is not null)
        {
            await request.Content.CopyToAsync(Stream.Null, cancellationToken);
        }

        return new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new MemoryStream(body, writable: false))
            {
                Headers = { ContentType = new("application/json") },
            },
        };
    }
}
