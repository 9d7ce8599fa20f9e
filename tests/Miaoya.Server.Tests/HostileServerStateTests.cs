using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Miaoya.Imaging;

namespace Miaoya.Server.Tests;

/// <summary>The refusals that need their own server: a running worker (no box call may happen), special limits, folders made before start.</summary>
[Collection(Hostile.Collection)]
public sealed class HostileServerStateTests
{
    [Fact]
    public async Task Submit_PhotoWithoutAFace_Is400NamingTemplate_BeforeAnyBoxCall()
    {
        await using var h = await Hostile.StartAsync(worker: true);
        await Hostile.AssertProblemAsync(h, ServerHarness.Form("v2", Hostile.PlainPng(256, 256)), HttpStatusCode.BadRequest, "template", "face");
        await Hostile.AssertProblemAsync(h, Hostile.Json(("template", JsonSerializer.Serialize(Convert.ToBase64String(Hostile.PlainPng(256, 256))))), HttpStatusCode.BadRequest, "template", "face");
        // Give a worker the time it would need to pick up a job, had one been queued.
        await Task.Delay(500);
        Assert.Equal(0, Hostile.WorkCalls(h));
        Assert.Empty(Directory.EnumerateDirectories(h.JobsDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("5")]
    [InlineData("2147483647")]
    [InlineData("-1")]
    public async Task Submit_FaceIndexPastTheFaces_Is400NamingFaceIndex_BeforeAnyBoxCall(string index)
    {
        await using var h = await Hostile.StartAsync(worker: true);
        await Hostile.AssertProblemAsync(h, ServerHarness.Form("v2", null, ("face_index", index)), HttpStatusCode.BadRequest, "face_index");
        await Hostile.AssertProblemAsync(h, Hostile.Json(("face_index", index)), HttpStatusCode.BadRequest, "face_index");
        await Task.Delay(500);
        Assert.Equal(0, Hostile.WorkCalls(h));
        Assert.Empty(Directory.EnumerateDirectories(h.JobsDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
    }

    [Fact]
    public async Task Start_SweepsStagingFoldersOfGoneProcesses_AndLeavesThisProcesssAlone()
    {
        var deadPid = 999_999;
        while (IsRunning(deadPid))
        {
            deadPid++;
        }

        string? dead = null, oldStyle = null, mine = null, unrelated = null;
        await using var h = await ServerHarness.StartAsync(boxes: 1, configure: o =>
        {
            dead = Folder(o.UploadDirectory!, $"{SubmissionReader.StagingPrefix}{deadPid}-{Guid.NewGuid():N}");
            oldStyle = Folder(o.UploadDirectory!, $"{SubmissionReader.StagingPrefix}{Guid.NewGuid():N}");
            mine = Folder(o.UploadDirectory!, $"{SubmissionReader.StagingPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
            unrelated = Folder(o.UploadDirectory!, "somebody-else");
            return o with { NoWorker = true };
        });

        // The sweep runs in the background service, once the fleet has probed the boxes.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((Directory.Exists(dead) || Directory.Exists(oldStyle)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.False(Directory.Exists(dead), "the folder of a process that is not running was left");
        Assert.False(Directory.Exists(oldStyle), "an old-style folder (no process id) was left");
        Assert.True(File.Exists(Path.Combine(mine!, "t", "template.png")), "the folder of this (running) process was removed");
        Assert.True(File.Exists(Path.Combine(unrelated!, "t", "template.png")), "a folder that is not a staging folder was removed");

        static string Folder(string root, string name)
        {
            var folder = Path.Combine(root, name);
            Directory.CreateDirectory(Path.Combine(folder, "t"));
            File.WriteAllBytes(Path.Combine(folder, "t", "template.png"), Hostile.Template);
            return folder;
        }

        static bool IsRunning(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
    }

    [Fact]
    public void Stage_FolderIsPrivate_NamedAfterThisProcess_AndGoneWhenDisposed()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var root = Path.Combine(Path.GetTempPath(), "miaoya-stage-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            var form = new SubmissionForm
            {
                Template = new UploadedImage(new EncodedImage(Hostile.Template), "template.png"),
                Faces = [new UploadedImage(new EncodedImage(Hostile.Template), "face.png"), new UploadedImage(new EncodedImage(Hostile.Template), "face.png")],
                Recipe = "v2",
                Lora = "miaoya_demo_face",
            };
            string folder;
            using (var staged = SubmissionReader.Stage(form, root))
            {
                folder = staged.Folder;
                Assert.StartsWith($"{SubmissionReader.StagingPrefix}{Environment.ProcessId}-", Path.GetFileName(folder), StringComparison.Ordinal);
                Assert.Equal(root, Path.GetDirectoryName(folder));
                Assert.Equal(PrivateFiles.FolderMode, File.GetUnixFileMode(folder));
                foreach (var sub in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories))
                {
                    Assert.Equal(PrivateFiles.FolderMode, File.GetUnixFileMode(sub));
                }

                // The template and both face photos (two uploads of the same name, each in its own folder).
                var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToList();
                Assert.Equal(3, files.Count);
                Assert.Equal(staged.Submission.FacePaths.Count, staged.Submission.FacePaths.Distinct().Count());
                foreach (var file in files)
                {
                    Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(file));
                }

                Assert.Equal(Hostile.Template, File.ReadAllBytes(staged.Submission.TemplatePath));
            }

            Assert.False(Directory.Exists(folder));
            Assert.Empty(Directory.EnumerateFileSystemEntries(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Submit_Accepted_JobFolderAndStoreArePrivate_AndNoUploadStays()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var h = await Hostile.StartAsync();
        var answer = await Hostile.PostAsync(h, Hostile.Form(("identity", "customer-1")));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        var id = answer.Json.GetProperty("id").GetString()!;
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));

        Assert.Equal(PrivateFiles.FolderMode, File.GetUnixFileMode(h.JobsDirectory));
        var folder = Path.Combine(h.JobsDirectory, id);
        Assert.Equal(PrivateFiles.FolderMode, File.GetUnixFileMode(folder));
        foreach (var sub in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories))
        {
            Assert.Equal(PrivateFiles.FolderMode, File.GetUnixFileMode(sub));
        }

        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => Path.GetFileName(f) == "template.png");
        foreach (var file in files)
        {
            Assert.True(File.GetUnixFileMode(file) == PrivateFiles.FileMode, $"{Path.GetRelativePath(folder, file)} is {File.GetUnixFileMode(file)}");
        }

        foreach (var store in new[] { "jobs.db", "jobs.db-wal", "jobs.db-shm", "jobs.db-journal" }.Select(f => Path.Combine(h.JobsDirectory, f)).Where(File.Exists))
        {
            Assert.True(File.GetUnixFileMode(store) == PrivateFiles.FileMode, $"{Path.GetFileName(store)} is {File.GetUnixFileMode(store)}");
        }

        Assert.True(File.Exists(Path.Combine(h.JobsDirectory, "jobs.db")));
    }

    [Fact]
    public async Task Submit_BeyondConcurrentAndWaitingLimits_Is503WithRetryAfter_OthersAccepted()
    {
        await using var h = await Hostile.StartAsync(configure: o => o with { MaxConcurrentSubmissions = 1, SubmissionQueueLimit = 0 });
        using var form = Hostile.Form();
        var body = await form.ReadAsByteArrayAsync();
        var contentType = form.Headers.ContentType!.ToString();

        // The first submission holds the only permit while its body trickles in.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = Hostile.PostAsync(h, new HeldBackContent(body, contentType, release.Task));
        await Task.Delay(500);
        var others = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Hostile.PostAsync(h, Hostile.Raw(body, contentType))));
        release.SetResult();
        var answers = others.Prepend(await slow).ToList();

        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable, a.ToString()));
        var busy = answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        Assert.Contains(answers, a => a.Status == HttpStatusCode.Accepted);
        foreach (var answer in busy)
        {
            Assert.True(answer.Headers.RetryAfter is not null, $"no Retry-After: {answer}");
            Hostile.AssertIsProblem(answer);
        }

        // The permit is free again.
        var after = await Hostile.PostAsync(h, Hostile.Raw(body, contentType));
        Assert.True(after.Status == HttpStatusCode.Accepted, after.ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.UploadDirectory));
    }

    /// <summary>A body whose first bytes are sent at once and the rest only when the release task completes.</summary>
    private sealed class HeldBackContent : HttpContent
    {
        private readonly byte[] _body;
        private readonly Task _release;

        public HeldBackContent(byte[] body, string contentType, Task release)
        {
            _body = body;
            _release = release;
            Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(_body.AsMemory(0, 200));
            await stream.FlushAsync();
            await _release;
            await stream.WriteAsync(_body.AsMemory(200));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _body.Length;
            return true;
        }
    }
}
