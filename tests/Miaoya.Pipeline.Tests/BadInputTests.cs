using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline.Tests;

/// <summary>Every bad input gives one clear message naming what and where, and nothing written is lost.</summary>
public sealed class BadInputTests
{
    [Fact]
    public async Task MissingTemplate_NamesTheFile()
    {
        using var h = new PipelineHarness();

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v1-face", template: Path.Combine(h.Folder, "nope.png"))));

        Assert.Equal("template", error.Step);
        Assert.Contains("nope.png: file not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotAnImage_SaysWhatFormatsWork()
    {
        using var h = new PipelineHarness();
        var path = h.Write("notes.png", s => s.Write("hello"u8));

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v1-face", template: path)));

        Assert.Contains("notes.png", error.Message, StringComparison.Ordinal);
        Assert.Contains("PNG, JPEG or WebP", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TruncatedPng_IsReportedAsDamaged()
    {
        using var h = new PipelineHarness();
        var bytes = await File.ReadAllBytesAsync(PipelineHarness.Astronaut);
        var path = h.Write("cut.png", s => s.Write(bytes.AsSpan(0, bytes.Length / 3)));

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v1-face", template: path)));

        Assert.Equal("template", error.Step);
        Assert.Contains("cut.png", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedTemplate_SaysTheLimit()
    {
        using var h = new PipelineHarness();
        var path = h.Write("huge.png", s =>
        {
            using var image = new Image<L8>(4100, 70);
            image.SaveAsPng(s);
        });

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v1-face", template: path)));

        Assert.Contains("4100×70 px is outside 64..4096 px", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GreyscaleAndExifRotatedJpegs_Work()
    {
        using var h = new PipelineHarness();
        using var astronaut = Image.Load<Rgb24>(PipelineHarness.Astronaut);
        var grey = h.Write("grey.jpg", s =>
        {
            using var g = astronaut.CloneAs<L8>();
            g.SaveAsJpeg(s, new JpegEncoder { ColorType = JpegColorType.Luminance });
        });
        var rotated = h.Write("rotated.jpg", s =>
        {
            // Stored turned 90° clockwise, with EXIF orientation 8 saying "turn back".
            using var turned = astronaut.Clone(c => c.Rotate(RotateMode.Rotate90));
            turned.Metadata.ExifProfile = new ExifProfile();
            turned.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)8);
            turned.SaveAsJpeg(s);
        });

        var greyRun = await h.Pipeline.RunAsync(h.Request("v1-face", template: grey) with { OutputDirectory = Path.Combine(h.Folder, "grey") });
        var rotatedRun = await h.Pipeline.RunAsync(h.Request("v1-face", template: rotated) with { OutputDirectory = Path.Combine(h.Folder, "rotated") });

        Assert.Equal(RunStatus.Succeeded, greyRun.Manifest.Status);
        var box = rotatedRun.Manifest.Step("mask")!.ResultAs<MaskResult>()!.Face!.Box;
        Assert.InRange(box[0] + (box[2] / 2), 180, 280);
        Assert.InRange(box[1] + (box[3] / 2), 80, 190);
    }

    [Fact]
    public async Task CmykJpeg_IsSentAsRgbPng()
    {
        using var h = new PipelineHarness();
        var cmyk = Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut-cmyk.jpg");

        var run = await h.Pipeline.RunAsync(h.Request("v1-face", template: cmyk));

        var sent = await Miaoya.Imaging.EncodedImage.ReadFileAsync(Path.Combine(run.Folder, "template.png"));
        Assert.Equal(Miaoya.Imaging.ImageFileFormat.Png, sent.Format);
        using var image = Image.Load<Rgb24>(sent.Bytes.ToArray());
        var face = image[113, 65];
        Assert.True(face.R > face.B, $"skin tones survive the CMYK conversion ({face})");
        Assert.Equal(RunStatus.Succeeded, run.Manifest.Status);
    }

    [Fact]
    public async Task NoFace_IsRefusedBeforeAnyBoxCall_NamingTheFileAndWhatToTry()
    {
        using var h = new PipelineHarness();
        var path = h.Write("sky.png", s =>
        {
            using var image = new Image<Rgb24>(256, 256, new Rgb24(90, 140, 220));
            image.SaveAsPng(s);
        });
        var request = h.Request("v1-face", template: path);

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));

        // The built-in detector runs on this machine, so no face is bad input found before the tagger's call (it used to
        // fail in the mask step, after a box had interrogated the photo): exit 2, no run folder, nothing sent.
        Assert.Equal("template", error.InputField);
        Assert.Contains("sky.png", error.Message, StringComparison.Ordinal);
        Assert.Contains("--mask", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(request.OutputDirectory));
        Assert.DoesNotContain(h.Server.WireMock.LogEntries, e => e.RequestMessage?.Path is "/tagger/v1/interrogate" or "/sdapi/v1/img2img");
    }

    [Theory]
    [InlineData("tpu", "device", "--device 'tpu': expected cpu, cuda or cuda:N.")]
    [InlineData(null, "mask", "mask file")]
    public async Task BadDeviceOrMaskFile_IsRefusedBeforeAnyBoxCall(string? device, string field, string expected)
    {
        // --device tpu used to be a stack trace after the box had been called; a mask of the wrong size failed in the
        // mask step, after the tagger.
        using var h = new PipelineHarness();
        var mask = h.Write("mask.png", s =>
        {
            using var image = new Image<L8>(100, 100);
            image.SaveAsPng(s);
        });
        var request = device is null ? h.Request("v1-face") with { MaskFile = mask } : h.Request("v1-face") with { Device = device };

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));

        Assert.Equal(field, error.InputField);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Server.WireMock.LogEntries, e => e.RequestMessage?.Path is "/sdapi/v1/img2img" or "/tagger/v1/interrogate");
    }

    [Theory]
    [InlineData("cut")]
    [InlineData("zero")]
    public async Task CutOrDeviceTemplate_IsBadInput_NamingTheFile(string kind)
    {
        using var h = new PipelineHarness();
        var path = kind == "zero" ? "/dev/zero" : h.Write("cut.png", s => s.Write(File.ReadAllBytes(PipelineHarness.Astronaut).AsSpan(0, 5000)));

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v1-face", template: path)));

        Assert.Equal("template", error.InputField);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(kind == "zero" ? "not a PNG, JPEG or WebP" : "cut short", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaceIndexPastTheFaces_IsRefusedBeforeAnyBoxCall()
    {
        using var h = new PipelineHarness();
        var request = h.Request("v1-face") with { FaceIndex = 3 };

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));

        Assert.Equal("face_index", error.InputField);
        Assert.Contains("--face-index 3", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Server.WireMock.LogEntries, e => e.RequestMessage?.Path is "/tagger/v1/interrogate" or "/sdapi/v1/img2img");
    }

    [Fact]
    public async Task UnknownLoraAndModels_AreListedTogetherBeforeAnyGeneration()
    {
        using var h = new PipelineHarness();
        var request = h.Request("v2", overrides: ["inpaint.controlnet.softedge.model=control_v11p_sd15_softedgee [0000]", "base_model=chilloutmix_v2"], lora: "someone_else");

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(request));

        Assert.Equal("preflight", error.Step);
        Assert.Contains("LoRA \"someone_else\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("checkpoint \"chilloutmix_v2\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("control_v11p_sd15_softedgee [0000]", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Count("/sdapi/v1/img2img"));
        Assert.Equal(0, h.Count("/tagger/v1/interrogate"));
    }

    [Fact]
    public async Task MaskFile_OfTheWrongSize_IsRefused()
    {
        using var h = new PipelineHarness();
        var mask = h.Write("mask.png", s =>
        {
            using var image = new Image<L8>(100, 100);
            image.SaveAsPng(s);
        });

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v1-face") with { MaskFile = mask }));

        Assert.Contains("100×100 px, but the template is 512×512 px", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableBox_IsATransportError()
    {
        using var h = new PipelineHarness(configure: o => { o.BaseUrl = new Uri("http://127.0.0.1:1/"); o.ControlRetries = 0; });

        var error = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v1-face")));

        Assert.Contains("cannot connect to http://127.0.0.1:1/", error.Message, StringComparison.Ordinal);
    }
}
