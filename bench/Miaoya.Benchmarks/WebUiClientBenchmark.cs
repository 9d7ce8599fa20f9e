using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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
// up, 4 images down. The response is recorded once from the in-process mock WebUI, then replayed, so that only the
// client's work (serialising, HTTP pipeline, resilience, parsing, base64) is measured, side by side with the baseline
// of base64-encoding the request images and decoding the response images. Two ways of replaying, in the same run:
//   memory:   an HttpMessageHandler answers from memory (no sockets);
//   loopback: a replay server in another process (HttpListener, `client-server FILE`) answers over real loopback HTTP
//             through the client's own SocketsHttpHandler; its CPU is that process's, reported apart, so the client's
//             row is this process's CPU only (the kernel's loopback work done on the client's sends and reads included).
//
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- client [SAMPLES] [memory|loopback|both]
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

        var modes = (args.Length > 1 ? args[1] : "both") switch
        {
            "memory" => new[] { "memory" },
            "loopback" => ["loopback"],
            _ => ["memory", "loopback"],
        };

        var services = new ServiceCollection();
        services.AddWebUiClient(o => { o.BaseUrl = new Uri("http://bench.invalid:7860"); o.ValidateNames = false; });
        services.AddHttpClient(WebUiClientFactory.GenerationClientName).ConfigurePrimaryHttpMessageHandler(() => new ReplayHandler(recorded));
        await using var provider = services.BuildServiceProvider();
        var memoryClient = provider.GetRequiredService<WebUiClientFactory>().Create(new WebUiEndpoint(new Uri("http://bench.invalid:7860")));

        // The loopback replay server, in its own process: its CPU is not the client's.
        var recordedFile = Path.Combine(Path.GetTempPath(), $"miaoya-bench-client-{Guid.NewGuid():N}.json");
        await File.WriteAllBytesAsync(recordedFile, recorded);
        using var server = modes.Contains("loopback") ? await ReplayServer.StartAsync(recordedFile) : null;
        var loopbackServices = new ServiceCollection();
        loopbackServices.AddWebUiClient(o => { o.BaseUrl = server?.Url ?? new Uri("http://127.0.0.1:9/"); o.ValidateNames = false; });
        await using var loopbackProvider = loopbackServices.BuildServiceProvider();
        var loopbackClient = server is null ? null : loopbackProvider.GetRequiredService<WebUiClientFactory>().Create(new WebUiEndpoint(server.Url));
        try
        {
            await MeasureAllAsync();
        }
        finally
        {
            File.Delete(recordedFile);
        }

        async Task MeasureAllAsync()
        {
            var clients = new List<(string Name, WebUiClient Client)>();
            if (modes.Contains("memory"))
            {
                clients.Add(("client img2img, in memory", memoryClient));
            }

            if (loopbackClient is not null)
            {
                clients.Add(("client img2img, loopback HTTP", loopbackClient));
            }

            var check = await memoryClient.Img2ImgAsync(request);
            var responseImages = check.Images.Select(i => i.ToBase64()).ToArray();
            var responseUtf8 = responseImages.Select(System.Text.Encoding.ASCII.GetBytes).ToArray();
            var requestBytes = images.Sum(i => (long)i.Length);
            var responseBytes = check.Images.Sum(i => (long)i.Length);
            var payloadBytes = requestBytes + responseBytes;

            Console.WriteLine($"request: 5 PNGs 768x1024, {requestBytes / 1024.0 / 1024:0.00} MiB; response: {check.Images.Count} images, {responseBytes / 1024.0 / 1024:0.00} MiB; JSON {recorded.Length / 1024.0 / 1024:0.00} MiB");
            Console.WriteLine($"{samples} samples of {CallsPerSample} calls each, {string.Join(", ", clients.Select(c => c.Name))} and the baselines interleaved, after warm-up; workstation non-concurrent GC; {Environment.ProcessorCount} cores");

            for (var i = 0; i < 5; i++)
            {
                foreach (var (_, client) in clients)
                {
                    await client.Img2ImgAsync(request);
                }

                Baseline(images, responseImages);
                BaselineUtf8(images, responseUtf8);
            }

            var rows = clients.Select(c => (c.Name, Measured: new Measured())).ToList();
            var baseline = new Measured();
            var baselineUtf8 = new Measured();
            var serverCpu = new List<double>();
            var process = Process.GetCurrentProcess();
            for (var i = 0; i < samples; i++)
            {
                for (var c = 0; c < clients.Count; c++)
                {
                    var client = clients[c].Client;
                    var serverBefore = client == loopbackClient ? server!.Cpu : TimeSpan.Zero;
                    rows[c].Measured.Add(CallsPerSample, await MeasureAsync(process, async () =>
                    {
                        for (var n = 0; n < CallsPerSample; n++)
                        {
                            await client.Img2ImgAsync(request);
                        }
                    }));
                    if (client == loopbackClient)
                    {
                        serverCpu.Add((server!.Cpu - serverBefore).TotalMilliseconds / CallsPerSample);
                    }
                }

                baseline.Add(CallsPerSample, await MeasureAsync(process, () =>
                {
                    for (var n = 0; n < CallsPerSample; n++)
                    {
                        Baseline(images, responseImages);
                    }

                    return Task.CompletedTask;
                }));
                baselineUtf8.Add(CallsPerSample, await MeasureAsync(process, () =>
                {
                    for (var n = 0; n < CallsPerSample; n++)
                    {
                        BaselineUtf8(images, responseUtf8);
                    }

                    return Task.CompletedTask;
                }));
            }

            Console.WriteLine();
            Console.WriteLine("| per call (median) | CPU ms | of which kernel ms | wall ms | allocated MiB | allocated / payload |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            foreach (var (name, measured) in rows)
            {
                Row(name, measured);
            }

            Row("baseline base64 enc+dec (strings)", baseline);
            Row("baseline base64 enc+dec (UTF-8, pooled text)", baselineUtf8);
            Console.WriteLine();
            foreach (var (name, measured) in rows)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: CPU {Median(measured.Cpu) / Median(baseline.Cpu):0.00} × the baseline (target ≤ 1.5 in memory, ≤ 2 over loopback), {Median(measured.Cpu) / Median(baselineUtf8.Cpu):0.00} × the UTF-8 baseline; wall {Median(measured.Wall) / Median(baseline.Wall):0.00} ×; allocations {Median(measured.Alloc) / (double)payloadBytes:0.00} × the payload (target ≤ 3)"));
            }

            if (serverCpu.Count > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"replay server (its own process, not counted above): {Median(serverCpu):0.0} ms CPU per call"));
            }

            void Row(string name, Measured m) =>
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Median(m.Cpu):0.0} | {Median(m.Kernel):0.0} | {Median(m.Wall):0.0} | {Median(m.Alloc) / 1024.0 / 1024:0.00} | {Median(m.Alloc) / (double)payloadBytes:0.00} |"));
        }

        static double Median<T>(List<T> values)
            where T : IConvertible
        {
            var sorted = values.Select(v => v.ToDouble(System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        static async Task<(double Cpu, double Wall, long Allocated, double Kernel)> MeasureAsync(Process process, Func<Task> action)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            process.Refresh();
            var cpu0 = CpuClock.Process;
            var kernel0 = process.PrivilegedProcessorTime;
            var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
            var wall = Stopwatch.StartNew();
            await action();
            wall.Stop();
            var alloc1 = GC.GetTotalAllocatedBytes(precise: true);
            process.Refresh();
            return ((CpuClock.Process - cpu0).TotalMilliseconds, wall.Elapsed.TotalMilliseconds, alloc1 - alloc0, (process.PrivilegedProcessorTime - kernel0).TotalMilliseconds);
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

        // The least the same work can cost: the request images encoded as UTF-8 base64 into a reused buffer (as a client
        // writes them into its JSON buffer), the response images decoded from UTF-8 base64 into new arrays (it keeps them).
        static void BaselineUtf8(EncodedImage[] up, byte[][] down)
        {
            foreach (var image in up)
            {
                var text = System.Buffers.ArrayPool<byte>.Shared.Rent(System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(image.Length));
                System.Buffers.Text.Base64.EncodeToUtf8(image.Bytes.Span, text, out _, out _);
                System.Buffers.ArrayPool<byte>.Shared.Return(text);
            }

            foreach (var utf8 in down)
            {
                var bytes = new byte[System.Buffers.Text.Base64.GetMaxDecodedFromUtf8Length(utf8.Length)];
                System.Buffers.Text.Base64.DecodeFromUtf8(utf8, bytes, out _, out _);
                GC.KeepAlive(bytes);
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

    /// <summary>The loopback replay server's process: <c>Miaoya.Benchmarks client-server FILE</c> prints its URL and answers every request with FILE.</summary>
    public static async Task ServeReplayAsync(string[] args)
    {
        var body = await File.ReadAllBytesAsync(args[0]);
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        await Console.Out.WriteLineAsync($"http://127.0.0.1:{port}/");
        await Console.Out.FlushAsync();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var context = await listener.GetContextAsync();
                _ = Task.Run(async () =>
                {
                    await context.Request.InputStream.CopyToAsync(Stream.Null);
                    context.Response.ContentType = "application/json";
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                });
            }
        });

        // Each line on stdin asks for this process's CPU time so far (ms); the end of stdin stops it.
        while (await Console.In.ReadLineAsync() is not null)
        {
            await Console.Out.WriteLineAsync(Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds.ToString(CultureInfo.InvariantCulture));
            await Console.Out.FlushAsync();
        }
    }

    /// <summary>Per-call medians of one row.</summary>
    private sealed class Measured
    {
        public List<double> Cpu { get; } = [];

        public List<double> Wall { get; } = [];

        public List<long> Alloc { get; } = [];

        /// <summary>The part of <see cref="Cpu"/> spent in the kernel (system time: sockets, page faults).</summary>
        public List<double> Kernel { get; } = [];

        public void Add(int calls, (double Cpu, double Wall, long Allocated, double Kernel) batch)
        {
            Cpu.Add(batch.Cpu / calls);
            Kernel.Add(batch.Kernel / calls);
            Wall.Add(batch.Wall / calls);
            Alloc.Add(batch.Allocated / calls);
        }
    }

    /// <summary>The replay server's process, seen from the benchmark.</summary>
    private sealed class ReplayServer : IDisposable
    {
        private readonly Process _process;

        private ReplayServer(Process process, Uri url)
        {
            _process = process;
            Url = url;
        }

        public Uri Url { get; }

        public TimeSpan Cpu
        {
            get
            {
                _process.StandardInput.WriteLine("cpu");
                _process.StandardInput.Flush();
                return TimeSpan.FromMilliseconds(double.Parse(_process.StandardOutput.ReadLine()!, CultureInfo.InvariantCulture));
            }
        }

        public static async Task<ReplayServer> StartAsync(string file)
        {
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            var start = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "exec", typeof(WebUiClientBenchmark).Assembly.Location, "client-server", file })
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start)!;
            var url = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the replay server did not start");
            return new ReplayServer(process, new Uri(url));
        }

        public void Dispose()
        {
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
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
