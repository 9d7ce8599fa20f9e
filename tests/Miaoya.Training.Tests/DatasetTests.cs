using System.Text.Json;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Training.Tests;

/// <summary>One dataset prepared from six good photos and one of each problem (shared by the tests of this class).</summary>
public sealed class PreparedDataset : IDisposable
{
    public PreparedDataset()
    {
        PhotosDir = Photos.Folder();
        File.Copy(TestFiles.Fixture("camera.png"), Path.Combine(PhotosDir, "someone-else.png"));
        OutDir = TestFiles.NewFolder("dataset");
        using var box = new MockBox();
        Result = DatasetPreparer.PrepareAsync(
            new DatasetOptions
            {
                PhotosDir = PhotosDir,
                Name = "anna",
                OutDir = OutDir,
                Trigger = "annaxyz",
                Tagger = box.Client,
                ArcFaceModel = TestFiles.ArcFace,
            },
            TestFiles.Detector).GetAwaiter().GetResult();
    }

    public string PhotosDir { get; }

    public string OutDir { get; }

    public DatasetResult Result { get; }

    public PhotoReport Photo(string file) => Result.Photos.Single(p => p.File == file);

    public void Dispose()
    {
        Directory.Delete(PhotosDir, true);
        Directory.Delete(OutDir, true);
    }
}

public class DatasetTests(PreparedDataset prepared) : IClassFixture<PreparedDataset>
{
    [Theory]
    [InlineData("blurred.png", "too blurry")]
    [InlineData("tiny-face.png", "face too small")]
    [InlineData("two-faces.png", "several faces (2)")]
    [InlineData("no-face.png", "no face found")]
    [InlineData("good01copy.jpg", "duplicate of good01.jpg")]
    [InlineData("someone-else.png", "looks like a different person")]
    public void Prepare_RejectsEachProblemPhoto_WithItsReason(string file, string reason)
    {
        var photo = prepared.Photo(file);

        Assert.Equal(PhotoStatus.Rejected, photo.Status);
        Assert.Contains(photo.Reasons, r => r.StartsWith(reason, StringComparison.Ordinal));
        Assert.Null(photo.Output);
    }

    [Fact]
    public void Prepare_SidewaysPhotoWithoutExif_IsRejected()
    {
        var photo = prepared.Photo("sideways-no-exif.png");

        Assert.Equal(PhotoStatus.Rejected, photo.Status);
        Assert.Contains(photo.Reasons, r => r.StartsWith("extreme pose", StringComparison.Ordinal) || r == "no face found");
    }

    [Fact]
    public void Prepare_AcceptsTheGoodPhotosAndTheExifRotatedOne()
    {
        var accepted = prepared.Result.Photos.Where(p => p.Status == PhotoStatus.Accepted).Select(p => p.File).ToArray();

        Assert.Equal(["good01.jpg", "good02.jpg", "good03.jpg", "good04.jpg", "good05.jpg", "good06.jpg", "rotated-exif.jpg"], accepted);
        Assert.All(prepared.Result.Photos.Where(p => p.Status == PhotoStatus.Accepted), p => Assert.Empty(p.Reasons));
        // Seven good photos are fewer than 12: none is held out, the references are the training images.
        Assert.False(prepared.Result.Manifest.ReferencesAreHeldOut);
        Assert.Equal(7, prepared.Result.Manifest.References.Count);
    }

    [Fact]
    public void Prepare_WritesTheKohyaLayout_AtEachResolution()
    {
        var manifest = DatasetManifest.Load(prepared.OutDir);

        Assert.Equal(["img/10_annaxyz", "img-512x768/10_annaxyz"], manifest.Folders.Select(f => f.ImageDir));
        Assert.Equal(Enumerable.Range(1, 7).Select(i => $"{i:000}.png"), manifest.Images);
        foreach (var (folder, size) in new[] { ("img/10_annaxyz", (512, 512)), ("img-512x768/10_annaxyz", (512, 768)) })
        {
            foreach (var image in manifest.Images)
            {
                var path = Path.Combine(prepared.OutDir, folder, image);
                Assert.Equal(size, EncodedImage.FromPng(Image.Load<Rgb24>(path)).ReadSize());
                Assert.True(File.Exists(Path.ChangeExtension(path, ".txt")), path);
                Assert.True(File.Exists(Path.ChangeExtension(path, ".face.txt")), path);
            }
        }

        // Nothing but our files: no temporary files left behind by the atomic writes.
        Assert.Empty(Directory.GetFiles(prepared.OutDir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Prepare_CaptionsStartWithTheTrigger_AndDropIdentityTags()
    {
        var caption = File.ReadAllText(Path.Combine(prepared.OutDir, "img/10_annaxyz/001.txt"));
        var tags = caption.Split(", ");

        Assert.Equal("annaxyz", tags[0]);
        Assert.Contains("upper body", tags);
        Assert.Contains("looking at viewer", tags);
        // The mock tagger's portrait tags: these survive (threshold 0.35) ...
        Assert.Contains("1girl", tags);
        Assert.Contains("spacesuit", tags);
        // ... identity-leaking ones are dropped, and no tag keeps its underscores.
        Assert.DoesNotContain("brown hair", tags);
        Assert.DoesNotContain("short hair", tags);
        Assert.DoesNotContain("realistic", tags);
        Assert.DoesNotContain(tags, t => t.Contains('_', StringComparison.Ordinal));
        Assert.Contains("brown hair", prepared.Photo("good01.jpg").DroppedTags!);
        Assert.Equal(tags.Length, tags.Distinct().Count());

        var face = File.ReadAllText(Path.Combine(prepared.OutDir, "img/10_annaxyz/001.face.txt"));
        Assert.StartsWith("annaxyz, upper body, ", face, StringComparison.Ordinal);
        Assert.DoesNotContain("spacesuit", face, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_ExifRotatedPhoto_IsCroppedUpright()
    {
        var photo = prepared.Photo("rotated-exif.jpg");
        // The stored pixels are 760x640 (sideways); the report shows the upright size.
        Assert.Equal((640, 760), (photo.Width, photo.Height));

        using var crop = Image.Load<Rgb24>(Path.Combine(prepared.OutDir, photo.Output!));
        var face = Assert.Single(TestFiles.Detector.Detect(crop));
        Assert.InRange(PhotoMetrics.Pose(face).RollDegrees, -25, 25);
        Assert.True(face.Centre.Y < crop.Height / 2, "the face sits in the upper half of an upper-body crop");
    }

    [Fact]
    public void Prepare_WritesTheQaReport_HtmlAndJson()
    {
        var html = File.ReadAllText(prepared.Result.ReportHtml);
        foreach (var photo in prepared.Result.Photos)
        {
            Assert.Contains(photo.File, html, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(prepared.OutDir, photo.Thumbnail!)), photo.Thumbnail);
            Assert.Contains($"src=\"thumbs/{Path.GetFileNameWithoutExtension(photo.File)}.jpg\"", html, StringComparison.Ordinal);
        }

        Assert.Contains("several faces (2)", html, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(File.ReadAllText(prepared.Result.ReportJson));
        var entries = json.RootElement.GetProperty("photos").EnumerateArray().ToArray();
        Assert.Equal(prepared.Result.Photos.Count, entries.Length);
        var blurred = entries.Single(e => e.GetProperty("file").GetString() == "blurred.png");
        Assert.Equal("rejected", blurred.GetProperty("status").GetString());
        Assert.True(blurred.GetProperty("sharpness").GetDouble() < 20);
        var outlier = entries.Single(e => e.GetProperty("file").GetString() == "someone-else.png");
        Assert.True(outlier.GetProperty("identity_similarity").GetDouble() < 0.35);
    }

    [Fact]
    public async Task Prepare_ManyGoodPhotos_HoldsTwoOutAsReferences()
    {
        var photos = TestFiles.NewFolder("many");
        var output = TestFiles.NewFolder("many-out");
        try
        {
            for (var i = 0; i < 12; i++)
            {
                Photos.SaveJpeg(Photos.Good(i), Path.Combine(photos, $"p{i:00}.jpg"));
            }

            var result = await DatasetPreparer.PrepareAsync(new DatasetOptions { PhotosDir = photos, Name = "many", OutDir = output, Resolutions = [TrainingResolution.Square512] }, TestFiles.Detector);

            Assert.Equal(2, result.Photos.Count(p => p.Status == PhotoStatus.HeldOut));
            Assert.Equal(10, result.Manifest.Images.Count);
            Assert.True(result.Manifest.ReferencesAreHeldOut);
            Assert.Equal(["heldout/001.png", "heldout/002.png"], result.Manifest.References);
            Assert.All(result.Manifest.References, r => Assert.True(File.Exists(Path.Combine(output, r))));
            // Without the tagger the caption is the trigger and the face words.
            Assert.Equal("many, upper body, looking at viewer", File.ReadAllText(Path.Combine(output, "img/10_many/001.txt")));
        }
        finally
        {
            Directory.Delete(photos, true);
            Directory.Delete(output, true);
        }
    }

    [Fact]
    public async Task Prepare_NoUsablePhoto_IsBadInput_AndStillWritesTheReport()
    {
        var photos = TestFiles.NewFolder("none");
        var output = TestFiles.NewFolder("none-out");
        try
        {
            Photos.SavePng(Photos.NoFace(), Path.Combine(photos, "coffee.png"));
            var e = await Assert.ThrowsAsync<TrainingException>(() => DatasetPreparer.PrepareAsync(new DatasetOptions { PhotosDir = photos, Name = "x", OutDir = output }, TestFiles.Detector));

            Assert.True(e.IsBadInput);
            Assert.Contains("no usable photo", e.Message, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(output, "qa", "report.html")));
            Assert.False(File.Exists(Path.Combine(output, DatasetManifest.FileName)));
        }
        finally
        {
            Directory.Delete(photos, true);
            Directory.Delete(output, true);
        }
    }

    [Fact]
    public async Task Prepare_OutFolderWithForeignImgFolder_IsRefused_NothingDeleted()
    {
        var output = TestFiles.NewFolder("foreign");
        try
        {
            Directory.CreateDirectory(Path.Combine(output, "img"));
            File.WriteAllText(Path.Combine(output, "img", "mine.txt"), "keep");

            var e = await Assert.ThrowsAsync<TrainingException>(() => DatasetPreparer.PrepareAsync(new DatasetOptions { PhotosDir = prepared.PhotosDir, Name = "x", OutDir = output }, TestFiles.Detector));

            Assert.Contains("already holds img that is not an earlier dataset", e.Message, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(output, "img", "mine.txt")));
        }
        finally
        {
            Directory.Delete(output, true);
        }
    }

    [Fact]
    public async Task Prepare_Again_ReplacesTheEarlierDataset()
    {
        var output = TestFiles.NewFolder("again");
        var photos = TestFiles.NewFolder("again-photos");
        try
        {
            Photos.SaveJpeg(Photos.Good(0), Path.Combine(photos, "a.jpg"));
            Photos.SaveJpeg(Photos.Good(1), Path.Combine(photos, "b.jpg"));
            await DatasetPreparer.PrepareAsync(new DatasetOptions { PhotosDir = photos, Name = "x", OutDir = output, Resolutions = [TrainingResolution.Square512] }, TestFiles.Detector);
            File.Delete(Path.Combine(photos, "b.jpg"));

            var again = await DatasetPreparer.PrepareAsync(new DatasetOptions { PhotosDir = photos, Name = "x", OutDir = output, Resolutions = [TrainingResolution.Square512] }, TestFiles.Detector);

            Assert.Equal(["001.png"], again.Manifest.Images);
            Assert.Equal(["001.face.txt", "001.png", "001.txt"], Directory.GetFiles(Path.Combine(output, "img", "10_x")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(output, true);
            Directory.Delete(photos, true);
        }
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("")]
    public async Task Prepare_BadName_IsRefused(string name)
    {
        var e = await Assert.ThrowsAsync<TrainingException>(() => DatasetPreparer.PrepareAsync(new DatasetOptions { PhotosDir = prepared.PhotosDir, Name = name, OutDir = "unused" }, TestFiles.Detector));

        Assert.True(e.IsBadInput);
        Assert.Contains("--name", e.Message, StringComparison.Ordinal);
    }
}
