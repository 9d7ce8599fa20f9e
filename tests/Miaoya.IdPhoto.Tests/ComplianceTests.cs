using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.IdPhoto.Tests;

/// <summary>A compliant photo passes every rule; each crafted flaw fails its own rule.</summary>
public class ComplianceTests : IClassFixture<ComplianceTests.GoodPhoto>
{
    private readonly GoodPhoto _good;

    public ComplianceTests(GoodPhoto good) => _good = good;

    private static IdSpec Spec => IdSpecs.Find("cn-1inch");

    [Fact]
    public void The_finished_photo_passes_every_rule_and_the_report_has_table_and_json()
    {
        var report = _good.Result.Verdict;
        Assert.True(report.Passed, report.ToTable());
        Assert.Equal(
            ["pixel_size", "dpi", "format", "file_size", "face_count", "head_height", "top_margin", "eye_line", "centring", "roll", "background_uniformity", "background_colour", "background_rim"],
            report.Rules.Select(r => r.Id));
        Assert.Equal(ComplianceChecker.RuleIds, report.Rules.Select(r => r.Id));
        Assert.Contains("verdict: PASS (13 rules)", report.ToTable(), StringComparison.Ordinal);
        Assert.DoesNotContain("fix:", report.ToTable(), StringComparison.Ordinal);
        Assert.All(report.Rules, r => Assert.Null(r.Hint));
        Assert.Contains("document-safe", report.ToTable(), StringComparison.Ordinal);
        var json = System.Text.Json.Nodes.JsonNode.Parse(report.ToJson())!;
        Assert.True(json["passed"]!.GetValue<bool>());
        Assert.Equal("document-safe", json["mode"]!.GetValue<string>());
        Assert.Contains("AI generation", json["note"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(13, json["rules"]!.AsArray().Count);
    }

    [Fact]
    public void Every_rule_that_can_fail_says_how_to_fix_it_in_the_table_and_the_json()
    {
        using var image = Image.Load<Rgb24>(_good.Result.Photo.Bytes);
        image.Metadata.HorizontalResolution = 72;
        image.Metadata.VerticalResolution = 72;
        using var two = TestSupport.TwoFaces();
        using var matte = Image.Load<L8>(_good.Result.Mask!);
        var reports = new List<ComplianceReport>
        {
            Check(Modified(i => i.Mutate(c => c.Resize(300, 413)))),
            Check(PhotoEncoder.Save(image, PhotoFormat.Jpeg, 95)),
            ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec with { Formats = ["png"], MaxKb = 1 }, TestSupport.Detector),
            ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec with { MinKb = 500 }, TestSupport.Detector),
            Check(Modified(i => i.Mutate(c => c.Brightness(0)))),
            Check(PhotoEncoder.Encode(two, PhotoFormat.Jpeg, 300).Bytes),
            ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec with { HeadHeight = new(0.8, 0.9), TopMargin = new(0.2, 0.3), EyeLine = new(0.6, 0.7), CentreTolerance = 0.0001, MaxRollDegrees = 0.01 }, TestSupport.Detector),
            ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec with { HeadHeight = new(0.1, 0.2), TopMargin = new(0, 0.01), EyeLine = new(0, 0.1) }, TestSupport.Detector),
            ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec with { Backgrounds = ["blue"], UniformityDeltaE = 0 }, TestSupport.Detector),
            ComplianceChecker.Check(RimTests.WithHalo(_good.Result.Photo.Bytes, matte), "halo.jpg", Spec, TestSupport.Detector, matte: matte),
        };

        var failed = reports.SelectMany(r => r.Rules.Where(x => !x.Passed).Select(x => (Report: r, Rule: x))).ToArray();
        Assert.Equal(ComplianceChecker.RuleIds.Order(), failed.Select(f => f.Rule.Id).Distinct().Order());
        Assert.All(failed, f =>
        {
            Assert.False(string.IsNullOrWhiteSpace(f.Rule.Hint), $"{f.Rule.Id} failed without a hint");
            Assert.Contains($"fix: {f.Rule.Hint}", f.Report.ToTable(), StringComparison.Ordinal);
            var rule = System.Text.Json.Nodes.JsonNode.Parse(f.Report.ToJson())!["rules"]!.AsArray().Single(r => r!["id"]!.GetValue<string>() == f.Rule.Id)!;
            Assert.Equal(f.Rule.Hint, rule["hint"]!.GetValue<string>());
        });

        // The hints are concrete: the measured value, the spec's range and what to change.
        var small = reports[7]["head_height"].Hint!;
        Assert.Matches(@"^the head is \d+\.\d mm from chin to crown, cn-1inch wants 3\.5–7\.0 mm \(0\.1–0\.2\): crop looser", small);
        Assert.StartsWith("crop tighter", reports[6]["head_height"].Hint!.Split(": ")[1], StringComparison.Ordinal);
        Assert.Contains("--dpi", reports[0]["pixel_size"].Hint!, StringComparison.Ordinal);
        Assert.Contains("the file says 72 dpi", reports[1]["dpi"].Hint!, StringComparison.Ordinal);
        Assert.Contains("save it as png", reports[2]["format"].Hint!, StringComparison.Ordinal);
        Assert.Contains("--kb 1", reports[2]["file_size"].Hint!, StringComparison.Ordinal);
        Assert.Contains("below the 500 KB minimum", reports[3]["file_size"].Hint!, StringComparison.Ordinal);
        Assert.Contains("2 faces found", reports[5]["face_count"].Hint!, StringComparison.Ordinal);
        Assert.Contains("fix face_count first", reports[4]["background_rim"].Hint!, StringComparison.Ordinal);
        Assert.Contains("--background blue", reports[8]["background_colour"].Hint!, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_pixel_size_fails() => AssertOnlyFails(Modified(i => i.Mutate(c => c.Resize(300, 413))), "pixel_size");

    [Fact]
    public void Wrong_or_missing_dpi_fails()
    {
        using var image = Image.Load<Rgb24>(_good.Result.Photo.Bytes);
        var at72 = PhotoEncoder.Encode(image, PhotoFormat.Jpeg, 300).Bytes;
        Assert.True(Check(at72).Passed);
        image.Metadata.HorizontalResolution = 72;
        image.Metadata.VerticalResolution = 72;
        AssertFails(PhotoEncoder.Save(image, PhotoFormat.Jpeg, 95), "dpi", "72");
    }

    [Fact]
    public void A_format_or_size_the_spec_does_not_allow_fails()
    {
        var report = ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec with { Formats = ["png"] }, TestSupport.Detector);
        Assert.Equal(["format"], report.Rules.Where(r => !r.Passed).Select(r => r.Id));
        report = ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec with { MaxKb = 1 }, TestSupport.Detector);
        Assert.Equal(["file_size"], report.Rules.Where(r => !r.Passed).Select(r => r.Id));
        report = ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec, TestSupport.Detector, maxKb: 2);
        Assert.Equal(("≤ 2 KB", false), (report["file_size"].Required, report["file_size"].Passed));
    }

    [Fact]
    public async Task An_impossible_size_target_is_a_warning_and_a_failed_file_size_rule()
    {
        using var photo = TestSupport.Astronaut();
        var result = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = Spec, MaxKb = 2 }, TestSupport.Detector, null);
        Assert.Contains(result.Warnings, w => w.StartsWith("file size target not met: impossible", StringComparison.Ordinal));
        Assert.False(result.Verdict["file_size"].Passed);
    }

    [Fact]
    public void No_face_or_two_faces_fail_the_face_count_and_the_geometry_is_not_measured()
    {
        var blank = Modified(i => i.Mutate(c => c.Brightness(0)));
        var report = Check(blank);
        Assert.False(report["face_count"].Passed);
        Assert.Equal("0", report["face_count"].Measured);
        Assert.Equal("not measured: needs exactly one face", report["head_height"].Detail);

        using var two = TestSupport.TwoFaces();
        var twoBytes = PhotoEncoder.Encode(two, PhotoFormat.Jpeg, 300).Bytes;
        report = Check(twoBytes);
        Assert.Equal("2", report["face_count"].Measured);
        Assert.Contains("score", report["face_count"].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_head_too_small_fails_head_height()
    {
        var small = await Finish(Spec with { HeadHeight = new(0.30, 0.34), TopMargin = new(0.15, 0.2), EyeLine = new(0, 1) });
        AssertFails(small, "head_height");
    }

    [Fact]
    public async Task A_head_too_low_fails_top_margin_and_eye_line()
    {
        var low = await Finish(Spec with { TopMargin = new(0.25, 0.3), EyeLine = new(0, 1) });
        var report = AssertFails(low, "top_margin");
        Assert.False(report["eye_line"].Passed);
    }

    [Fact]
    public void An_off_centre_head_fails_centring() =>
        AssertFails(Modified(i => i.Mutate(c => c.Crop(new Rectangle(45, 0, 250, 413)).Pad(295, 413, Color.White))), "centring");

    [Fact]
    public void A_tilted_head_fails_roll() =>
        AssertFails(Modified(i => i.Mutate(c => c.Rotate(12).Crop(new Rectangle(0, 0, 295, 413)).BackgroundColor(Color.White))), "roll");

    [Fact]
    public void A_blotchy_background_fails_uniformity()
    {
        var blotchy = Modified(i =>
        {
            for (var y = 0; y < 60; y++)
            {
                for (var x = 0; x < 30; x++)
                {
                    i[x, y] = (x / 5 + y / 5) % 2 == 0 ? new Rgb24(40, 40, 40) : new Rgb24(255, 255, 255);
                    i[294 - x, y + 80] = new Rgb24(90, 160, 90);
                }
            }
        });
        AssertFails(blotchy, "background_uniformity");
    }

    [Fact]
    public async Task A_background_colour_the_spec_does_not_allow_fails()
    {
        var blue = await Finish(Spec, "blue");
        Assert.True(Check(blue).Passed, Check(blue).ToTable());
        var report = ComplianceChecker.Check(blue, "blue.jpg", Spec with { Backgrounds = ["white"] }, TestSupport.Detector);
        Assert.Equal(["background_colour"], report.Rules.Where(r => !r.Passed).Select(r => r.Id));
        Assert.Contains("to white", report["background_colour"].Measured, StringComparison.Ordinal);
    }

    private static ComplianceReport Check(byte[] bytes) => ComplianceChecker.Check(bytes, "crafted.jpg", Spec, TestSupport.Detector);

    private static ComplianceReport AssertFails(byte[] bytes, string rule, string? measured = null)
    {
        var report = Check(bytes);
        Assert.False(report[rule].Passed, report.ToTable());
        Assert.False(string.IsNullOrWhiteSpace(report[rule].Hint), report.ToTable());
        Assert.False(report.Passed);
        if (measured is not null)
        {
            Assert.Equal(measured, report[rule].Measured);
        }

        return report;
    }

    private static void AssertOnlyFails(byte[] bytes, string rule)
    {
        var report = AssertFails(bytes, rule);
        Assert.Equal([rule], report.Rules.Where(r => !r.Passed).Select(r => r.Id));
    }

    private byte[] Modified(Action<Image<Rgb24>> change)
    {
        using var image = Image.Load<Rgb24>(_good.Result.Photo.Bytes);
        change(image);
        return PhotoEncoder.Encode(image, PhotoFormat.Jpeg, 300).Bytes;
    }

    private async Task<byte[]> Finish(IdSpec spec, string background = "white")
    {
        using var photo = TestSupport.Astronaut();
        var result = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = spec, Background = BackgroundFill.Parse(background) }, TestSupport.Detector, _good.Box.Client);
        return result.Photo.Bytes;
    }

    /// <summary>The astronaut finished for cn-1inch on white through the mock's rembg, once for the class.</summary>
    public sealed class GoodPhoto : IDisposable
    {
        public GoodPhoto()
        {
            Box = new MockBox();
            using var photo = TestSupport.Astronaut();
            Result = IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = Spec, Background = BackgroundFill.Parse("white") }, TestSupport.Detector, Box.Client)
                .GetAwaiter().GetResult();
        }

        public MockBox Box { get; }

        public FinishResult Result { get; }

        public void Dispose() => Box.Dispose();
    }
}
