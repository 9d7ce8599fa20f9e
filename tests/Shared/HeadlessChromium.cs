using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.TestSupport;

/// <summary>An image on a page as the browser saw it.</summary>
public sealed record PageImage(string Src, bool Complete, int NaturalWidth, int NaturalHeight)
{
    public bool Loaded => Complete && NaturalWidth > 0;
}

/// <summary>A page loaded in headless Chromium: its title, every &lt;img&gt;, and where its screenshot went.</summary>
public sealed record PageCheck(string Url, string Title, IReadOnlyList<PageImage> Images, string Screenshot)
{
    public IReadOnlyList<PageImage> Broken => Images.Where(i => !i.Loaded).ToArray();

    /// <summary>Fails the test with every image that did not load, by its src, and where the screenshot is.</summary>
    public void AssertAllImagesLoaded(int atLeast = 1)
    {
        if (Broken.Count > 0)
        {
            Assert.Fail($"{Url}: {Broken.Count} of {Images.Count} images did not load in Chromium: {string.Join(", ", Broken.Select(b => b.Src))} (screenshot: {Screenshot})");
        }

        Assert.True(Images.Count >= atLeast, $"{Url}: {Images.Count} images, expected at least {atLeast} (screenshot: {Screenshot})");
    }
}

/// <summary>
/// Debian's chromium driven headless over the DevTools protocol (HTTP + WebSocket, no packages): start it with
/// <c>--remote-debugging-port=0</c>, read the port from <c>DevToolsActivePort</c> in its profile folder, open a page target
/// with <c>PUT /json/new</c>, then <c>Page.navigate</c>, wait for <c>Page.loadEventFired</c>, <c>Runtime.evaluate</c>
/// and <c>Page.captureScreenshot</c>. Protocol shapes from https://chromedevtools.github.io/devtools-protocol/.
/// </summary>
public static class HeadlessChromium
{
    /// <summary>Set to 1 (CI does) to make a missing Chromium fail the browser tests instead of skipping them.</summary>
    public const string RequireVariable = "MIAOYA_REQUIRE_CHROMIUM";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>MIAOYA_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH; null when none is found.</summary>
    public static string? Executable { get; } = Find();

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Why browser tests skip here, or null when they run (Chromium found, or required so that they fail).</summary>
    public static string? SkipReason => Executable is null && !Required
        ? $"Chromium not found (install Debian's chromium, or set MIAOYA_CHROMIUM); set {RequireVariable}=1 to fail instead of skipping."
        : null;

    /// <summary>Loads <paramref name="htmlFile"/> (file:// URL), lists its images and saves a full-page PNG screenshot.</summary>
    public static async Task<PageCheck> CheckPageAsync(string htmlFile, string screenshot, CancellationToken cancellationToken = default)
    {
        var executable = Executable ?? throw new InvalidOperationException($"Chromium is not installed ({RequireVariable}=1 requires it): apt-get install chromium, or set MIAOYA_CHROMIUM.");
        var url = new Uri(Path.GetFullPath(htmlFile)).AbsoluteUri;
        var profile = Directory.CreateTempSubdirectory("miaoya-chromium-");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--hide-scrollbars", "--mute-audio", "--window-size=1280,900", "--remote-debugging-port=0", $"--user-data-dir={profile.FullName}", "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var browser = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
        var log = new StringBuilder();
        browser.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        browser.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        browser.BeginErrorReadLine();
        browser.BeginOutputReadLine();
        try
        {
            var port = await WaitForPortAsync(profile.FullName, browser, log, timeout.Token);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            using var created = await http.PutAsync("json/new?about:blank", null, timeout.Token);
            created.EnsureSuccessStatusCode();
            var target = JsonNode.Parse(await created.Content.ReadAsStringAsync(timeout.Token))!;
            await using var page = await DevToolsConnection.OpenAsync(new Uri(target["webSocketDebuggerUrl"]!.GetValue<string>()), timeout.Token);
            await page.SendAsync("Page.enable", null, timeout.Token);
            var loaded = page.WaitForEventAsync("Page.loadEventFired", timeout.Token);
            var navigation = await page.SendAsync("Page.navigate", new JsonObject { ["url"] = url }, timeout.Token);
            if (navigation["errorText"] is { } error)
            {
                throw new InvalidOperationException($"Chromium could not open {url}: {error}");
            }

            await loaded;
            var evaluation = await page.SendAsync(
                "Runtime.evaluate",
                new JsonObject
                {
                    ["expression"] = "JSON.stringify({title: document.title, images: Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))})",
                    ["returnByValue"] = true,
                },
                timeout.Token);
            var page1 = JsonNode.Parse(evaluation["result"]!["value"]!.GetValue<string>())!;
            var images = page1["images"]!.AsArray().Select(i => new PageImage(
                i!["src"]?.GetValue<string>() ?? "",
                i["complete"]!.GetValue<bool>(),
                i["w"]!.GetValue<int>(),
                i["h"]!.GetValue<int>())).ToArray();

            var metrics = await page.SendAsync("Page.getLayoutMetrics", null, timeout.Token);
            var size = metrics["cssContentSize"] ?? metrics["contentSize"]!;
            var width = Math.Clamp(size["width"]!.GetValue<double>(), 1, 4000);
            var height = Math.Clamp(size["height"]!.GetValue<double>(), 1, 8000);
            var shot = await page.SendAsync(
                "Page.captureScreenshot",
                new JsonObject
                {
                    ["format"] = "png",
                    ["captureBeyondViewport"] = true,
                    ["clip"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["width"] = width, ["height"] = height, ["scale"] = 1 },
                },
                timeout.Token);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(screenshot))!);
            await File.WriteAllBytesAsync(screenshot, Convert.FromBase64String(shot["data"]!.GetValue<string>()), timeout.Token);
            return new PageCheck(url, page1["title"]?.GetValue<string>() ?? "", images, Path.GetFullPath(screenshot));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string text;
            lock (log)
            {
                text = log.ToString();
            }

            throw new TimeoutException($"Chromium did not answer within {Timeout.TotalSeconds:0} s for {url}. Its output:\n{text}");
        }
        finally
        {
            if (!browser.HasExited)
            {
                browser.Kill(entireProcessTree: true);
                await browser.WaitForExitAsync(CancellationToken.None);
            }

            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Chromium's last writes can race the delete; a leftover temp folder is harmless.
            }
        }
    }

    private static async Task<int> WaitForPortAsync(string profile, Process browser, StringBuilder log, CancellationToken cancellationToken)
    {
        var file = Path.Combine(profile, "DevToolsActivePort");
        while (true)
        {
            if (browser.HasExited)
            {
                lock (log)
                {
                    throw new InvalidOperationException($"Chromium exited with code {browser.ExitCode} before opening its DevTools port:\n{log}");
                }
            }

            if (File.Exists(file))
            {
                var lines = await File.ReadAllLinesAsync(file, cancellationToken);
                if (lines.Length > 0 && int.TryParse(lines[0], out var port) && port > 0)
                {
                    return port;
                }
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("MIAOYA_CHROMIUM") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(name => path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(dir => Path.Combine(dir, name)))
            .Append("/usr/bin/chromium")
            .FirstOrDefault(File.Exists);
    }

    /// <summary>One DevTools WebSocket: commands matched to answers by id, events kept until awaited.</summary>
    private sealed class DevToolsConnection : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly Dictionary<int, TaskCompletionSource<JsonObject>> _pending = [];
        private readonly List<(string Method, TaskCompletionSource<JsonObject> Waiter)> _waiters = [];
        private readonly CancellationTokenSource _stop = new();
        private Task? _reader;
        private int _nextId;

        public static async Task<DevToolsConnection> OpenAsync(Uri uri, CancellationToken cancellationToken)
        {
            var connection = new DevToolsConnection();
            connection._socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await connection._socket.ConnectAsync(uri, cancellationToken);
            connection._reader = Task.Run(connection.ReadAsync, CancellationToken.None);
            return connection;
        }

        public Task<JsonObject> WaitForEventAsync(string method, CancellationToken cancellationToken)
        {
            var waiter = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_pending)
            {
                _waiters.Add((method, waiter));
            }

            return waiter.Task.WaitAsync(cancellationToken);
        }

        public async Task<JsonObject> SendAsync(string method, JsonObject? parameters, CancellationToken cancellationToken)
        {
            var answer = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
            int id;
            lock (_pending)
            {
                id = ++_nextId;
                _pending[id] = answer;
            }

            var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken);
            var reply = await answer.Task.WaitAsync(cancellationToken);
            return reply["error"] is { } error
                ? throw new InvalidOperationException($"DevTools {method} failed: {error.ToJsonString()}")
                : reply["result"] as JsonObject ?? [];
        }

        private async Task ReadAsync()
        {
            var buffer = new byte[1 << 16];
            using var message = new MemoryStream();
            try
            {
                while (_socket.State == WebSocketState.Open)
                {
                    var part = await _socket.ReceiveAsync(buffer, _stop.Token);
                    if (part.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    message.Write(buffer, 0, part.Count);
                    if (!part.EndOfMessage)
                    {
                        continue;
                    }

                    var node = JsonNode.Parse(message.ToArray()) as JsonObject;
                    message.SetLength(0);
                    Dispatch(node);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or JsonException)
            {
                // The connection ended; pending commands fail below.
            }

            lock (_pending)
            {
                foreach (var answer in _pending.Values)
                {
                    answer.TrySetException(new IOException("the DevTools connection closed."));
                }
            }
        }

        private void Dispatch(JsonObject? node)
        {
            if (node is null)
            {
                return;
            }

            lock (_pending)
            {
                if (node["id"] is { } idNode && _pending.Remove(idNode.GetValue<int>(), out var answer))
                {
                    answer.TrySetResult(node);
                }
                else if (node["method"]?.GetValue<string>() is { } method)
                {
                    foreach (var waiter in _waiters.Where(w => w.Method == method).ToArray())
                    {
                        _waiters.Remove(waiter);
                        waiter.Waiter.TrySetResult(node["params"] as JsonObject ?? []);
                    }
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    using var close = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, close.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // Closing is best effort; the browser is killed next.
            }

            if (_reader is not null)
            {
                await _reader;
            }

            _socket.Dispose();
            _stop.Dispose();
        }
    }
}

/// <summary>A fact that needs Chromium: skipped with the reason when it is missing, unless MIAOYA_REQUIRE_CHROMIUM=1.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
