using System.Net;
using Miaoya.TestSupport;
using PuppeteerSharp;

namespace Miaoya.Server.Tests;

/// <summary>
/// The console at <c>/</c> in real headless Chromium against a running server and the mock WebUI: the key, a submission,
/// its live events, its images, the job list with paging and deleting, the boxes, and a wrong key.
/// </summary>
public sealed class ConsoleBrowserTests
{
    private static string Template => Path.Combine(AppContext.BaseDirectory, "Fixtures", "template-astronaut.png");

    private static string Screenshot(string name) =>
        Path.Combine(Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName, name);

    [ChromiumFact]
    public async Task Console_SubmitsAJob_ShowsItsEventsAndImages_ListsIt_DeletesIt_AndShowsTheBoxes()
    {
        // Arrange: a box that takes 300 ms a call, so that steps report progress.
        await using var h = await ServerHarness.StartAsync(boxes: 1, latency: TimeSpan.FromMilliseconds(300));
        await using var session = await ConsoleSession.OpenAsync(h);
        var page = session.Page;

        // Act: the key, then a submission of the CLI's astronaut template with v2 and the demo LoRA.
        await page.WaitForFunctionAsync("() => document.getElementById('key-status').textContent.includes('Enter the server')");
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('app').hidden"));
        await page.TypeAsync("#api-key", ServerHarness.Key);
        await page.ClickAsync("#key-connect");
        await page.WaitForSelectorAsync("#app:not([hidden])");

        // The boxes panel shows the mock box and the queue.
        await page.WaitForSelectorAsync("#boxes-body tr[data-box='box0']");
        Assert.Contains("queued", await Text(page, "#boxes-queue"), StringComparison.Ordinal);

        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#recipe option')].some(o => o.value === 'v2')");
        await page.SelectAsync("#recipe", "v2");
        Assert.Contains("Needs a LoRA", await Text(page, "#recipe-help"), StringComparison.Ordinal);
        var upload = await page.QuerySelectorAsync("#template");
        await upload.UploadFileAsync(Template);
        await page.TypeAsync("#lora", "miaoya_demo_face:0.9");
        await page.ClickAsync("#submit-job");

        // Assert: the job's events arrive over SSE until it succeeds, with progress and ETAs.
        await page.WaitForFunctionAsync("() => document.getElementById('watch-id').textContent.length > 0");
        var id = await Text(page, "#watch-id");
        await page.WaitForSelectorAsync("#events li[data-kind='job_succeeded']");
        var kinds = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#events li')].map(li => li.dataset.kind)");
        Assert.Equal("job_created", kinds[0]);
        Assert.Equal("job_succeeded", kinds[^1]);
        Assert.Equal(4, kinds.Count(k => k == "step_started"));
        Assert.Equal(4, kinds.Count(k => k == "step_finished"));
        Assert.Contains("step_progress", kinds);
        var lines = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#events li')].map(li => li.textContent)");
        Assert.Contains(lines, l => l.Contains("step_progress · inpaint", StringComparison.Ordinal) && l.Contains(" %", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("job ETA", StringComparison.Ordinal));

        // Every step shows as done, and the final image (and each step's) is loaded from a blob: URL.
        await page.WaitForFunctionAsync("() => document.getElementById('watch-state').textContent.startsWith('State: succeeded')");
        Assert.Equal(["succeeded", "succeeded", "succeeded", "succeeded"], await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#steps-body tr')].map(r => r.cells[2].textContent)"));
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll(\"#outputs figure[data-file='final.png'] img\")].some(i => i.complete && i.naturalWidth > 0)");
        var images = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#outputs img')].map(i => i.src)");
        Assert.True(images.Length >= 2, $"{images.Length} images shown");
        Assert.All(images, src => Assert.StartsWith("blob:", src, StringComparison.Ordinal));
        Assert.Equal("final.png", await page.EvaluateExpressionAsync<string>("document.querySelector(\"#outputs figure[data-file='final.png'] a[download]\").getAttribute('download')"));
        var finalWidth = await page.EvaluateExpressionAsync<int>("document.querySelector(\"#outputs figure[data-file='final.png'] img\").naturalWidth");
        Assert.True(finalWidth > 0);

        // The list shows the job as succeeded.
        await page.WaitForFunctionAsync($"() => document.querySelector(\"#jobs-body tr[data-job='{id}'] td.state-succeeded\") !== null");
        Assert.Contains("miaoya_demo_face", await Text(page, $"#jobs-body tr[data-job='{id}']"), StringComparison.Ordinal);
        await page.ScreenshotAsync(Screenshot("console-job.png"), new ScreenshotOptions { FullPage = true });

        // Delete (the page asks first; the test accepts) removes it from the list and from the server.
        await page.ClickAsync($"#jobs-body tr[data-job='{id}'] button.danger");
        await page.WaitForFunctionAsync($"() => document.querySelector(\"#jobs-body tr[data-job='{id}']\") === null");
        Assert.Equal(HttpStatusCode.NotFound, (await h.Client.GetAsync($"/v1/jobs/{id}")).StatusCode);
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('watch-panel').hidden"));
        Assert.Equal(1, session.Dialogs);

        // The key was sent as a header only, never in a URL; the event stream used a token; no script failed.
        Assert.DoesNotContain(session.Urls, u => u.Contains(ServerHarness.Key, StringComparison.Ordinal));
        Assert.Contains(session.Urls, u => u.Contains($"/v1/jobs/{id}/events?access_token=", StringComparison.Ordinal));
        Assert.Empty(session.ScriptErrors);
    }

    [ChromiumFact]
    public async Task Console_PagesThroughTheJobs()
    {
        // Arrange: seven jobs, five to a page.
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            using var form = ServerHarness.Form("v1-face", null);
            ids.Add((await h.SubmitAsync(form)).GetProperty("id").GetString()!);
        }

        await using var session = await ConsoleSession.OpenAsync(h);
        var page = session.Page;
        await page.TypeAsync("#api-key", ServerHarness.Key);
        await page.ClickAsync("#key-connect");
        await page.WaitForSelectorAsync("#app:not([hidden])");

        // Act + Assert: page 1 has the five newest, page 2 the other two, and Newer goes back.
        await page.SelectAsync("#jobs-limit", "5");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#jobs-body tr[data-job]').length === 5");
        Assert.Equal(ids.AsEnumerable().Reverse().Take(5), await Rows(page));
        Assert.False(await page.EvaluateExpressionAsync<bool>("document.getElementById('jobs-older').disabled"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('jobs-newer').disabled"));

        await page.ClickAsync("#jobs-older");
        await page.WaitForFunctionAsync("() => document.getElementById('jobs-page').textContent === 'Page 2'");
        Assert.Equal(ids.Take(2).Reverse(), await Rows(page));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('jobs-older').disabled"));

        await page.ClickAsync("#jobs-newer");
        await page.WaitForFunctionAsync("() => document.getElementById('jobs-page').textContent === 'Page 1'");
        Assert.Equal(ids.AsEnumerable().Reverse().Take(5), await Rows(page));
        Assert.Empty(session.ScriptErrors);

        static async Task<string[]> Rows(IPage page) =>
            await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#jobs-body tr[data-job]')].map(r => r.dataset.job)");
    }

    [ChromiumFact]
    public async Task Console_AWrongKey_ShowsThe401Message_AndKeepsTheAppClosed()
    {
        // Arrange
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        await using var session = await ConsoleSession.OpenAsync(h);
        var page = session.Page;

        // Act
        await page.TypeAsync("#api-key", "not-the-key-0123456789");
        await page.ClickAsync("#key-connect");

        // Assert: the server's problem details, said plainly; nothing else opens and the wrong key is not kept.
        await page.WaitForSelectorAsync("#key-error:not([hidden])");
        var message = await Text(page, "#key-error");
        Assert.Equal("401 The server refused the API key: Send the API key as the X-Api-Key header or as Authorization: Bearer KEY.", message);
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('app').hidden"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("sessionStorage.getItem('miaoya.apiKey') === null"));
        await page.ScreenshotAsync(Screenshot("console-wrong-key.png"));
        Assert.Empty(session.ScriptErrors);
    }

    [ChromiumFact]
    public async Task Console_OnAServerWithoutAKey_OpensWithoutAsking_AndRunsAJobToTheEnd()
    {
        // Arrange: serve --no-auth (loopback only): no API key at all.
        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o => o with { ApiKey = null, AllowAnonymous = true });
        await using var session = await ConsoleSession.OpenAsync(h);
        var page = session.Page;

        // Assert: the app opens by itself, saying why; nothing was typed and nothing is kept in the tab.
        await page.WaitForSelectorAsync("#app:not([hidden])");
        Assert.Equal("Connected (this server needs no key).", await Text(page, "#key-status"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("sessionStorage.getItem('miaoya.apiKey') === null"));

        // Act: a submission, watched live: the event stream's token is issued without a key too.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#recipe option')].some(o => o.value === 'v1-face')");
        await page.SelectAsync("#recipe", "v1-face");
        await (await page.QuerySelectorAsync("#template")).UploadFileAsync(Template);
        await page.TypeAsync("#lora", "miaoya_demo_face");
        await page.ClickAsync("#submit-job");

        // Assert
        await page.WaitForSelectorAsync("#events li[data-kind='job_succeeded']");
        var id = await Text(page, "#watch-id");
        Assert.Contains(session.Urls, u => u.Contains($"/v1/jobs/{id}/events?access_token=", StringComparison.Ordinal));
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll(\"#outputs figure[data-file='final.png'] img\")].some(i => i.complete && i.naturalWidth > 0)");
        Assert.Empty(session.ScriptErrors);
    }

    [ChromiumFact]
    public async Task Console_ABadUpload_ShowsTheServersDetailNamingTheField()
    {
        // Arrange: a "PNG" that is text.
        await using var h = await ServerHarness.StartAsync(boxes: 1);
        var notAnImage = Path.Combine(h.Folder, "notes.png");
        await File.WriteAllTextAsync(notAnImage, "these are notes, not pixels");
        await using var session = await ConsoleSession.OpenAsync(h);
        var page = session.Page;
        await page.TypeAsync("#api-key", ServerHarness.Key);
        await page.ClickAsync("#key-connect");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#recipe option')].some(o => o.value === 'v1-face')");

        // Act
        await page.SelectAsync("#recipe", "v1-face");
        await (await page.QuerySelectorAsync("#template")).UploadFileAsync(notAnImage);
        await page.TypeAsync("#lora", "miaoya_demo_face");
        await page.ClickAsync("#submit-job");

        // Assert: the problem's detail, naming the field; no job was queued or watched.
        await page.WaitForSelectorAsync("#submit-error:not([hidden])");
        var message = await Text(page, "#submit-error");
        Assert.StartsWith("400 Bad Request: template: ", message, StringComparison.Ordinal);
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.getElementById('watch-panel').hidden"));
        using var list = await h.Client.GetAsync("/v1/jobs");
        Assert.Contains("\"jobs\":[]", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(session.ScriptErrors);
    }

    private static Task<string> Text(IPage page, string selector) =>
        page.EvaluateFunctionAsync<string>("s => document.querySelector(s).textContent", selector);

    /// <summary>Chromium on the server's console page, recording every URL it requests, dialogs (accepted) and script errors.</summary>
    private sealed class ConsoleSession : IAsyncDisposable
    {
        private readonly List<string> _urls = [];
        private readonly List<string> _errors = [];
        private int _dialogs;

        private ConsoleSession(IBrowser browser, IPage page)
        {
            Browser = browser;
            Page = page;
        }

        public IBrowser Browser { get; }

        public IPage Page { get; }

        public IReadOnlyList<string> Urls
        {
            get
            {
                lock (_urls)
                {
                    return [.. _urls];
                }
            }
        }

        public IReadOnlyList<string> ScriptErrors
        {
            get
            {
                lock (_errors)
                {
                    return [.. _errors];
                }
            }
        }

        public int Dialogs => Volatile.Read(ref _dialogs);

        public static async Task<ConsoleSession> OpenAsync(ServerHarness h)
        {
            var browser = await HeadlessChromium.LaunchAsync();
            try
            {
                var page = await browser.NewPageAsync();
                page.DefaultTimeout = (int)HeadlessChromium.Timeout.TotalMilliseconds;
                var session = new ConsoleSession(browser, page);
                page.Request += (_, e) =>
                {
                    lock (session._urls)
                    {
                        session._urls.Add(e.Request.Url);
                    }
                };
                page.PageError += (_, e) =>
                {
                    lock (session._errors)
                    {
                        session._errors.Add(e.Message);
                    }
                };
                page.Dialog += async (_, e) =>
                {
                    Interlocked.Increment(ref session._dialogs);
                    await e.Dialog.Accept();
                };
                var response = await page.GoToAsync(h.Server.Urls[0].ToString(), WaitUntilNavigation.Load);
                Assert.Equal(HttpStatusCode.OK, response.Status);
                return session;
            }
            catch
            {
                await browser.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Page.DisposeAsync();
            await Browser.DisposeAsync();
        }
    }
}
