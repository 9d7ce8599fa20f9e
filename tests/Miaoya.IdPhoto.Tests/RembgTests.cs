using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.IdPhoto.Tests;

public class RembgTests
{
    [Fact]
    public async Task The_person_matte_comes_from_the_box_with_the_human_segmentation_model()
    {
        using var box = new MockBox();
        using var photo = TestSupport.Astronaut();
        using var mask = await IdPhotoFinisher.PersonMaskAsync(box.Client, photo, "u2net_human_seg", CancellationToken.None);
        Assert.Equal((512, 512), (mask.Width, mask.Height));
        var face = TestSupport.Detector.Detect(photo)[0];
        Assert.Equal(255, mask[(int)face.Centre.X, (int)face.Centre.Y].PackedValue);
        Assert.Equal(0, mask[5, 5].PackedValue);
        var soft = 0;
        mask.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height; y++)
            {
                soft += acc.GetRowSpan(y).ToArray().Count(p => p.PackedValue is > 0 and < 255);
            }
        });
        Assert.True(soft > 100, $"{soft} soft edge pixels");

        var sent = box.Server.WireMock.LogEntries.Single(e => e.RequestMessage!.Path == "/rembg");
        var body = JsonNode.Parse(sent.RequestMessage!.Body!)!;
        Assert.Equal("u2net_human_seg", body["model"]!.GetValue<string>());
        Assert.True(body["return_mask"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Finishing_replaces_the_background_and_keeps_the_matte()
    {
        using var box = new MockBox();
        using var photo = TestSupport.Astronaut();
        var result = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = IdSpecs.Find("cn-1inch"), Background = BackgroundFill.Parse("blue"), Sheet = SheetSize.SixInch }, TestSupport.Detector, box.Client);
        using var finished = Image.Load<Rgb24>(result.Photo.Bytes);
        var corner = finished[3, 3];
        Assert.InRange(corner.R, 60, 75);
        Assert.InRange(corner.G, 135, 150);
        Assert.InRange(corner.B, 210, 225);
        Assert.NotNull(result.Mask);
        Assert.NotNull(result.Sheet);
        Assert.True(result.Verdict.Passed, result.Verdict.ToTable());

        var folder = Path.Combine(Path.GetTempPath(), $"idphoto-{Guid.NewGuid():N}");
        try
        {
            var path = await result.WriteToAsync(folder, "6inch");
            Assert.Equal("cn-1inch-300dpi.jpg", Path.GetFileName(path));
            Assert.True(File.Exists(Path.Combine(folder, "mask.png")));
            Assert.True(File.Exists(Path.Combine(folder, "verdict.json")));
            using var sheet = Image.Load<Rgb24>(Path.Combine(folder, "sheet-6inch.jpg"));
            Assert.Equal((1205, 1795), (sheet.Width, sheet.Height));
            Assert.Equal(300, PhotoEncoder.ReadDpi(File.ReadAllBytes(Path.Combine(folder, "sheet-6inch.jpg"))));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public async Task Keeping_the_background_calls_no_box_and_replacing_it_needs_one()
    {
        using var box = new MockBox();
        using var photo = TestSupport.Astronaut();
        var kept = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = IdSpecs.Find("cn-1inch") }, TestSupport.Detector, box.Client);
        Assert.Null(kept.Mask);
        Assert.DoesNotContain(box.Server.WireMock.LogEntries, e => e.RequestMessage!.Path == "/rembg");

        var e = await Assert.ThrowsAsync<ArgumentException>(() => IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = IdSpecs.Find("cn-1inch"), Background = BackgroundFill.Parse("white") }, TestSupport.Detector, null));
        Assert.Contains("rembg", e.Message, StringComparison.Ordinal);
    }
}
