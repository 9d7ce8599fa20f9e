namespace Miaoya.Imaging;

/// <summary>
/// Folders and files that hold a person's data (photos, masks, results, manifests): readable by this user only —
/// folders 0700, files 0600 — whatever the umask. On Windows the folder's inherited ACL applies.
/// </summary>
public static class PrivateFiles
{
    /// <summary>rwx for the owner.</summary>
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw for the owner.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates <paramref name="path"/> and each missing parent as 0700 (existing folders are left as they are;
    /// <see cref="Directory.CreateDirectory(string, UnixFileMode)"/> gives the mode to the last folder only).
    /// </summary>
    public static DirectoryInfo CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return Directory.CreateDirectory(path);
        }

        var full = Path.GetFullPath(path);
        var missing = new Stack<string>();
        for (var folder = full; !string.IsNullOrEmpty(folder) && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            missing.Push(folder);
        }

        while (missing.TryPop(out var folder))
        {
            Directory.CreateDirectory(folder, FolderMode);
        }

        return new DirectoryInfo(full);
    }

    /// <summary>Options that create a new file as 0600.</summary>
    public static FileStreamOptions CreateOptions(System.IO.FileMode mode = System.IO.FileMode.CreateNew)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        return options;
    }

    /// <summary>Writes a new file (or replaces one) created as 0600.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using (var stream = new FileStream(path, CreateOptions(System.IO.FileMode.Create)))
        {
            stream.Write(bytes);
        }

        if (!OperatingSystem.IsWindows())
        {
            // A file that existed keeps its mode through FileMode.Create.
            File.SetUnixFileMode(path, FileMode);
        }
    }
}
