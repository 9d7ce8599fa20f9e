using Miaoya.TestSupport;

namespace Miaoya.Tuning.Tests;

/// <summary>The HTML pages in a real headless Chromium: every image loads; screenshots go to the test output folder.</summary>
[Collection(TwoRunsGroup.Name)]
public sealed class BrowserTests(TwoRunsFixture runs)
{
    private static string Screenshot(string name) => Path.Combine(AppContext.BaseDirectory, "screenshots", name);

    [ChromiumFact]
    public async Task ContactSheetPage_EveryImageLoads()
    {
        var check = await HeadlessChromium.CheckPageAsync(Path.Combine(runs.Folder, ContactSheet.HtmlFileName), Screenshot("contact-sheet.png"));

        check.AssertAllImagesLoaded(atLeast: 2);
        Assert.Equal(2, check.Images.Count);
        Assert.StartsWith("Sweep: v1-face", check.Title, StringComparison.Ordinal);
        Assert.True(new FileInfo(check.Screenshot).Length > 1000);
    }

    [ChromiumFact]
    public async Task ComparePage_EveryImageLoads()
    {
        var comparison = await RunComparison.LoadAsync(runs.RunA, runs.RunB);
        var page = await comparison.WriteHtmlAsync(Path.Combine(runs.Folder, "compare"));

        var check = await HeadlessChromium.CheckPageAsync(page, Screenshot("compare.png"));

        check.AssertAllImagesLoaded(atLeast: 2 * comparison.Images.Count);
    }

    [ChromiumFact]
    public async Task PageWithABrokenImage_FailsNamingIt()
    {
        var folder = Directory.CreateTempSubdirectory("miaoya-broken-").FullName;
        try
        {
            File.Copy(Path.Combine(runs.RunA, "final.png"), Path.Combine(folder, "good.png"));
            var page = Path.Combine(folder, "index.html");
            await File.WriteAllTextAsync(page, "<!doctype html><title>broken</title><img src=\"good.png\"><img src=\"missing.png\"><img src=\"good.png\">");

            var check = await HeadlessChromium.CheckPageAsync(page, Screenshot("broken.png"));

            Assert.Equal(3, check.Images.Count);
            Assert.Equal("missing.png", Assert.Single(check.Broken).Src);
            var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => check.AssertAllImagesLoaded());
            Assert.Contains("1 of 3 images did not load in Chromium: missing.png", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
