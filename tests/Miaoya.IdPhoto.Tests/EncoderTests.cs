using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.IdPhoto.Tests;

public class EncoderTests
{
    [Theory]
    [InlineData(300)]
    [InlineData(254)]
    [InlineData(350)]
    public void Jpeg_carries_the_dpi_in_its_jfif_density(int dpi)
    {
        using var image = Photo();
        var bytes = PhotoEncoder.Encode(image, PhotoFormat.Jpeg, dpi).Bytes;
        var jfif = IndexOf(bytes, "JFIF\0"u8);
        Assert.True(jfif > 0);
        Assert.Equal(1, bytes[jfif + 7]); // units: dots per inch
        Assert.Equal(dpi, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(jfif + 8)));
        Assert.Equal(dpi, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(jfif + 10)));
        Assert.Equal(dpi, PhotoEncoder.ReadDpi(bytes));
    }

    [Theory]
    [InlineData(300, 11811)]
    [InlineData(254, 10000)]
    [InlineData(350, 13780)]
    public void Png_carries_the_dpi_in_its_phys_chunk(int dpi, int pixelsPerMetre)
    {
        using var image = Photo();
        var bytes = PhotoEncoder.Encode(image, PhotoFormat.Png, dpi).Bytes;
        var phys = IndexOf(bytes, "pHYs"u8);
        Assert.True(phys > 0);
        Assert.Equal(pixelsPerMetre, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(phys + 4)));
        Assert.Equal(pixelsPerMetre, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(phys + 8)));
        Assert.Equal(1, bytes[phys + 12]); // unit: metre
        Assert.Equal(dpi, Math.Round(PhotoEncoder.ReadDpi(bytes)!.Value));
    }

    [Fact]
    public void A_file_without_density_reads_as_no_dpi()
    {
        using var image = Photo();
        using var stream = new MemoryStream();
        image.Metadata.ResolutionUnits = SixLabors.ImageSharp.Metadata.PixelResolutionUnit.AspectRatio;
        image.Metadata.HorizontalResolution = 1;
        image.Metadata.VerticalResolution = 1;
        image.SaveAsJpeg(stream);
        Assert.Null(PhotoEncoder.ReadDpi(stream.ToArray()));
    }

    [Fact]
    public void A_reachable_size_target_gets_the_highest_quality_that_fits()
    {
        using var image = Photo();
        var full = PhotoEncoder.Encode(image, PhotoFormat.Jpeg, 300);
        var target = (int)(full.Bytes.Length / 1024 / 2);
        var small = PhotoEncoder.Encode(image, PhotoFormat.Jpeg, 300, target);
        Assert.True(small.SizeTargetMet);
        Assert.True(small.Bytes.Length <= target * 1024);
        Assert.InRange(small.Quality!.Value, PhotoEncoder.MinQuality, PhotoEncoder.DefaultQuality - 1);
        Assert.True(PhotoEncoder.Save(image, PhotoFormat.Jpeg, small.Quality.Value + 1).Length > target * 1024);
        Assert.Equal(300, PhotoEncoder.ReadDpi(small.Bytes));
        Assert.Contains($"quality {small.Quality}", small.SizeNote, StringComparison.Ordinal);
    }

    [Fact]
    public void An_impossible_size_target_says_so()
    {
        using var image = Photo();
        var tiny = PhotoEncoder.Encode(image, PhotoFormat.Jpeg, 300, 1);
        Assert.False(tiny.SizeTargetMet);
        Assert.StartsWith("impossible: even at JPEG quality 10", tiny.SizeNote, StringComparison.Ordinal);

        var png = PhotoEncoder.Encode(image, PhotoFormat.Png, 300, 1);
        Assert.False(png.SizeTargetMet);
        Assert.Contains("PNG is lossless", png.SizeNote, StringComparison.Ordinal);
    }

    private static Image<Rgb24> Photo()
    {
        using var a = TestSupport.Astronaut();
        return a.Clone(c => c.Crop(new Rectangle(100, 20, 295, 413)));
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

}
