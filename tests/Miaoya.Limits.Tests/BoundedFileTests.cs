using System.Diagnostics;
using System.Text;
using CsCheck;

namespace Miaoya.Limits.Tests;

public sealed class BoundedFileTests : IDisposable
{
    private const long OneMiB = 1024 * 1024;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "miaoya-bounded-" + Guid.NewGuid().ToString("N"));

    public BoundedFileTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void Quickly(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [LinuxFact]
    public void ReadAllBytes_DevZero_IsRefusedAtTheLimit()
    {
        Quickly(() =>
        {
            var error = Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllBytes("/dev/zero", OneMiB, "template"));

            Assert.Equal("/dev/zero: the template is longer than 1,048,576 bytes, the most accepted.", error.Message);
        });
    }

    [LinuxFact]
    public async Task ReadAllBytesAsync_DevZero_IsRefusedAtTheLimit()
    {
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<InputLimitException>(() => BoundedFile.ReadAllBytesAsync("/dev/zero", OneMiB, "template"));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Contains("/dev/zero", error.Message, StringComparison.Ordinal);
        Assert.Contains("1,048,576 bytes", error.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void ReadAllText_DevZero_IsRefusedAtItsByteLimit()
    {
        Quickly(() =>
        {
            var error = Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllText("/dev/zero", 1000, "recipe"));

            Assert.Contains("/dev/zero: the recipe is longer than 4,000 bytes", error.Message, StringComparison.Ordinal);
        });
    }

    [LinuxFact]
    public void ReadAllBytes_FileOfUnknownSize_IsReadToItsEnd()
    {
        // /proc files report size 0 and have content: read like a pipe, to the end.
        var bytes = BoundedFile.ReadAllBytes("/proc/self/status", OneMiB, "status");

        Assert.StartsWith("Name:", Encoding.ASCII.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAllBytes_SparseFileOfThreeGigabytes_IsRefusedWithoutReading()
    {
        var path = Path.Combine(_folder, "huge.png");
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.SetLength(3_000_000_000);
        }

        Quickly(() =>
        {
            var error = Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllBytes(path, 64 * OneMiB, "image"));

            Assert.Equal($"{path}: the image has 3,000,000,000 bytes; at most 67,108,864 are accepted.", error.Message);
        });
    }

    [Fact]
    public async Task ReadAllBytesAsync_SparseFileOfThreeGigabytes_IsRefusedWithoutReading()
    {
        var path = Path.Combine(_folder, "huge.png");
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.SetLength(3_000_000_000);
        }

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<InputLimitException>(() => BoundedFile.ReadAllBytesAsync(path, 64 * OneMiB, "image"));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Contains("3,000,000,000 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAllText_SparseFileOfThreeGigabytes_IsRefusedWithoutReading()
    {
        var path = Path.Combine(_folder, "huge.yaml");
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.SetLength(3_000_000_000);
        }

        Quickly(() =>
        {
            var error = Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllText(path, 256 * 1024, "recipe"));

            Assert.Contains("the recipe has 3,000,000,000 bytes", error.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void ReadAllBytes_Folder_IsRefused()
    {
        var error = Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllBytes(_folder, OneMiB, "template"));

        Assert.Equal($"{_folder}: the template is a folder, not a file.", error.Message);
    }

    [Fact]
    public void ReadPrefixAndReadAllText_Folder_AreRefused()
    {
        Assert.Contains("is a folder", Assert.Throws<InputLimitException>(() => BoundedFile.ReadPrefix(_folder, 16, "image")).Message, StringComparison.Ordinal);
        Assert.Contains("is a folder", Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllText(_folder, 100, "recipe")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAllBytes_MissingFile_SaysFileNotFound()
    {
        var path = Path.Combine(_folder, "missing.png");

        Assert.Equal($"{path}: file not found.", Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllBytes(path, OneMiB, "image")).Message);
        Assert.Equal($"{path}: file not found.", (await Assert.ThrowsAsync<InputLimitException>(() => BoundedFile.ReadAllBytesAsync(path, OneMiB, "image"))).Message);
        Assert.Equal($"{path}: file not found.", Assert.Throws<InputLimitException>(() => BoundedFile.ReadPrefix(path, 16, "image")).Message);
    }

    [Fact]
    public void InputLimitException_IsAnIOException()
    {
        // Callers that already handle IOException for files handle the refusals too.
        Assert.IsAssignableFrom<IOException>(new InputLimitException("x"));
    }

    [Fact]
    public async Task ReadAllBytes_FileExactlyAtTheLimit_IsAccepted_AndOneByteOverRefused()
    {
        var content = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var atLimit = Write("at.bin", content);
        var over = Write("over.bin", [.. content, 7]);

        Assert.Equal(content, BoundedFile.ReadAllBytes(atLimit, 1000, "file"));
        Assert.Equal(content, await BoundedFile.ReadAllBytesAsync(atLimit, 1000, "file"));
        Assert.Equal($"{over}: the file has 1,001 bytes; at most 1,000 are accepted.", Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllBytes(over, 1000, "file")).Message);
        await Assert.ThrowsAsync<InputLimitException>(() => BoundedFile.ReadAllBytesAsync(over, 1000, "file"));
    }

    [Fact]
    public void ReadAllBytes_EmptyFile_IsEmpty()
    {
        Assert.Empty(BoundedFile.ReadAllBytes(Write("empty.bin", []), 10, "file"));
        Assert.Empty(BoundedFile.ReadAllBytes(Write("empty0.bin", []), 0, "file"));
    }

    [Fact]
    public async Task ReadAllBytes_RandomSizesAroundTheLimit_AcceptExactlyWhatFits()
    {
        var files = Gen.Byte.Array[0, 3000].Select(Gen.Int[0, 3000]);
        await files.SampleAsync(
            async (content, limit) =>
            {
                var size = content.Length;
                var path = Write($"{Guid.NewGuid():N}.bin", content);
                if (size <= limit)
                {
                    Assert.Equal(content, BoundedFile.ReadAllBytes(path, limit, "file"));
                    Assert.Equal(content, await BoundedFile.ReadAllBytesAsync(path, limit, "file"));
                }
                else
                {
                    var error = Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllBytes(path, limit, "file"));
                    Assert.Contains($"has {size:N0} bytes; at most {limit:N0}", error.Message, StringComparison.Ordinal);
                    await Assert.ThrowsAsync<InputLimitException>(() => BoundedFile.ReadAllBytesAsync(path, limit, "file"));
                }

                File.Delete(path);
            },
            iter: 300);
    }

    [Fact]
    public void ReadAllText_CountsCharactersNotBytes()
    {
        // Ten two-byte characters are 20 bytes and 10 characters; a byte-order mark is not a character.
        var ten = new string('é', 10);
        var path = Write("ten.txt", [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(ten)]);
        var eleven = Write("eleven.txt", Encoding.UTF8.GetBytes(ten + "é"));

        Assert.Equal(ten, BoundedFile.ReadAllText(path, 10, "recipe"));
        Assert.Equal(
            $"{eleven}: the recipe has 11 characters; at most 10 are accepted.",
            Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllText(eleven, 10, "recipe")).Message);
    }

    [Fact]
    public void ReadAllText_RandomText_IsReadWhenWithinTheLimit()
    {
        // Any characters (lone surrogates become U+FFFD when written), with or without a byte-order mark.
        var gen = Gen.Char.Array[0, 60].Select(Gen.Int[3, 60], Gen.Bool);
        gen.Sample(
            (chars, limit, bom) =>
            {
                var bytes = Encoding.UTF8.GetBytes(chars);
                var text = Encoding.UTF8.GetString(bytes);
                var path = Write($"{Guid.NewGuid():N}.txt", bom ? [.. Encoding.UTF8.Preamble, .. bytes] : bytes);
                if (text.Length <= limit)
                {
                    Assert.Equal(text, BoundedFile.ReadAllText(path, limit, "text"));
                }
                else
                {
                    Assert.Throws<InputLimitException>(() => BoundedFile.ReadAllText(path, limit, "text"));
                }

                File.Delete(path);
            },
            iter: 300);
    }

    [Fact]
    public void ReadPrefix_ShortFile_IsTheWholeFile()
    {
        var path = Write("short.bin", [1, 2, 3, 4, 5]);

        Assert.Equal([1, 2, 3, 4, 5], BoundedFile.ReadPrefix(path, 16, "image"));
        Assert.Equal([1, 2, 3], BoundedFile.ReadPrefix(path, 3, "image"));
        Assert.Empty(BoundedFile.ReadPrefix(Write("empty.bin", []), 16, "image"));
    }

    [LinuxFact]
    public void ReadPrefix_DevZero_ReadsOnlyThePrefix()
    {
        Quickly(() => Assert.Equal(new byte[16], BoundedFile.ReadPrefix("/dev/zero", 16, "image")));
    }
}
