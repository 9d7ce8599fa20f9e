using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Miaoya.Training;

/// <summary>What a finished trainer process left behind.</summary>
/// <param name="ExitCode">The process' exit code.</param>
/// <param name="LastProgress">The last progress bar state read, if any.</param>
/// <param name="Tail">The last lines of stdout and stderr together, in the order they were read.</param>
/// <param name="ErrorTail">
/// The last lines of stderr alone. stdout and stderr are two pipes read by two readers, so in <see cref="Tail"/> a block
/// written to one (a traceback) can arrive with lines of the other, written before it, read after it.
/// </param>
public sealed record TrainerResult(int ExitCode, TrainerProgress? LastProgress, IReadOnlyList<string> Tail, IReadOnlyList<string>? ErrorTail = null);

/// <summary>
/// Runs a trainer command through the shell (<c>/bin/sh -c</c>; <c>cmd /c</c> on Windows) in a working folder, tees its
/// stdout and stderr into a log file, splits them at <c>\r</c> and <c>\n</c> (tqdm redraws its bar with <c>\r</c>) and
/// parses progress from them. Cancelling kills the whole process tree (accelerate starts python workers as children).
/// <c>PYTHONUNBUFFERED=1</c> is set so Python's prints are not held back in a pipe buffer.
/// </summary>
public static partial class TrainerRunner
{
    private const int TailLines = 400;
    private const string TracebackHead = "Traceback (most recent call last)";

    public static async Task<TrainerResult> RunAsync(
        string command,
        string workingDirectory,
        string logFile,
        Action<TrainerProgress>? onProgress,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        ArgumentException.ThrowIfNullOrWhiteSpace(workingDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(logFile);
        if (!Directory.Exists(workingDirectory))
        {
            throw new TrainingException($"trainer folder {workingDirectory} does not exist (--trainer-dir: the sd-scripts checkout).", badInput: true);
        }

        var info = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("cmd.exe") { ArgumentList = { "/c", command } }
            : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", command } };
        info.WorkingDirectory = workingDirectory;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        info.StandardOutputEncoding = Encoding.UTF8;
        info.StandardErrorEncoding = Encoding.UTF8;
        info.Environment["PYTHONUNBUFFERED"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        await using var log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)) { AutoFlush = true };
        var parser = new TrainerProgressParser();
        var tail = new Queue<string>();
        var errorTail = new Queue<string>();
        var gate = new object();

        void Keep(Queue<string> lines, string line)
        {
            lines.Enqueue(line);
            if (lines.Count > TailLines)
            {
                lines.Dequeue();
            }
        }

        void OnLine(string line, bool redraw, bool fromStderr)
        {
            lock (gate)
            {
                if (parser.Feed(line))
                {
                    onProgress?.Invoke(parser.Latest!);
                }

                // Bar redraws are kept out of the tail (only the last state of a bar is worth quoting).
                if (!redraw && line.Length > 0)
                {
                    Keep(tail, line);
                    if (fromStderr)
                    {
                        Keep(errorTail, line);
                    }
                }
            }
        }

        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new TrainingException($"could not start the trainer ({info.FileName}): {e.Message}", inner: e);
        }

        process.StandardInput.Close();
        await using var registration = cancellationToken.Register(() =>
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already exited
            }
        });

        var stdout = PumpAsync(process.StandardOutput, log, gate, (line, redraw) => OnLine(line, redraw, fromStderr: false));
        var stderr = PumpAsync(process.StandardError, log, gate, (line, redraw) => OnLine(line, redraw, fromStderr: true));
        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            return new TrainerResult(process.ExitCode, parser.Latest, tail.ToArray(), errorTail.ToArray());
        }
    }

    private static async Task PumpAsync(StreamReader reader, StreamWriter log, object gate, Action<string, bool> onLine)
    {
        var buffer = new char[4096];
        var line = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            lock (gate)
            {
#pragma warning disable VSTHRD103 // one small write under the lock shared with the other stream; the log is a local file
                log.Write(buffer, 0, read);
#pragma warning restore VSTHRD103
            }

            for (var i = 0; i < read; i++)
            {
                var c = buffer[i];
                if (c is '\r' or '\n')
                {
                    // "\r\n" ends a line; a lone "\r" is a redraw of the same line.
                    var redraw = c == '\r' && !(i + 1 < read && buffer[i + 1] == '\n');
                    if (line.Length > 0 || c == '\n')
                    {
                        onLine(line.ToString(), redraw);
                    }

                    line.Clear();
                }
                else
                {
                    line.Append(c);
                }
            }
        }

        if (line.Length > 0)
        {
            onLine(line.ToString(), false);
        }
    }

    /// <summary>
    /// The lines of a finished process worth quoting: the last Python traceback of its stderr through to the end of stderr
    /// (CPython's default excepthook prints an uncaught exception to <c>sys.stderr</c>), so that stdout lines read late
    /// cannot push the exception line out of the quote; else <see cref="RelevantLines(IReadOnlyList{string}, int)"/> of
    /// both streams together.
    /// </summary>
    public static IReadOnlyList<string> RelevantLines(TrainerResult result, int max = 25)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.ErrorTail is { } errors && errors.Any(l => l.Contains(TracebackHead, StringComparison.Ordinal))
            ? RelevantLines(errors, max)
            : RelevantLines(result.Tail, max);
    }

    /// <summary>
    /// The log lines worth quoting when training failed: the last Python traceback through to the end; else the lines
    /// that name an error; else the last lines. Never empty: says so when the trainer printed nothing.
    /// </summary>
    public static IReadOnlyList<string> RelevantLines(IReadOnlyList<string> tail, int max = 25)
    {
        ArgumentNullException.ThrowIfNull(tail);
        if (tail.Count == 0)
        {
            return ["(the trainer printed nothing: check that the command runs by itself in the trainer folder)"];
        }

        var start = -1;
        for (var i = tail.Count - 1; i >= 0; i--)
        {
            if (tail[i].Contains(TracebackHead, StringComparison.Ordinal))
            {
                start = i;
                break;
            }
        }

        IReadOnlyList<string> lines;
        if (start >= 0)
        {
            lines = tail.Skip(start).ToArray();
        }
        else
        {
            var errors = tail.Where(l => ErrorWord().IsMatch(l)).ToArray();
            lines = errors.Length > 0 ? errors : tail;
        }

        if (lines.Count <= max)
        {
            return lines;
        }

        // Keep the head of a traceback and the final exception line(s).
        return [.. lines.Take(4), $"… ({lines.Count - max + 1} lines left out)", .. lines.Skip(lines.Count - (max - 5))];
    }

    [GeneratedRegex(@"(?i)(\berror\b|exception|\bfatal\b|\bkilled\b|out of memory|not found|no such file|errno)")]
    private static partial Regex ErrorWord();

    /// <summary>
    /// When the shell could not start the trainer's program at all, the shell's line saying so (it names the program);
    /// else null. The exit status tells: 127 (not found) or 126 (found but not executable) from /bin/sh (POSIX Shell
    /// Command Language, 2.8.2 Exit Status for Commands), 9009 from cmd.exe. Every set runs the same program, so this is
    /// a configuration error, not a failed set.
    /// </summary>
    public static string? ProgramNotStarted(TrainerResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var notStarted = OperatingSystem.IsWindows() ? result.ExitCode == 9009 : result.ExitCode is 126 or 127;
        if (!notStarted)
        {
            return null;
        }

        return result.Tail.LastOrDefault(l => NotStartedLine().IsMatch(l)) ?? (result.Tail.Count > 0 ? result.Tail[^1] : $"exit code {result.ExitCode}");
    }

    [GeneratedRegex(@"(?i)(not found|no such file|permission denied|cannot execute|is not recognized)")]
    private static partial Regex NotStartedLine();
}
