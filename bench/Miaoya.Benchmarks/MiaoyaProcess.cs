using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Miaoya.Benchmarks;

/// <summary>
/// The real program (<c>miaoya.dll</c> next to this assembly, with its own runtimeconfig: GC settings included) as a child
/// process, with the API key in <c>MIAOYA_API_KEY</c>. Its output is read (so that a full pipe never blocks it) and its last
/// lines kept for the message when it fails. stdin stays open.
/// </summary>
internal sealed class MiaoyaProcess : IDisposable
{
    public const string ApiKey = "bench-key-0123456789abcdef";

    private readonly ConcurrentQueue<string> _log = new();

    private MiaoyaProcess(Process process) => Process = process;

    public Process Process { get; }

    public int Id => Process.Id;

    /// <summary>Starts <c>miaoya ARGS</c> in <paramref name="folder"/>.</summary>
    public static MiaoyaProcess Start(string folder, params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "miaoya.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["MIAOYA_API_KEY"] = ApiKey;
        var miaoya = new MiaoyaProcess(Process.Start(start)!);
        miaoya.Process.OutputDataReceived += miaoya.Keep;
        miaoya.Process.ErrorDataReceived += miaoya.Keep;
        miaoya.Process.BeginOutputReadLine();
        miaoya.Process.BeginErrorReadLine();
        return miaoya;
    }

    /// <summary>A client of a <c>serve</c> listening on <paramref name="port"/>, with the API key.</summary>
    public static HttpClient Client(int port)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return client;
    }

    /// <summary>A free loopback port (free when asked: good enough for a benchmark).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A job submission's form (<c>POST /v1/jobs</c>): the template as a PNG, the recipe, the demo face LoRA.</summary>
    public static MultipartFormDataContent JobForm(byte[] template, string recipe)
    {
        var form = new MultipartFormDataContent();
#pragma warning disable CA2000 // the form owns its parts: disposing it disposes them
        var image = new ByteArrayContent(template);
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(image, "template", "template.png");
        form.Add(new StringContent(recipe), "recipe");
        form.Add(new StringContent("miaoya_demo_face:0.9"), "lora");
#pragma warning restore CA2000
        return form;
    }

    /// <summary>Waits until <c>serve</c> answers <c>/healthz</c> through <paramref name="client"/> (30 s at most).</summary>
    public async Task WaitHealthyAsync(HttpClient client)
    {
        for (var i = 0; i < 300; i++)
        {
            ThrowIfExited();
            try
            {
                using var response = await client.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"miaoya did not become healthy in 30 s:{Environment.NewLine}{Tail()}");
    }

    /// <summary>Throws, with the process's last lines, when it has exited.</summary>
    public void ThrowIfExited()
    {
        if (Process.HasExited)
        {
            throw new InvalidOperationException($"miaoya exited with {Process.ExitCode}:{Environment.NewLine}{Tail()}");
        }
    }

    /// <summary>SIGKILL (no handing back, no finally blocks), and waits for the process to be gone.</summary>
    public async Task KillHardAsync()
    {
        Process.Kill();
        await Process.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }

        Process.Dispose();
    }

    private string Tail() => string.Join(Environment.NewLine, _log.TakeLast(40));

    private void Keep(object? sender, DataReceivedEventArgs e)
    {
        if (e.Data is null)
        {
            return;
        }

        _log.Enqueue(e.Data);
        while (_log.Count > 200 && _log.TryDequeue(out _))
        {
        }
    }
}
