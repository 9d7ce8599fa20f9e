namespace Miaoya.Imaging.Tests;

/// <summary>Unix modes: every test is a <see cref="LinuxFactAttribute"/> but the last.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PrivateFilesTests : IDisposable
{
    private const UnixFileMode Rw = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode Rwx = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-private-" + Guid.NewGuid().ToString("N"));

    public PrivateFilesTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [LinuxFact]
    public async Task WriteAllBytesAsync_NewFileInNewFolders_Is0600In0700Folders()
    {
        var path = Path.Combine(_folder, "runs", "portrait", "result.png");

        await AtomicFile.WriteAllBytesAsync(path, new byte[] { 1, 2, 3 });

        Assert.Equal(Rw, File.GetUnixFileMode(path));
        Assert.Equal(Rwx, File.GetUnixFileMode(Path.Combine(_folder, "runs", "portrait")));
        Assert.Equal(Rwx, File.GetUnixFileMode(Path.Combine(_folder, "runs")));
    }

    [LinuxFact]
    public void WriteAllBytes_NewFileInNewFolder_Is0600In0700Folder()
    {
        var path = Path.Combine(_folder, "masks", "mask.png");

        AtomicFile.WriteAllBytes(path, [1, 2, 3]);

        Assert.Equal(Rw, File.GetUnixFileMode(path));
        Assert.Equal(Rwx, File.GetUnixFileMode(Path.Combine(_folder, "masks")));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
    }

    [LinuxFact]
    public void WriteAllBytes_ReplacingAWorldReadableFile_LeavesIt0600()
    {
        var path = Path.Combine(_folder, "manifest.json");
        File.WriteAllBytes(path, [9]);
        File.SetUnixFileMode(path, Rw | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        AtomicFile.WriteAllBytes(path, [1]);

        Assert.Equal(Rw, File.GetUnixFileMode(path));
        Assert.Equal([1], File.ReadAllBytes(path));
    }

    [LinuxFact]
    public void PrivateFilesWriteAllBytes_NewFile_Is0600()
    {
        var path = Path.Combine(_folder, "photo.png");

        PrivateFiles.WriteAllBytes(path, [1, 2]);

        Assert.Equal(Rw, File.GetUnixFileMode(path));
    }

    [LinuxFact]
    public void PrivateFilesWriteAllBytes_ReplacingAWorldReadableFile_LeavesIt0600()
    {
        // "Readable by this user only, whatever the umask": a photo written over a 0644 file must not stay 0644.
        var path = Path.Combine(_folder, "photo.png");
        File.WriteAllBytes(path, [9]);
        File.SetUnixFileMode(path, Rw | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        PrivateFiles.WriteAllBytes(path, [1, 2]);

        Assert.Equal(Rw, File.GetUnixFileMode(path));
    }

    [LinuxFact]
    public void CreateDirectory_NestedFolders_Are0700_AndAnExistingFolderIsLeftAsItIs()
    {
        var existing = Path.Combine(_folder, "shared");
        Directory.CreateDirectory(existing);
        File.SetUnixFileMode(existing, Rwx | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);

        PrivateFiles.CreateDirectory(Path.Combine(existing, "a", "b"));

        Assert.Equal(Rwx, File.GetUnixFileMode(Path.Combine(existing, "a")));
        Assert.Equal(Rwx, File.GetUnixFileMode(Path.Combine(existing, "a", "b")));
        Assert.Equal(Rwx | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, File.GetUnixFileMode(existing));
    }

    [Fact]
    public void WriteAllBytes_LeavesNoTemporaryFileBehind()
    {
        var path = Path.Combine(_folder, "out", "a.bin");

        AtomicFile.WriteAllBytes(path, [1]);
        AtomicFile.WriteAllBytes(path, [2]);

        Assert.Equal(["a.bin"], Directory.GetFiles(Path.Combine(_folder, "out")).Select(Path.GetFileName));
    }
}
