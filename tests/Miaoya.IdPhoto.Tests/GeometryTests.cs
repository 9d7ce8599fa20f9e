using System.Numerics;
using Miaoya.Faces;
using SixLabors.ImageSharp;

namespace Miaoya.IdPhoto.Tests;

public class GeometryTests
{
    private static readonly string[] GeometryRules = ["face_count", "head_height", "top_margin", "eye_line", "centring", "roll"];

    [Fact]
    public void Crown_and_chin_are_placed_along_the_face_axis_from_the_eye_to_mouth_distance()
    {
        // Upright face: eyes at y 100, mouth at y 140 → d = 40.
        var face = new DetectedFace(new RectangleF(60, 80, 80, 80), [new(80, 100), new(120, 100), new(100, 120), new(100, 140), new(60, 105), new(140, 105)], 0.9f);
        var head = HeadGeometry.From(face);
        Assert.Equal(new Vector2(100, 100), head.Eyes);
        Assert.Equal(100 - (1.55f * 40), head.Crown.Y, 3);
        Assert.Equal(100 + (1.68f * 40), head.Chin.Y, 3);
        Assert.Equal(0, head.RollDegrees, 6);

        // The same face turned 10° clockwise (image coordinates, y down) about the eyes: roll +10°, same head height.
        var r = MathF.PI / 18;
        PointF Turn(PointF p) => new(100 + ((p.X - 100) * MathF.Cos(r)) - ((p.Y - 100) * MathF.Sin(r)), 100 + ((p.X - 100) * MathF.Sin(r)) + ((p.Y - 100) * MathF.Cos(r)));
        var turned = HeadGeometry.From(face with { Landmarks = face.Landmarks.Select(Turn).ToArray() });
        Assert.Equal(10, turned.RollDegrees, 3);
        Assert.Equal(head.HeadHeight, turned.HeadHeight, 2);
    }

    [Fact]
    public void The_plan_puts_the_eyes_on_the_centre_line_and_levels_them()
    {
        var spec = IdSpecs.Find("cn-1inch");
        var head = new HeadGeometry(new(300, 200), new(300, 100), new(300, 310), new(0, 1), 15);
        var plan = CropPlan.For(head, spec, 295, 413);
        Assert.Equal(head.Eyes, plan.ToSource(plan.OutputEyes));
        Assert.Equal(147.5f, plan.OutputEyes.X);
        // One output pixel to the right of the eyes lies along the tilted eye line in the source.
        var step = plan.ToSource(plan.OutputEyes + new Vector2(1, 0)) - head.Eyes;
        Assert.Equal(15, Math.Atan2(step.Y, step.X) * 180 / Math.PI, 2);
        Assert.Equal(spec.HeadHeight.Mid * 413 / 210, plan.Scale, 4);
    }

    [Fact]
    public async Task Astronaut_is_finished_inside_every_geometric_rule()
    {
        using var photo = TestSupport.Astronaut();
        var result = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = IdSpecs.Find("cn-1inch") }, TestSupport.Detector, null);
        AssertGeometryPasses(result);
    }

    [Theory]
    [InlineData(-12f)]
    [InlineData(14f)]
    public async Task A_tilted_head_is_levelled(float degrees)
    {
        using var photo = TestSupport.Tilted(degrees);
        var result = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = IdSpecs.Find("icao-35x45") }, TestSupport.Detector, null);
        AssertGeometryPasses(result);
        Assert.Contains(result.Warnings, w => w.Contains("eyes levelled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_off_centre_person_is_centred()
    {
        using var photo = TestSupport.Placed(1400, 900, 850, 300);
        var result = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = IdSpecs.Find("cn-2inch") }, TestSupport.Detector, null);
        AssertGeometryPasses(result);
    }

    [Fact]
    public async Task A_small_head_is_enlarged_to_the_spec_and_the_softness_is_reported()
    {
        using var photo = TestSupport.Placed(900, 900, 300, 350, scale: 0.6f);
        var result = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = IdSpecs.Find("us-2x2") }, TestSupport.Detector, null);
        AssertGeometryPasses(result);
        Assert.Contains(result.Warnings, w => w.Contains("small in the photo", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_large_photo_is_shrunk_without_losing_the_face()
    {
        using var photo = TestSupport.Placed(2600, 2600, 0, 0, scale: 5f); // 2560 px astronaut: HivisionIDPhotos-cpp #6 found no face in large photos
        var result = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = IdSpecs.Find("icao-35x45") }, TestSupport.Detector, null);
        AssertGeometryPasses(result);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("small in the photo", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FaceIndex_picks_one_of_several_faces_counted_left_to_right()
    {
        using var two = TestSupport.TwoFaces();
        var faces = FaceSelection.OrderLeftToRight(TestSupport.Detector.Detect(two));
        var spec = IdSpecs.Find("cn-1inch");

        var left = await IdPhotoFinisher.FinishAsync(two, new FinishOptions { Spec = spec, FaceIndex = 0 }, TestSupport.Detector, null);
        var right = await IdPhotoFinisher.FinishAsync(two, new FinishOptions { Spec = spec, FaceIndex = 1 }, TestSupport.Detector, null);

        // Both are framed on one face; the two photos differ because they came from different halves.
        Assert.Equal(2, faces.Count);
        Assert.True(left.Verdict.Rules.Single(r => r.Id == "head_height").Passed, left.Verdict.ToTable());
        Assert.True(right.Verdict.Rules.Single(r => r.Id == "head_height").Passed, right.Verdict.ToTable());
        Assert.NotEqual(Convert.ToHexString(left.Photo.Bytes), Convert.ToHexString(right.Photo.Bytes));

        var e = await Assert.ThrowsAsync<IdPhotoException>(() => IdPhotoFinisher.FinishAsync(two, new FinishOptions { Spec = spec, FaceIndex = 2 }, TestSupport.Detector, null));
        Assert.StartsWith("the photo: --face-index 2 asked for, but 2 faces were found, counted from 0 left to right: 0 at x ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_faces_and_no_face_are_refused_with_what_was_found()
    {
        using var two = TestSupport.TwoFaces();
        var e = await Assert.ThrowsAsync<IdPhotoException>(() => IdPhotoFinisher.FinishAsync(two, new FinishOptions { Spec = IdSpecs.Find("cn-1inch") }, TestSupport.Detector, null));
        Assert.StartsWith("2 faces found, counted from 0 left to right: 0 at x ", e.Message, StringComparison.Ordinal);
        Assert.Contains("choose one with --face-index N", e.Message, StringComparison.Ordinal);

        using var coffee = Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(TestSupport.PathOf("coffee.png"));
        e = await Assert.ThrowsAsync<IdPhotoException>(() => IdPhotoFinisher.FinishAsync(coffee, new FinishOptions { Spec = IdSpecs.Find("cn-1inch") }, TestSupport.Detector, null));
        Assert.StartsWith("no face found", e.Message, StringComparison.Ordinal);
    }

    private static void AssertGeometryPasses(FinishResult result)
    {
        foreach (var id in GeometryRules)
        {
            Assert.True(result.Verdict[id].Passed, $"{id}: {result.Verdict[id]}\n{result.Verdict.ToTable()}");
        }

        Assert.True(result.Verdict["pixel_size"].Passed);
        Assert.True(result.Verdict["dpi"].Passed);
    }
}
