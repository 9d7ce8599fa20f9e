using System.Diagnostics;

namespace Miaoya.Doctor.Tests;

/// <summary>webui-extensions/install-extensions.sh as written, against local git repositories standing in for GitHub.</summary>
public sealed class InstallScriptTests : IDisposable
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "webui-extensions", "install-extensions.sh");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-install-" + Guid.NewGuid().ToString("N"));

    public InstallScriptTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ClonesAtThePins_SecondRunChangesNothing_NewPinIsFetched()
    {
        var (a, aFirst) = Repository("ext-a-src", 2);
        var (b, bLast) = Repository("ext-b-src", 1);
        var aPin = Git(a, "rev-parse", "HEAD~1");
        var manifest = Manifest((a, "ext-a", aPin), (b, "ext-b", bLast));

        var first = Run(manifest);
        var second = Run(manifest);

        Assert.Equal(0, first.Code);
        Assert.Equal(aPin, Git(Path.Combine(_folder, "extensions", "ext-a"), "rev-parse", "HEAD"));
        Assert.Equal(bLast, Git(Path.Combine(_folder, "extensions", "ext-b"), "rev-parse", "HEAD"));
        Assert.Contains($"ext-a: checked out {aPin[..8]}", first.Output, StringComparison.Ordinal);
        Assert.Equal(0, second.Code);
        Assert.Contains($"ext-a: at {aPin[..8]} already", second.Output, StringComparison.Ordinal);
        Assert.Contains($"ext-b: at {bLast[..8]} already", second.Output, StringComparison.Ordinal);

        // A commit made upstream after the clone: the script fetches it.
        Git(a, "commit", "--allow-empty", "-q", "-m", "later");
        var newPin = Git(a, "rev-parse", "HEAD");
        var third = Run(Manifest((a, "ext-a", newPin), (b, "ext-b", bLast)));
        Assert.Equal(0, third.Code);
        Assert.Equal(newPin, Git(Path.Combine(_folder, "extensions", "ext-a"), "rev-parse", "HEAD"));
        Assert.NotEqual(aFirst, newPin);
    }

    [Fact]
    public void FolderThatIsNotACheckout_IsLeftAlone_Exit1()
    {
        var (a, head) = Repository("ext-a-src", 1);
        var existing = Path.Combine(_folder, "extensions", "ext-a");
        Directory.CreateDirectory(existing);
        File.WriteAllText(Path.Combine(existing, "mine.txt"), "keep");

        var result = Run(Manifest((a, "ext-a", head)));

        Assert.Equal(1, result.Code);
        Assert.Contains("not a git checkout", result.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(existing, "mine.txt")));
    }

    [Fact]
    public void ShortCommit_IsRefused_Exit2()
    {
        var (a, head) = Repository("ext-a-src", 1);
        var result = Run(Manifest((a, "ext-a", head[..8])));

        Assert.Equal(2, result.Code);
        Assert.Contains("40-hex commit", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRealManifest_IsReadAsTheDoctorReadsIt()
    {
        // The script's own parser (awk) must find the same dir/repo/commit triples as the C# one: run it with a git
        // that only records what it is asked to do.
        var bin = Path.Combine(_folder, "bin");
        Directory.CreateDirectory(bin);
        var log = Path.Combine(_folder, "git.log");
        var fakeGit = Path.Combine(bin, "git");
        File.WriteAllText(fakeGit, $"#!/bin/sh\necho \"$@\" >> '{log}'\nif [ \"$1\" = clone ]; then mkdir -p \"$4/.git\"; fi\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(fakeGit, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var manifest = Path.Combine(_folder, "manifest.yaml");
        using (var stream = typeof(WebUiManifest).Assembly.GetManifestResourceStream("Miaoya.Doctor.manifest.yaml")!)
        using (var file = File.Create(manifest))
        {
            stream.CopyTo(file);
        }

        var result = Run(manifest, bin);

        Assert.Equal(0, result.Code);
        var calls = File.ReadAllLines(log);
        foreach (var pin in WebUiManifest.BuiltIn.Extensions)
        {
            var target = Path.Combine(_folder, "extensions", pin.Dir);
            Assert.Contains($"clone --quiet {pin.Repo} {target}", calls);
            Assert.Contains($"-C {target} -c advice.detachedHead=false checkout --quiet {pin.Commit}", calls);
        }
    }

    private (string Path, string Head) Repository(string name, int commits)
    {
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(path);
        Git(path, "init", "-q");
        for (var i = 0; i < commits; i++)
        {
            Git(path, "commit", "--allow-empty", "-q", "-m", $"commit {i}");
        }

        return (path, Git(path, "rev-parse", "HEAD"));
    }

    private string Manifest(params (string Repo, string Dir, string Commit)[] extensions)
    {
        var path = Path.Combine(_folder, $"manifest-{Guid.NewGuid():N}.yaml");
        var lines = new List<string> { "webui:", "  repo: x", "extensions:" };
        foreach (var (repo, dir, commit) in extensions)
        {
            lines.AddRange([$"  - id: {dir}", $"    dir: {dir}", $"    repo: {repo}   # local stand-in", $"    commit: {commit}", "    modules: [a, b]"]);
        }

        lines.AddRange(["models:", "  - kind: checkpoint", "    dir: not-an-extension"]);
        File.WriteAllLines(path, lines);
        return path;
    }

    private (int Code, string Output) Run(string manifest, string? pathPrefix = null)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _folder };
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(Path.Combine(_folder, "extensions"));
        start.ArgumentList.Add(manifest);
        if (pathPrefix is not null)
        {
            start.Environment["PATH"] = pathPrefix + ":" + Environment.GetEnvironmentVariable("PATH");
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }

    private static string Git(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["GIT_AUTHOR_NAME"] = start.Environment["GIT_COMMITTER_NAME"] = "test";
        start.Environment["GIT_AUTHOR_EMAIL"] = start.Environment["GIT_COMMITTER_EMAIL"] = "test@example.invalid";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
        return output.Trim();
    }
}
