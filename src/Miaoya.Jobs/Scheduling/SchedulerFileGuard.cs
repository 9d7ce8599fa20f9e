using System.Globalization;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// Only one process runs jobs from a SQLite file: Quartz on SQLite cannot be clustered, and a second scheduler would take
/// the first one's running steps for crashed ones when it starts. The guard is <c>&lt;db&gt;-scheduler.lock</c> opened
/// with <see cref="FileShare.None"/> (an exclusive <c>flock</c> on Unix, released by the kernel when the process dies,
/// <c>kill -9</c> included); the owner's pid goes in <c>&lt;db&gt;-scheduler.pid</c>, for the message the next process shows
/// (a file held that way cannot be read by another).
/// </summary>
internal sealed class SchedulerFileGuard : IDisposable
{
    private readonly FileStream _lock;
    private readonly string _pidFile;

    private SchedulerFileGuard(FileStream @lock, string pidFile)
    {
        _lock = @lock;
        _pidFile = pidFile;
    }

    /// <summary>Takes the guard of <paramref name="databasePath"/> at once, or throws <see cref="InvalidOperationException"/> naming the process that holds it.</summary>
    public static SchedulerFileGuard Acquire(string databasePath)
    {
        var database = Path.GetFullPath(databasePath);
        var lockFile = database + "-scheduler.lock";
        var pidFile = database + "-scheduler.pid";
        FileStream stream;
        try
        {
            stream = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (File.Exists(lockFile))
        {
            throw new InvalidOperationException(
                $"another Miaoya instance (pid {ReadOwner(pidFile)}) runs jobs from {database}; use PostgreSQL (--store Host=…) to run several instances", e);
        }

        try
        {
            File.WriteAllText(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only the message of the next process would miss the pid; the lock is what guards.
        }

        return new SchedulerFileGuard(stream, pidFile);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_pidFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Stale pid files are harmless: they are read only while the lock is held by someone.
        }

        _lock.Dispose(); // the lock file stays: deleting it would let two processes lock two different files
    }

    private static string ReadOwner(string pidFile)
    {
        try
        {
            return File.ReadAllText(pidFile).Trim() is { Length: > 0 } pid ? pid : "unknown";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
