using System.Text.Json.Nodes;
using PuppeteerSharp;

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
/// Debian's chromium driven headless through PuppeteerSharp (a maintained DevTools client) launched on the installed
/// executable (<see cref="LaunchOptions.ExecutablePath"/>): nothing is downloaded, there is no BrowserFetcher here.
/// </summary>
public static class HeadlessChromium
{
    /// <summary>Set to 1 (CI does) to make a missing Chromium fail the browser tests instead of skipping them.</summary>
    public const string RequireVariable = "MIAOYA_REQUIRE_CHROMIUM";

    /// <summary>How long one page check may take, and the default timeout of every page's waits.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>MIAOYA_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH; null when none is found.</summary>
    public static string? Executable { get; } = Find();

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Why browser tests skip here, or null when they run (Chromium found, or required so that they fail).</summary>
    public static string? SkipReason => Executable is null && !Required
        ? $"Chromium not found (install Debian's chromium, or set MIAOYA_CHROMIUM); set {RequireVariable}=1 to fail instead of skipping."
        : null;

    /// <summary>Starts headless Chromium (a private temporary profile, 1280×900 viewport); dispose the browser to end it.</summary>
    public static async Task<IBrowser> LaunchAsync()
    {
        var executable = Executable ?? throw new InvalidOperationException($"Chromium is not installed ({RequireVariable}=1 requires it): apt-get install chromium, or set MIAOYA_CHROMIUM.");
        return await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = executable,
            Browser = SupportedBrowser.Chromium,
            Headless = true,
            // --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio"],
            DefaultViewport = new ViewPortOptions { Width = 1280, Height = 900 },
            Timeout = (int)Timeout.TotalMilliseconds,
            ProtocolTimeout = (int)Timeout.TotalMilliseconds,
        });
    }

    /// <summary>Loads <paramref name="htmlFile"/> (file:// URL), lists its images and saves a full-page PNG screenshot.</summary>
    public static async Task<PageCheck> CheckPageAsync(string htmlFile, string screenshot, CancellationToken cancellationToken = default)
    {
        var url = new Uri(Path.GetFullPath(htmlFile)).AbsoluteUri;
        try
        {
            return await CheckAsync(url, screenshot).WaitAsync(Timeout, cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"Chromium did not answer within {Timeout.TotalSeconds:0} s for {url}: {e.Message}", e);
        }
    }

    private static async Task<PageCheck> CheckAsync(string url, string screenshot)
    {
        await using var browser = await LaunchAsync();
        await using var page = await browser.NewPageAsync();
        page.DefaultTimeout = (int)Timeout.TotalMilliseconds;
        try
        {
            await page.GoToAsync(url, WaitUntilNavigation.Load);
        }
        catch (NavigationException e)
        {
            throw new InvalidOperationException($"Chromium could not open {url}: {e.Message}", e);
        }

        var found = JsonNode.Parse(await page.EvaluateExpressionAsync<string>(
            "JSON.stringify({title: document.title, images: Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))})"))!;
        var images = found["images"]!.AsArray().Select(i => new PageImage(
            i!["src"]?.GetValue<string>() ?? "",
            i["complete"]!.GetValue<bool>(),
            i["w"]!.GetValue<int>(),
            i["h"]!.GetValue<int>())).ToArray();

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(screenshot))!);
        await page.ScreenshotAsync(screenshot, new ScreenshotOptions { FullPage = true, Type = ScreenshotType.Png });
        return new PageCheck(url, found["title"]?.GetValue<string>() ?? "", images, Path.GetFullPath(screenshot));
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
