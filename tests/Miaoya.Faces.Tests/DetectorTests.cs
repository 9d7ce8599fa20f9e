using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Faces.Tests;

public class DetectorTests
{
    private static BlazeFaceDetector Detector => Fixtures.Detector;

    private static void AssertAstronautFace(DetectedFace face, float dx = 0, float dy = 0)
    {
        // Measured with the front model on scikit-image's astronaut.png: box centre ≈ (227,130), ≈ 94 px wide,
        // score 0.92.
        Assert.InRange(face.Centre.X, 227 + dx - 10, 227 + dx + 10);
        Assert.InRange(face.Centre.Y, 130 + dy - 10, 130 + dy + 10);
        Assert.InRange(face.Box.Width, 80, 120);
        Assert.True(face.Score > 0.8f, $"score {face.Score}");
        AssertUprightLandmarks(face);
    }

    private static void AssertUprightLandmarks(DetectedFace face)
    {
        var eyesY = Math.Max(face.RightEye.Y, face.LeftEye.Y);
        Assert.True(eyesY < face.NoseTip.Y, "eyes above the nose");
        Assert.True(face.NoseTip.Y < face.Mouth.Y, "nose above the mouth");
        Assert.True(face.RightEye.X < face.NoseTip.X && face.NoseTip.X < face.LeftEye.X, "subject's right eye image-left of the nose, left eye image-right");
        Assert.True(face.RightEar.X < face.RightEye.X && face.LeftEye.X < face.LeftEar.X, "ears outside the eyes");
    }

    [Fact]
    public void Astronaut_OneFace_WhereMeasured()
    {
        using var image = Fixtures.Load("astronaut.png");
        var (faces, foundBy) = Detector.DetectCore(image, default);
        var face = Assert.Single(faces);
        AssertAstronautFace(face);
        Assert.Equal(BlazeFaceRange.Short, foundBy);
    }

    [Fact]
    public void TwoFaces_SideBySide_BothFound_SelectionBySize()
    {
        using var astronaut = Fixtures.Load("astronaut.png");
        using var big = astronaut.Clone(c => c.Crop(new Rectangle(100, 0, 256, 256)));
        using var small = big.Clone(c => c.Resize(176, 176));
        using var image = new Image<Rgb24>(512, 256, new Rgb24(90, 90, 90));
        image.Mutate(c => c.DrawImage(big, new Point(0, 0), 1f).DrawImage(small, new Point(300, 40), 1f));

        var faces = Detector.Detect(image);

        Assert.Equal(2, faces.Count);
        var largest = FaceSelection.Select(faces, null, "two.png");
        Assert.InRange(largest.Centre.X, 80, 180);
        Assert.Same(largest, FaceSelection.Select(faces, 0, "two.png"));
        var second = FaceSelection.Select(faces, 1, "two.png");
        Assert.InRange(second.Centre.X, 340, 470);
        Assert.True(second.Size < largest.Size);
        var e = Assert.Throws<FaceSelectionException>(() => FaceSelection.Select(faces, 3, "two.png"));
        Assert.Equal("two.png: --face-index 3 asked for, but 2 faces were found (0 = largest).", e.Message);
    }

    [Fact]
    public void SmallFace_InLargeCanvas_FoundByFullRangeModel()
    {
        using var astronaut = Fixtures.Load("astronaut.png");
        using var small = astronaut.Clone(c => c.Resize(128, 128));
        using var image = new Image<Rgb24>(1024, 1024, new Rgb24(128, 128, 128));
        image.Mutate(c => c.DrawImage(small, new Point(341, 341), 1f));

        var (faces, foundBy) = Detector.DetectCore(image, default);

        Assert.Equal(BlazeFaceRange.Full, foundBy);
        var face = Assert.Single(faces);

        // The astronaut's face, scaled by 1/4 and moved by 341: centre ≈ (341 + 227/4, 341 + 130/4), ≈ 24 px wide.
        Assert.InRange(face.Centre.X, 398 - 6, 398 + 6);
        Assert.InRange(face.Centre.Y, 373 - 6, 373 + 6);
        Assert.InRange(face.Size, 15, 35);
    }

    [Theory]
    [InlineData("coffee.png")]
    [InlineData("chelsea.png")]
    public void NoFace_SelectionThrowsWithFileName(string name)
    {
        using var image = Fixtures.Load(name);

        var faces = Detector.Detect(image);

        Assert.Empty(faces);
        var e = Assert.Throws<FaceSelectionException>(() => FaceSelection.Select(faces, null, name));
        Assert.Equal(
            $"{name}: no face found (tried the short- and full-range detectors). Use a photo with one clearly visible frontal face, or give a mask file with --mask.",
            e.Message);
    }

    [Fact]
    public void Cat_FullRangeModelAlone_ScoresAboveMediaPipeThreshold_ButGuardRejectsIt()
    {
        // The back model scores the cat ≈ 0.8 (measured), above MediaPipe's 0.65 (google/mediapipe 350fbb21
        // mediapipe/graphs/face_detection/face_detection_back_desktop_live.pbtxt:120) — the guard must reject it.
        using var image = Fixtures.Load("chelsea.png");
        var mediaPipeOnly = new BlazeFaceOptions { FullRangeMinScore = 0.65f, FullRangeMaxFaceFraction = 1f, RequirePlausibleLandmarks = false };
        using (var loose = BlazeFaceDetector.CreateDefault(mediaPipeOnly))
        {
            var (faces, foundBy) = loose.DetectCore(image, default);
            Assert.Equal(BlazeFaceRange.Full, foundBy);
            Assert.True(faces[0].Score > 0.75f);
        }

        Assert.Empty(Detector.Detect(image));
    }

    [Fact]
    public void ExifOrientation6_LoadRotatesUpright_FaceAtOriginalPlace()
    {
        using var astronaut = Fixtures.Load("astronaut.png");

        // Orientation 6 = "rotate 90° clockwise to display", so store the picture turned 90° anticlockwise.
        using var stored = astronaut.Clone(c => c.Rotate(RotateMode.Rotate270));
        stored.Metadata.ExifProfile = new ExifProfile();
        stored.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var stream = new MemoryStream();
        stored.SaveAsJpeg(stream, new JpegEncoder { Quality = 92 });
        var encoded = new EncodedImage(stream.ToArray());

        using var upright = FaceImages.Load(encoded);

        Assert.Equal((512, 512), (upright.Width, upright.Height));
        AssertAstronautFace(Assert.Single(Detector.Detect(upright)));
    }

    [Fact]
    public void Greyscale_StillFindsTheFace()
    {
        using var astronaut = Fixtures.Load("astronaut.png");
        using var grey = astronaut.CloneAs<L8>();
        var encoded = EncodedImage.FromPng(grey);

        using var loaded = FaceImages.Load(encoded);

        AssertAstronautFace(Assert.Single(Detector.Detect(loaded)));
    }

    [Fact]
    public void CancelledToken_Throws()
    {
        using var image = Fixtures.Load("astronaut.png");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Detector.Detect(image, cts.Token));
    }

    [Fact]
    public void ConcurrentDetect_SameResults()
    {
        using var image = Fixtures.Load("astronaut.png");
        var expected = Assert.Single(Detector.Detect(image));
        var results = new DetectedFace[8];
        Parallel.For(0, results.Length, i =>
        {
            using var copy = image.Clone();
            results[i] = Assert.Single(Detector.Detect(copy));
        });
        Assert.All(results, r => Assert.Equal(expected.Box, r.Box));
    }

    [Fact]
    public void CorruptModel_ShaMismatch_ClearMessage()
    {
        var bytes = BlazeFaceModel.ReadEmbedded(BlazeFaceModelSpec.Front.ResourceName);
        bytes[1000] ^= 0xFF;
        var e = Assert.Throws<InvalidDataException>(() =>
            BlazeFaceModel.VerifySha256(bytes, BlazeFaceModelSpec.Front.Sha256, BlazeFaceModelSpec.Front.ResourceName));
        Assert.Contains("Miaoya.Faces.Models.blazeface_front_128.onnx is corrupt", e.Message, StringComparison.Ordinal);
        Assert.Contains(BlazeFaceModelSpec.Front.Sha256, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongModel_SignatureCheck_NamesModelAndShapes()
    {
        var back = BlazeFaceModel.ReadEmbedded(BlazeFaceModelSpec.Back.ResourceName);
        var e = Assert.Throws<InvalidDataException>(() => new BlazeFaceModel(back, "custom.onnx", 128, BlazeFaceRange.Short));
        Assert.Contains("custom.onnx: not a BlazeFace 128×128 model", e.Message, StringComparison.Ordinal);
        Assert.Contains("Expected input 'input:0' [1,128,128,3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("found inputs 'input:0' [1,256,256,3]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GarbageModel_ClearMessage()
    {
        var e = Assert.Throws<InvalidDataException>(() => new BlazeFaceModel([1, 2, 3, 4], "garbage.onnx", 128, BlazeFaceRange.Short));
        Assert.StartsWith("garbage.onnx: ONNX Runtime cannot load the model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RepeatedDetection_OnTheSameImage_GivesTheSameFace()
    {
        using var fresh = BlazeFaceDetector.CreateDefault();
        using var image = Fixtures.Load("astronaut.png");
        var first = Assert.Single(fresh.Detect(image));
        for (var i = 0; i < 5; i++)
        {
            var again = Assert.Single(fresh.Detect(image));
            Assert.Equal(first.Box, again.Box);
        }

        using var coffee = Fixtures.Load("coffee.png");
        Assert.Empty(fresh.Detect(coffee));
    }
}
