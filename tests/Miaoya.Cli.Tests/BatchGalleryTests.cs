using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Miaoya.Jobs;
using Miaoya.MockWebUi;
using Miaoya.TestSupport;

namespace Miaoya.Cli.Tests;

/// <summary>
/// The gallery <c>index.html</c> that <c>miaoya batch</c> writes into its folder: every entry by its name from the batch file,
/// names HTML-encoded, failed entries with their step and error, links only to files that exist; rewritten when the batch
/// is resumed and when it is interrupted; every image loads in Chromium.
/// </summary>
[Collection(ConsoleTests.Name)]
public sealed partial class BatchGalleryTests : IDisposable
{
    private const string Hostile = "<script>alert(1)</script>";

    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-batch-gallery-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Gallery_ListsEveryEntryByName_EncodesNames_ShowsFailures_LinksOnlyFilesThatExist_AndIsRewrittenOnResume()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("realisticVisionV60B1_v51VAE");
        using var box = MockWebUiServer.Start(options);
        var jobs = await WriteBatchAsync($$"""
            templates: [a.png]
            identities:
              - {name: anna, lora: miaoya_demo_face}
              - {name: ben, lora: miaoya_demo_face}
            recipes:
              - v1-face
              - {recipe: v1-face, name: "{{Hostile}}", overrides: [base_model=realisticVisionV60B1_v51VAE]}
            seed: 42
            boxes: ["{{box.Url}}"]
            """);
        var output = Path.Combine(_folder, "out");

        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);

        Assert.True(code == 1, stdout + stderr);
        Assert.Contains($"the gallery: {Path.Combine(output, "index.html")}", stdout, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(Path.Combine(output, "index.html"));
        string[] names = ["anna", "anna", "ben", "ben"];
        for (var i = 0; i < names.Length; i++)
        {
            Assert.Contains($"<h2>#{i + 1} {names[i]}</h2>", html, StringComparison.Ordinal);
        }

        Assert.Equal(4, Regex.Count(html, "<figure "));
        Assert.Equal(2, Regex.Count(html, "<td>v1-face</td>"));
        Assert.Equal(2, Regex.Count(html, "<td>&lt;script&gt;alert\\(1\\)&lt;/script&gt;</td>"));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(4, Regex.Count(html, "<td>42</td>"));
        Assert.Equal(2, Regex.Count(html, "<figure class=\"failed\""));
        Assert.Equal(2, Regex.Count(html, "<p class=\"error\">step inpaint: [^<]*checkpoint &quot;realisticVisionV60B1_v51VAE&quot; is not on the box"));
        Assert.Equal(2, Regex.Count(html, "<img "));
        AssertEveryLinkExists(output, html, atLeast: 2 + 2 + 4); // each final twice (image and link), each manifest
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));

        // A finished job's image goes away; the same command again resumes the batch (nothing to do) and rewrites the page.
        string finalOfFirst;
        using (var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "batch.json"))))
        {
            finalOfFirst = record.RootElement.GetProperty("jobs")[0].GetProperty("final").GetString()!;
        }

        File.Delete(finalOfFirst);
        (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);

        Assert.True(code == 1, stdout + stderr);
        Assert.Contains("4 already in the store, 0 queued now", stdout, StringComparison.Ordinal);
        html = await File.ReadAllTextAsync(Path.Combine(output, "index.html"));
        Assert.Equal(4, Regex.Count(html, "<figure "));
        Assert.Equal(1, Regex.Count(html, "<img "));
        Assert.Contains("final.png missing", html, StringComparison.Ordinal);
        AssertEveryLinkExists(output, html, atLeast: 2 + 4);
    }

    /// <summary>
    /// What Ctrl+C sends (SIGINT), unless this process ignores SIGINT: then its children do too (a command started in the
    /// background of a non-interactive shell, such as a CI script run with <c>&amp;</c> or nohup, starts so, and .NET keeps
    /// an inherited SIG_IGN), and the batch is stopped the other way it stops cleanly, SIGTERM.
    /// </summary>
    private static string CtrlCOrTerm()
    {
        const string Status = "/proc/self/status"; // Linux; elsewhere SIGINT is sent
        var ignored = !File.Exists(Status) ? null : File.ReadLines(Status).FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        var mask = ignored is null ? 0 : Convert.ToUInt64(ignored["SigIgn:".Length..].Trim(), 16);
        return (mask & (1UL << (2 - 1))) != 0 ? "-TERM" : "-INT";
    }

    [Fact]
    public async Task Gallery_BatchInterruptedWithCtrlC_ShowsWhatFinished_AndTheUnfinishedEntries()
    {
        // Renders slow enough that the five jobs after the first cannot all finish before the store is read: on a loaded
        // machine reading it once took seconds, and the whole batch had finished by the time the signal was sent.
        var options = new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(1500) };
        using var box = MockWebUiServer.Start(options);
        var identities = string.Join("\n", Enumerable.Range(0, 6).Select(i => $"  - {{name: p{i}, lora: miaoya_demo_face}}"));
        var jobs = await WriteBatchAsync($"templates: [a.png]\nidentities:\n{identities}\nrecipes: [v1-face]\nseed: 7\nboxes: [\"{box.Url}\"]\n");
        var output = Path.Combine(_folder, "out");
        var store = Path.Combine(output, "jobs.db");
        var log = new ConcurrentQueue<string>();

        using (var batch = CliProcess.Start(["batch", jobs, "--out", output, "--slots", "1", "--verbose"], log))
        {
            try
            {
                await CliProcess.WaitUntilAsync(store, batch, log, jobs => jobs.Any(j => j.State == JobState.Succeeded));

                // Then stall the renders still to come, so that the interrupt cannot come after the batch's end. (The mock
                // reads its latency at each render; the batch's interrupt ends a render at once, as on a real box.)
                options.Latency = TimeSpan.FromSeconds(30);
                using var interrupt = Process.Start("kill", [CtrlCOrTerm(), batch.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
                await interrupt.WaitForExitAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
                try
                {
                    await batch.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"the batch did not stop within a minute of the interrupt:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
                }
            }
            finally
            {
                if (!batch.HasExited)
                {
                    batch.Kill();
                }
            }

            Assert.True(batch.ExitCode == 130, $"exit {batch.ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, log)}");
        }

        IReadOnlyList<JobRecord> stored;
        await using (var observer = await JobStore.OpenAsync(store))
        {
            stored = await observer.ListJobsAsync();
        }

        var succeeded = stored.Count(j => j.State == JobState.Succeeded);
        Assert.InRange(succeeded, 1, 5);
        var html = await File.ReadAllTextAsync(Path.Combine(output, "index.html"));
        Assert.Equal(6, Regex.Count(html, "<figure "));
        for (var i = 0; i < 6; i++)
        {
            Assert.Contains($"<h2>#{i + 1} p{i}</h2>", html, StringComparison.Ordinal);
        }

        Assert.Equal(succeeded, Regex.Count(html, "<figure class=\"succeeded\""));
        Assert.Equal(succeeded, Regex.Count(html, "<img "));
        Assert.Contains($"{6 - succeeded} of 6 entries have not finished: run the same <code>miaoya batch</code> command again to resume", html, StringComparison.Ordinal);
        AssertEveryLinkExists(output, html, atLeast: 2 * succeeded);
    }

    [ChromiumFact]
    public async Task Gallery_EveryImageLoadsInChromium()
    {
        using var box = MockWebUiServer.Start();
        var jobs = await WriteBatchAsync($$"""
            templates: [a.png]
            identities: [{name: anna, lora: miaoya_demo_face}, {name: ben, lora: miaoya_demo_face}]
            recipes: [v1-face]
            boxes: ["{{box.Url}}"]
            """);
        var output = Path.Combine(_folder, "out");
        var (code, stdout, stderr) = await CliRunner.RunAsync("batch", jobs, "--out", output);
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal(2, Regex.Count(await File.ReadAllTextAsync(Path.Combine(output, "index.html")), @"<th>seed</th><td>\d+ \(drawn\)</td>")); // no seed: each job's, from its manifest

        var check = await HeadlessChromium.CheckPageAsync(Path.Combine(output, "index.html"), Path.Combine(AppContext.BaseDirectory, "screenshots", "batch-gallery.png"));

        check.AssertAllImagesLoaded(atLeast: 2);
        Assert.Equal(2, check.Images.Count);
        Assert.Equal("Batch: jobs.yaml", check.Title);
    }

    /// <summary>Every href and src of the page is a relative link to a file that exists under <paramref name="folder"/>.</summary>
    private static void AssertEveryLinkExists(string folder, string html, int atLeast)
    {
        var links = Link().Matches(html).Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        Assert.True(links.Count >= atLeast, $"{links.Count} links, expected at least {atLeast}");
        foreach (var link in links)
        {
            Assert.False(Uri.TryCreate(link, UriKind.Absolute, out _), $"{link}: not a relative link");
            var path = Path.GetFullPath(Path.Combine(folder, Uri.UnescapeDataString(link)));
            Assert.True(File.Exists(path), $"{link}: no such file ({path})");
        }
    }

    [GeneratedRegex("(?:href|src)=\"([^\"]*)\"")]
    private static partial Regex Link();

    private async Task<string> WriteBatchAsync(string yaml)
    {
        await using (var stream = typeof(CliApp).Assembly.GetManifestResourceStream("template-astronaut.png")!)
        await using (var file = File.Create(Path.Combine(_folder, "a.png")))
        {
            await stream.CopyToAsync(file);
        }

        var path = Path.Combine(_folder, "jobs.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }
}
