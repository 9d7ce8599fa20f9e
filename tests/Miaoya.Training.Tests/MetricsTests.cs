using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Training.Tests;

public class MetricsTests
{
    [Fact]
    public void Sharpness_DropsWithBlur()
    {
        using var sharp = TestFiles.Astronaut();
        using var blurred = sharp.Clone(c => c.GaussianBlur(3));

        Assert.True(Photos.Sharpness(blurred) < Photos.Sharpness(sharp) / 5);
    }

    [Fact]
    public void DifferenceHash_SameForReencoded_FarForOtherPhotos()
    {
        using var a = TestFiles.Astronaut();
        using var jpeg = new MemoryStream();
        a.SaveAsJpeg(jpeg);
        jpeg.Position = 0;
        using var reencoded = Image.Load<Rgb24>(jpeg);
        using var mirrored = a.Clone(c => c.Flip(FlipMode.Horizontal));
        using var coffee = Photos.NoFace();

        Assert.True(PhotoMetrics.HammingDistance(PhotoMetrics.DifferenceHash(a), PhotoMetrics.DifferenceHash(reencoded)) <= 2);
        Assert.True(PhotoMetrics.HammingDistance(PhotoMetrics.DifferenceHash(a), PhotoMetrics.DifferenceHash(mirrored)) > 16);
        Assert.True(PhotoMetrics.HammingDistance(PhotoMetrics.DifferenceHash(a), PhotoMetrics.DifferenceHash(coffee)) > 16);
    }

    [Fact]
    public void Pose_FrontalFaceIsFrontal_RotatedFaceHasRoll()
    {
        using var a = TestFiles.Astronaut();
        var face = TestFiles.Detector.Detect(a).MaxBy(f => f.Size)!;
        var pose = PhotoMetrics.Pose(face);
        Assert.InRange(pose.Yaw, -0.15, 0.15);
        Assert.InRange(pose.EyesToMouth, 0.7, 1.3);

        // The same landmarks turned 50° about the face centre: the roll follows, the other ratios stay.
        var c = face.Centre;
        var turn = System.Numerics.Matrix3x2.CreateRotation(50 * MathF.PI / 180, new System.Numerics.Vector2(c.X, c.Y));
        var turned = face with { Landmarks = face.Landmarks.Select(p => PointF.Transform(p, turn)).ToArray() };
        var turnedPose = PhotoMetrics.Pose(turned);
        Assert.InRange(turnedPose.RollDegrees - pose.RollDegrees, 49, 51);
        Assert.Equal(pose.Yaw, turnedPose.Yaw, 3);
    }

    [Theory]
    [InlineData(512, 512)]
    [InlineData(512, 768)]
    public void UpperBodyFrame_HasTheResolutionsAspect_AndHoldsTheFace(int width, int height)
    {
        using var a = TestFiles.Astronaut();
        var face = TestFiles.Detector.Detect(a).MaxBy(f => f.Size)!;
        var frame = UpperBodyCrop.Frame(a.Size(), face, new TrainingResolution(width, height));

        Assert.InRange((double)frame.Width / frame.Height, (width / (double)height) - 0.01, (width / (double)height) + 0.01);
        Assert.True(new Rectangle(0, 0, a.Width, a.Height).Contains(frame));
        Assert.True(frame.Contains(Rectangle.Round(face.Box)));
        Assert.True(face.Centre.Y - frame.Top < frame.Height / 2f);
    }

    [Fact]
    public void UpperBodyFrame_PhotoTooSmall_ShrinksAndStaysInside()
    {
        using var a = TestFiles.Astronaut();
        using var tight = a.Clone(c => c.Crop(new Rectangle(150, 40, 180, 220)));
        var face = TestFiles.Detector.Detect(tight).MaxBy(f => f.Size)!;
        var frame = UpperBodyCrop.Frame(tight.Size(), face, new TrainingResolution(512, 768));

        Assert.True(new Rectangle(0, 0, tight.Width, tight.Height).Contains(frame));
        Assert.InRange((double)frame.Width / frame.Height, 0.65, 0.68);
    }

    [Fact]
    public void Captions_DropGlobs_MatchUnderscoresOrSpaces()
    {
        Assert.True(Captions.Matches("brown_eyes", ["*_eyes"]));
        Assert.True(Captions.Matches("Brown Eyes", ["*_eyes"]));
        Assert.True(Captions.Matches("mole_under_eye", ["mole*"]));
        Assert.False(Captions.Matches("closed_eyes_x", ["*_eyes"]));
        Assert.False(Captions.Matches("smile", Captions.DefaultDropTags));
    }

    [Fact]
    public void Captions_Full_OrdersTagsByScore_AppliesTheThreshold()
    {
        var tags = new Dictionary<string, double> { ["smile"] = 0.8, ["1girl"] = 0.97, ["blue_eyes"] = 0.9, ["hat"] = 0.2, ["upper_body"] = 0.7 };
        var (caption, dropped) = Captions.Full("zq", ["upper body", "looking at viewer"], tags, 0.35, Captions.DefaultDropTags);

        Assert.Equal("zq, upper body, looking at viewer, 1girl, smile", caption);
        Assert.Equal(["blue eyes"], dropped);
    }

    [Fact]
    public void Identity_LeaveOneOut_FindsTheOddOne()
    {
        float[] a = [1, 0, 0], b = [0.9f, 0.1f, 0], c = [0.95f, 0, 0.05f], d = [-1, 0.2f, 0];
        var s = Identity.LeaveOneOutSimilarities([a, b, c, d]);

        Assert.True(s[3] < 0);
        Assert.All(s.Take(3), x => Assert.True(x > 0.5));
    }

    [Theory]
    [InlineData("512x768", 512, 768)]
    [InlineData("768X512", 768, 512)]
    [InlineData("1024,1024", 1024, 1024)]
    public void Resolution_Parses(string text, int w, int h) => Assert.Equal(new TrainingResolution(w, h), TrainingResolution.Parse(text));

    [Theory]
    [InlineData("500x500")]
    [InlineData("512")]
    [InlineData("128x128")]
    public void Resolution_Refuses(string text) => Assert.False(TrainingResolution.TryParse(text, out _, out _));
}
