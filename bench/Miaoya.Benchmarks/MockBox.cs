using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Miaoya.MockWebUi;

namespace Miaoya.Benchmarks;

/// <summary>
/// A mock WebUI box in a process of its own (<c>Miaoya.Benchmarks jobs-box LATENCY_MS</c>, as boxes are other machines:
/// its CPU is not the orchestrator's, and it outlives an orchestrator killed with SIGKILL). Its stdin answers counts:
/// a line <c>img2img</c> the img2img renders that ran to the end, any other line the generation-type calls answered.
/// </summary>
internal sealed class MockBox : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly Process _process;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private MockBox(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static async Task<MockBox> StartAsync(TimeSpan latency)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "exec", typeof(MockBox).Assembly.Location, "jobs-box", ((int)latency.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var url = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the mock box process did not start");
        return new MockBox(process, new Uri(url));
    }

    /// <summary>Generation-type calls (img2img, tagger) answered so far.</summary>
    public Task<long> CallsAsync() => AskAsync("calls");

    /// <summary>img2img calls (inpaint included) whose render ran to the end, whether or not their caller was still there.</summary>
    public Task<long> Img2ImgRendersAsync() => AskAsync("img2img");

    /// <summary>The box's <c>GET /__mock/renders</c>: generation-type calls at it now, that reached it, and that arrived while another was at the box.</summary>
    public async Task<MockRenderCounts> RendersAsync()
    {
        using var json = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Url, "__mock/renders")));
        var root = json.RootElement;
        return new MockRenderCounts(
            root.GetProperty("in_flight").GetInt32(), root.GetProperty("max_in_flight").GetInt32(), root.GetProperty("started").GetInt64(), root.GetProperty("overlapping_starts").GetInt64());
    }

    /// <summary><c>DELETE /__mock/renders</c>: counts start afresh (calls in flight stay counted in flight).</summary>
    public async Task ResetRendersAsync()
    {
        using var response = await Http.DeleteAsync(new Uri(Url, "__mock/renders"));
        response.EnsureSuccessStatusCode();
    }

    private async Task<long> AskAsync(string what)
    {
        await _gate.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync(what);
            await _process.StandardInput.FlushAsync();
            return long.Parse((await _process.StandardOutput.ReadLineAsync())!, CultureInfo.InvariantCulture);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _gate.Dispose();
    }
}
