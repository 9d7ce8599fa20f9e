using System.Text;

namespace Miaoya.Limits;

/// <summary>
/// Reads a user's file without trusting its size: folders and missing files are refused with a plain message, a file
/// over the limit is refused before it is read, and a file whose size cannot be told in advance (<c>/dev/zero</c>, a pipe)
/// is read only up to the limit.
/// </summary>
public static class BoundedFile
{
    /// <summary>At most <paramref name="maxBytes"/> bytes of <paramref name="path"/>; <paramref name="what"/> names the file in messages ("template").</summary>
    /// <exception cref="InputLimitException">Missing, a folder, or over the limit.</exception>
    public static async Task<byte[]> ReadAllBytesAsync(string path, long maxBytes, string what, CancellationToken cancellationToken = default)
    {
        await using var stream = Open(path, what);
        var reader = new Reader(path, what, maxBytes, KnownLength(stream));
        int read;
        do
        {
            read = await stream.ReadAsync(reader.Free(), cancellationToken);
        }
        while (reader.Advance(read));
        return reader.Result();
    }

    /// <summary>The same, synchronously.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        using var stream = Open(path, what);
        var reader = new Reader(path, what, maxBytes, KnownLength(stream));
        int read;
        do
        {
            read = stream.Read(reader.Free().Span);
        }
        while (reader.Advance(read));
        return reader.Result();
    }

    /// <summary>The first <paramref name="count"/> bytes of a file (fewer when it is shorter), to recognise it before reading it all.</summary>
    public static byte[] ReadPrefix(string path, int count, string what)
    {
        using var stream = Open(path, what);
        var buffer = new byte[count];
        var length = stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        return buffer[..length];
    }

    /// <summary>A text file (UTF-8, BOM honoured) of at most <paramref name="maxChars"/> characters.</summary>
    public static string ReadAllText(string path, int maxChars, string what)
    {
        // UTF-8 takes at most 4 bytes per UTF-16 code unit pair's worth of text; refuse on bytes first, then on characters.
        var bytes = ReadAllBytes(path, (long)maxChars * 4, what);
        using var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var text = reader.ReadToEnd();
        return text.Length <= maxChars
            ? text
            : throw new InputLimitException($"{path}: the {what} has {text.Length:N0} characters; at most {maxChars:N0} are accepted.");
    }

    private static FileStream Open(string path, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            throw new InputLimitException($"{path}: the {what} is a folder, not a file.");
        }

        if (!File.Exists(path))
        {
            throw new InputLimitException($"{path}: file not found.");
        }

        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InputLimitException($"{path}: the {what} cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>The file's size when it can be told without reading (a regular file), else -1 (devices, pipes).</summary>
    private static long KnownLength(FileStream stream)
    {
        try
        {
            return stream.CanSeek && stream.Length > 0 ? stream.Length : -1;
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>
    /// A buffer that refuses to hold more than the limit. For a file of known size it is that size exactly, and the end is
    /// confirmed by a one-byte read into a spare byte (no second copy); otherwise it grows.
    /// </summary>
    private sealed class Reader
    {
        private readonly string _path;
        private readonly string _what;
        private readonly long _max;
        private readonly byte[] _probe = new byte[1];
        private byte[] _buffer;
        private int _length;
        private bool _probing;

        public Reader(string path, string what, long max, long known)
        {
            (_path, _what, _max) = (path, what, max);
            if (known > max)
            {
                throw TooLarge(path, what, known, max);
            }

            _buffer = new byte[known >= 0 ? known : Math.Min(max + 1, 64 * 1024)];
        }

        public Memory<byte> Free()
        {
            _probing = _length == _buffer.Length;
            return _probing ? _probe : _buffer.AsMemory(_length);
        }

        /// <summary>Counts bytes read; false at the end of the file. Throws once more than the limit was read.</summary>
        public bool Advance(int read)
        {
            if (_probing && read > 0)
            {
                // More than the buffer holds (a file that grew, or one of unknown size): grow and keep the byte.
                Array.Resize(ref _buffer, (int)Math.Min(_max + 1, Math.Max(_buffer.Length * 2L, 64 * 1024)));
                _buffer[_length] = _probe[0];
            }

            _length += read;
            if (_length > _max)
            {
                throw TooLarge(_path, _what, null, _max);
            }

            return read > 0;
        }

        public byte[] Result() => _length == _buffer.Length ? _buffer : _buffer[.._length];
    }

    private static InputLimitException TooLarge(string path, string what, long? size, long maxBytes) => new(size is { } s
        ? $"{path}: the {what} has {s:N0} bytes; at most {maxBytes:N0} are accepted."
        : $"{path}: the {what} is longer than {maxBytes:N0} bytes, the most accepted.");
}
