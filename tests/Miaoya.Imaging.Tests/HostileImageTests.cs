using System.Diagnostics;
using Miaoya.Limits;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Imaging.Tests;

public sealed class HostileImageTests
{
    private static void Quickly(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    private static InvalidImageDataException Refused(byte[] bytes, Func<EncodedImage, object> call)
    {
        InvalidImageDataException? error = null;
        Quickly(() => error = Assert.Throws<InvalidImageDataException>(() => call(new EncodedImage(bytes))));
        return error!;
    }

    [Fact]
    public void IsTruncated_PngCutAtEveryEighth_IsTruncated_AndCheckSaysCutShort()
    {
        var png = TestImages.Png(64, 64);

        for (var eighth = 1; eighth < 8; eighth++)
        {
            var cut = png[..(png.Length * eighth / 8)];

            Assert.True(new EncodedImage(cut).IsTruncated(), $"{cut.Length} of {png.Length} bytes");
            Assert.Contains("is cut short", Refused(cut, i => i.Check()).Message, StringComparison.Ordinal);
            Refused(cut, i => i.Decode());
        }
    }

    [Fact]
    public void IsTruncated_PngCutAtAnyByte_IsTruncated()
    {
        var png = TestImages.Png(16, 16);

        // From the end of the signature to one byte short of the end (inside IEND's CRC).
        for (var length = 8; length < png.Length; length++)
        {
            Assert.True(new EncodedImage(png.AsMemory(0, length)).IsTruncated(), $"{length} of {png.Length} bytes");
        }
    }

    [Fact]
    public void IsTruncated_WholePngWithGarbageAfterIend_IsNotTruncated_AndDecodes()
    {
        var png = TestImages.Png(64, 64);
        var garbage = new byte[100];
        new Random(7).NextBytes(garbage);
        var image = new EncodedImage((byte[])[.. png, .. garbage]);

        Assert.False(image.IsTruncated());
        Assert.Equal((64, 64), image.Check());
        using var decoded = image.Decode();
        Assert.Equal(64, decoded.Width);
    }

    /// <summary>Where a JPEG's first scan data starts: after the SOS segment (FF DA, then its length).</summary>
    private static int ScanDataStart(byte[] jpeg)
    {
        for (var i = 2; i + 3 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA)
            {
                return i + 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
            }
        }

        throw new InvalidOperationException("no scan in the JPEG");
    }

    [Fact]
    public void IsTruncated_JpegCutInsideItsScanData_IsTruncated()
    {
        var jpeg = TestImages.Jpeg(64, 64);
        var scan = ScanDataStart(jpeg);
        Assert.True(jpeg.Length - 2 - scan > 100, "the scan data is long enough to cut inside");

        foreach (var length in (int[])[scan + 1, (scan + jpeg.Length) / 2, jpeg.Length - 3, jpeg.Length - 1])
        {
            var cut = jpeg[..length];

            Assert.True(new EncodedImage(cut).IsTruncated(), $"{length} of {jpeg.Length} bytes");
            Assert.Contains("is cut short", Refused(cut, i => i.Check()).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void IsTruncated_JpegCutAtAnyByte_IsTruncated()
    {
        var jpeg = TestImages.Jpeg(16, 16);

        for (var length = 3; length < jpeg.Length; length++)
        {
            Assert.True(new EncodedImage(jpeg.AsMemory(0, length)).IsTruncated(), $"{length} of {jpeg.Length} bytes");
        }
    }

    [Fact]
    public void IsTruncated_WholeJpegWithAMotionPhotoTrailer_IsNotTruncated_AndDecodes()
    {
        // A phone's motion photo: the JPEG, then 2 MB of video after its end-of-image marker.
        var jpeg = TestImages.Jpeg(64, 64);
        var video = new byte[2 * 1024 * 1024];
        new Random(3).NextBytes(video);
        var image = new EncodedImage((byte[])[.. jpeg, .. video]);

        Quickly(() =>
        {
            Assert.False(image.IsTruncated());
            Assert.Equal((64, 64), image.Check());
            using var decoded = image.Decode();
            Assert.Equal(64, decoded.Height);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IsTruncated_WebPCutShort_IsTruncated(bool lossless)
    {
        var webp = lossless ? TestImages.WebPLossless(64, 64) : TestImages.WebP(64, 64);

        Assert.False(new EncodedImage(webp).IsTruncated());
        for (var length = 12; length < webp.Length; length++)
        {
            Assert.True(new EncodedImage(webp.AsMemory(0, length)).IsTruncated(), $"{length} of {webp.Length} bytes");
        }

        Assert.Contains("is cut short", Refused(webp[..(webp.Length / 2)], i => i.Check()).Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> OtherFormats => ["gif", "bmp", "tiff", "tga", "pbm"];

    private static byte[] OtherFormat(string format) => TestImages.Encode(format switch
    {
        "gif" => (i, s) => i.SaveAsGif(s),
        "bmp" => (i, s) => i.SaveAsBmp(s),
        "tiff" => (i, s) => i.SaveAsTiff(s),
        "tga" => (i, s) => i.SaveAsTga(s),
        _ => (i, s) => i.SaveAsPbm(s),
    });

    [Theory]
    [MemberData(nameof(OtherFormats))]
    public void CheckDecodeReadSize_FormatsWeDoNotPromise_AreRefusedUndecoded(string format)
    {
        var bytes = OtherFormat(format);

        Assert.Equal(ImageFileFormat.Unknown, new EncodedImage(bytes).Format);
        Assert.Contains("is not PNG, JPEG or WebP", Refused(bytes, i => i.Check()).Message, StringComparison.Ordinal);
        Assert.Contains("is not PNG, JPEG or WebP", Refused(bytes, i => i.Decode()).Message, StringComparison.Ordinal);
        Refused(bytes, i => i.ReadSize());
    }

    [Theory]
    [MemberData(nameof(OtherFormats))]
    public async Task DecodeAsync_FormatsWeDoNotPromise_AreRefusedUndecoded(string format)
    {
        var bytes = OtherFormat(format);

        await Assert.ThrowsAsync<InvalidImageDataException>(() => new EncodedImage(bytes).DecodeAsync());
    }

    [Theory]
    [MemberData(nameof(OtherFormats))]
    public void ReadSize_OtherFormatBehindAPngSignature_IsRefused(string format)
    {
        // The PNG signature in front: our signature check passes, the PNG-only decoders must still refuse it.
        byte[] bytes = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. OtherFormat(format)];

        Refused(bytes, i => i.Check());
        Refused(bytes, i => i.Decode());
    }

    [Fact]
    public void Check_PngWiderThanTheLimit_IsRefusedFromTheHeader()
    {
        using var wide = new Image<L8>(9000, 10, new L8(128));
        using var stream = new MemoryStream();
        wide.SaveAsPng(stream);

        var error = Refused(stream.ToArray(), i => i.Check());

        Assert.Equal("the image is 9000×10 pixels; at most 8192 on each side are accepted.", error.Message);
    }

    [Fact]
    public void Check_PngOfMorePixelsThanTheLimit_IsRefusedFromTheHeader()
    {
        // 7000 × 7000 of one grey encodes to a few tens of kilobytes and would decode to 196 MB of RGBA.
        using var big = new Image<L8>(7000, 7000, new L8(200));
        using var stream = new MemoryStream();
        big.SaveAsPng(stream);
        var bytes = stream.ToArray();
        Assert.True(bytes.Length < 1024 * 1024, $"{bytes.Length} bytes");

        var error = Refused(bytes, i => i.Decode());

        Assert.Equal("the image is 7000×7000 = 49,000,000 pixels; at most 40,000,000 are accepted.", error.Message);
    }

    [Theory]
    [InlineData(8193u, 1u, "8193×1 pixels; at most 8192 on each side")]
    [InlineData(1u, 8193u, "1×8193 pixels; at most 8192 on each side")]
    [InlineData(8000u, 5001u, "8000×5001 = 40,008,000 pixels; at most 40,000,000")]
    [InlineData(0x7FFF_FFFFu, 0x7FFF_FFFFu, null)]
    [InlineData(0x8000_0000u, 1u, null)]
    [InlineData(0xFFFF_FFFFu, 0xFFFF_FFFFu, null)]
    [InlineData(0u, 0u, null)]
    public void Check_PngHeaderOverTheLimits_IsRefusedWithoutDecoding(uint width, uint height, string? expected)
    {
        var bytes = TestImages.PngHeaderOnly(width, height);

        var error = Refused(bytes, i => i.Check());
        Refused(bytes, i => i.Decode());

        if (expected is not null)
        {
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Check_PngHeaderAtTheLimits_IsAccepted()
    {
        Assert.Equal((8192, 4882), new EncodedImage(TestImages.PngHeaderOnly(8192, 4882)).Check());
        Assert.Equal((8000, 5000), new EncodedImage(TestImages.PngHeaderOnly(8000, 5000)).Check());
    }

    [Fact]
    public void Check_SideOverTheCallersLimit_IsRefused()
    {
        var image = new EncodedImage(TestImages.PngHeaderOnly(4097, 64));

        Assert.Equal((4097, 64), image.Check());
        Assert.Contains("at most 4096 on each side", Assert.Throws<InvalidImageDataException>(() => image.Check(maxSide: 4096)).Message, StringComparison.Ordinal);
    }

    /// <summary>Files the generative tests found (shrunk): ImageSharp throws NullReferenceException reading them.</summary>
    public static TheoryData<string, string> FoundByFuzzing => new()
    {
        // A JFIF segment, then a byte that is not a marker: the truncation walk calls it damaged, Identify throws.
        { "Check", "FFD8FFE000104A46494600010101006000600000FAFF" },
        // A lossy WebP with one byte changed in its VP8 frame header.
        {
            "Check",
            "524946468E01000057454250565038208201002BD008009D012A180010003E91389747A5A32221300800B012096C009D32831835C0616669806F037EDBFA5527810BF7C57FCCDFEA3DC0FF53BFD67580FD00F639FD5C1E950CF3CDC3DE4491AAC7980000FE83F437C12F3E20E5154E2C988121AA932764C83F6C6E2074220C88B4DD3780B7F68ECC73DE92A43736F928D2D1FD470F9BBBF3559746D21D85F55BF272CB6775B77FF9BA413A3DDB0C2E8DF038F535435A2C5116569F37AC5F66CFBF69BB0812FF06F38E52D4FD8D9C3C1C864C3E834103078F7AF886E8B794E9C93EDB5594849D9562DF62FA63E5F1E2C7CE0B3C3A8FDE781A33F809CABFD5D4F943BFBF1B85AC6F01795DEE22995CCDD14DDF0CD79F3B3BC30BB65EE12F8316423C44EBDC3377057FF28FFF77E9A216F5849604EB75CD51F6C7CEB74316342F0BBE4BADC5BC1AB66F4E57CF714DF3347CB78A7BFDEC97A6EA7599B18A1FF0F7376118EC59FAD6F0729FA3FEA238E37CF39A69F03524F9F7F545FFD099BAD0F3B38BAD7BFEBC846BDF6FBF8184C6FF13FCEBB4FE800000"
        },
        // A JPEG whose header reads but whose tables do not: the decoder throws after the header check passed.
        {
            "Decode",
            "FFD8FFE000104A46494600010101006000600000FFDB0084000806065F0605080707070909080A0C140D0C0B0B0C1912130F141D1A1F1E1D1A1C1C20242E2720222C231C1C2837292C30313434341F27393D38323C2E333432010909090C0B0C180D0D1832211C213232323232323232323232323232323232323232323232323232323232323232323232323232323232323232323232323232FFC00011080010001803012200021101031101B2FFC401A20000010501010101010100000000000000000102030405060708090A0B100002010303020403050504040000017D01020300041105122131410613516107227114328191A1082342B1C11552D1F024336272"
        },
        // Header-only reads of a JPEG and a lossless WebP cut inside their first segment.
        { "ReadSize", "FFD8FF6000104A46494600010101006000600000" },
        { "ReadSize", "52494646D6040000574542505650384CCA0400B92F17" },
    };

    [Theory]
    [MemberData(nameof(FoundByFuzzing))]
    public void CheckReadSizeDecode_FilesFoundByFuzzing_AreInvalidImageData(string call, string hex)
    {
        var image = new EncodedImage(Convert.FromHexString(hex));

        var error = Record.Exception(() => _ = call switch
        {
            "Check" => image.Check(),
            "ReadSize" => image.ReadSize(),
            _ => (object)image.Decode(),
        });

        Assert.IsType<InvalidImageDataException>(error);
    }

    [Fact]
    public async Task DecodeAsync_JpegWhoseHeaderThrowsInImageSharp_IsInvalidImageData()
    {
        var image = new EncodedImage(Convert.FromHexString("FFD8FFE000104A46494600010101006000600000FAFF"));

        var error = await Record.ExceptionAsync(() => image.DecodeAsync());

        Assert.IsType<InvalidImageDataException>(error);
    }

    [LinuxFact]
    public async Task ReadFileAsync_DevZero_IsRefusedAtOnce()
    {
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<InvalidImageDataException>(() => EncodedImage.ReadFileAsync("/dev/zero"));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.Equal("/dev/zero: not a PNG, JPEG or WebP file.", error.Message);
    }

    [Fact]
    public async Task ReadFileAsync_TextFile_IsRefusedAtOnce()
    {
        var path = Path.Combine(Path.GetTempPath(), $"miaoya-{Guid.NewGuid():N}.png");
        await File.WriteAllTextAsync(path, "name: not an image\n");
        try
        {
            var error = await Assert.ThrowsAsync<InvalidImageDataException>(() => EncodedImage.ReadFileAsync(path));

            Assert.Equal($"{path}: not a PNG, JPEG or WebP file.", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ReadFileAsync_SparsePngOverTheLimit_IsRefusedUnread()
    {
        var path = Path.Combine(Path.GetTempPath(), $"miaoya-{Guid.NewGuid():N}.png");
        await using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            await stream.WriteAsync(TestImages.Png(8, 8));
            stream.SetLength(3_000_000_000);
        }

        try
        {
            var watch = Stopwatch.StartNew();

            var error = await Assert.ThrowsAsync<InvalidImageDataException>(() => EncodedImage.ReadFileAsync(path));

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
            Assert.Contains("3,000,000,000 bytes", error.Message, StringComparison.Ordinal);
            Assert.IsType<InputLimitException>(error.InnerException);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ReadFileAsync_FolderOrMissingFile_IsInvalidImageData()
    {
        var folder = Path.GetTempPath();
        var missing = Path.Combine(folder, $"miaoya-{Guid.NewGuid():N}.png");

        Assert.Contains("is a folder", (await Assert.ThrowsAsync<InvalidImageDataException>(() => EncodedImage.ReadFileAsync(folder))).Message, StringComparison.Ordinal);
        Assert.Contains("file not found", (await Assert.ThrowsAsync<InvalidImageDataException>(() => EncodedImage.ReadFileAsync(missing))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadFileAsync_Png_IsRead()
    {
        var path = Path.Combine(Path.GetTempPath(), $"miaoya-{Guid.NewGuid():N}.png");
        var png = TestImages.Png(8, 8);
        await File.WriteAllBytesAsync(path, png);
        try
        {
            var image = await EncodedImage.ReadFileAsync(path);

            Assert.Equal(png, image.Bytes.ToArray());
            Assert.Equal((8, 8), image.Check());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
