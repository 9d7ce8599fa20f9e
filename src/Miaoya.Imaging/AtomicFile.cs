namespace Miaoya.Imaging;

/// <summary>
/// Writes files through a temporary file in the same folder and a rename, so a reader never sees half a file. Files are
/// created 0600 and missing folders 0700 (<see cref="PrivateFiles"/>): what is written this way is a person's photos and
/// the records of their runs.
/// </summary>
public static class AtomicFile
{
    public static async Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        var (full, temporary) = Prepare(path);
        try
        {
            await using (var stream = new FileStream(temporary, PrivateFiles.CreateOptions()))
            {
                await stream.WriteAsync(bytes, cancellationToken);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The same, synchronously (for callers on a thread that must not wait on async I/O, e.g. a process-output reader).</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var (full, temporary) = Prepare(path);
        try
        {
            using (var stream = new FileStream(temporary, PrivateFiles.CreateOptions()))
            {
                stream.Write(bytes);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static (string Full, string Temporary) Prepare(string path)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        PrivateFiles.CreateDirectory(directory);
        return (full, Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp"));
    }
}
