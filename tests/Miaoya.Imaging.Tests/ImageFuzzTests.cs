using System.Diagnostics;
using System.Text;
using CsCheck;

namespace Miaoya.Imaging.Tests;

/// <summary>
/// Random bytes and random damage to valid images: whatever comes in, <see cref="EncodedImage"/> either reads it within
/// the limits or throws <see cref="InvalidImageDataException"/>, never anything else, and never slowly. Decodes take
/// the process-wide budget, so this runs in the budget's collection (never beside the budget's own tests).
/// </summary>
[Collection(nameof(DecodeBudgetTests))]
public sealed class ImageFuzzTests
{
    private static readonly byte[][] Valid =
    [
        TestImages.Png(24, 16),
        TestImages.Jpeg(24, 16),
        TestImages.WebP(24, 16),
        TestImages.WebPLossless(24, 16),
    ];

    /// <summary>One change to a file: flip a bit, set a byte, insert a byte, delete a byte, or cut the file there.</summary>
    public sealed record Mutation(int Kind, double Where, bool NearTheStart, byte Value)
    {
        public byte[] Apply(byte[] bytes)
        {
            if (bytes.Length == 0)
            {
                return Kind == 2 ? [Value] : bytes;
            }

            // Half the changes land in the first 64 bytes, where the headers are.
            var span = NearTheStart ? Math.Min(64, bytes.Length) : bytes.Length;
            var at = Math.Min((int)(Where * span), bytes.Length - 1);
            var copy = bytes.ToList();
            switch (Kind)
            {
                case 0:
                    copy[at] ^= (byte)(1 << (Value % 8));
                    break;
                case 1:
                    copy[at] = Value;
                    break;
                case 2:
                    copy.Insert(at, Value);
                    break;
                case 3:
                    copy.RemoveAt(at);
                    break;
                default:
                    copy.RemoveRange(at, copy.Count - at);
                    break;
            }

            return [.. copy];
        }
    }

    private static readonly Gen<Mutation> AnyMutation =
        Gen.Select(Gen.Int[0, 4], Gen.Double[0, 1], Gen.Bool, Gen.Byte, (k, w, n, v) => new Mutation(k, w, n, v));

    /// <summary>
    /// Check, ReadSize and Decode of <paramref name="bytes"/>: each returns (a decoded image the size Check said, within the
    /// limits) or throws <see cref="InvalidImageDataException"/>; all within the time bound.
    /// </summary>
    internal static void ReadsOrRefuses(byte[] bytes)
    {
        var watch = Stopwatch.StartNew();
        var image = new EncodedImage(bytes);
        (int Width, int Height)? size = null;
        Refuses("Check", () =>
        {
            size = image.Check();
            Assert.InRange(size.Value.Width, 1, 8192);
            Assert.InRange(size.Value.Height, 1, 8192);
        });
        Refuses("ReadSize", () => image.ReadSize());
        Refuses("Decode", () =>
        {
            using var decoded = image.Decode();
            Assert.Equal(size, (decoded.Width, decoded.Height));
        });

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    /// <summary>Runs <paramref name="call"/>; an exception other than <see cref="InvalidImageDataException"/> fails, naming the call.</summary>
    private static void Refuses(string name, Action call)
    {
        var error = Record.Exception(call);
        if (error is not (null or InvalidImageDataException))
        {
            throw new Xunit.Sdk.XunitException($"{name} threw {error.GetType().Name}: {error.Message}\n{error.StackTrace}");
        }
    }

    private static string Show(byte[] bytes) => $"{bytes.Length} bytes: {Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 256)))}";

    [Fact]
    public void CheckAndDecode_RandomBytes_ReadOrThrowInvalidImageData()
    {
        Gen.Byte.Array[0, 4096].Sample(ReadsOrRefuses, iter: 500, print: Show);
    }

    [Fact]
    public void CheckAndDecode_RandomBytesBehindAnImageSignature_ReadOrThrowInvalidImageData()
    {
        // Past the signature check, into the truncation walk and the decoders' headers.
        byte[][] signatures =
        [
            [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A],
            [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R'],
            [0xFF, 0xD8, 0xFF],
            [0xFF, 0xD8, 0xFF, 0xC0],
            [.. "RIFF"u8, 0xFF, 0xFF, 0, 0, .. "WEBPVP8 "u8],
            [.. "RIFF"u8, 0xFF, 0xFF, 0, 0, .. "WEBPVP8L"u8],
            [.. "RIFF"u8, 0xFF, 0xFF, 0, 0, .. "WEBPVP8X"u8],
        ];
        Gen.Select(Gen.OneOf(signatures), Gen.Byte.Array[0, 2048], (s, b) => (byte[])[.. s, .. b])
            .Sample(ReadsOrRefuses, iter: 1000, print: Show);
    }

    [Fact]
    public void CheckAndDecode_MutatedValidImages_ReadOrThrowInvalidImageData()
    {
        Gen.Select(Gen.Int[0, Valid.Length - 1], AnyMutation.Array[1, 8])
            .Select((which, mutations) => mutations.Aggregate(Valid[which], (bytes, m) => m.Apply(bytes)))
            .Sample(ReadsOrRefuses, iter: 1500, print: Show);
    }

    [Fact]
    public void IsTruncated_ValidImageCutAnywhere_IsTruncated()
    {
        Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.Double[0, 1]).Sample(
            (which, where) =>
            {
                var bytes = Valid[which];
                var minimum = EncodedImage.DetectFormat(bytes) == ImageFileFormat.WebP ? 12 : 8;
                var length = minimum + (int)(where * (bytes.Length - minimum - 1));
                Assert.True(new EncodedImage(bytes.AsMemory(0, length)).IsTruncated(), $"{Encoding.ASCII.GetString(bytes, 0, 4)} cut to {length} of {bytes.Length}");
            },
            iter: 500);
    }
}
