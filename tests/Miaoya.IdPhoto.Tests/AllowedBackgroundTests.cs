using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.IdPhoto.Tests;

/// <summary>Each spec's <c>backgrounds:</c> list decides which fills it accepts, before any image work.</summary>
public class AllowedBackgroundTests
{
    [Theory]
    [InlineData("us-2x2", "white")]
    [InlineData("us-2x2", "off-white")]
    [InlineData("us-2x2", "#FDFDFD")] // within background_delta_e of white
    [InlineData("us-2x2", "keep")] // the photo's own background: the verdict measures it
    [InlineData("cn-1inch", "blue")]
    [InlineData("cn-1inch", "red")]
    [InlineData("icao-35x45", "gradient:white:light-grey")]
    public void A_background_the_spec_lists_is_allowed(string spec, string background) =>
        Assert.Null(IdSpecs.Find(spec).BackgroundProblem(BackgroundFill.Parse(background)));

    [Theory]
    [InlineData("us-2x2", "blue", "us-2x2 does not allow a blue (#438EDB) background", "us-2x2 allows white, off-white")]
    [InlineData("cn-passport-visa", "red", "cn-passport-visa does not allow a red (#FF0000) background", "cn-passport-visa allows white")]
    [InlineData("icao-35x45", "#438EDB", "icao-35x45 does not allow a blue (#438EDB) background", "icao-35x45 allows white, off-white, light-grey")]
    [InlineData("us-2x2", "gradient:white:blue", "us-2x2 does not allow a blue (#438EDB) background", "us-2x2 allows white, off-white")]
    [InlineData("cn-1inch", "#00FF00", "cn-1inch does not allow a #00FF00 background", "cn-1inch allows white, blue, red")]
    public void A_background_the_spec_forbids_is_named_with_the_allowed_colours(string spec, string background, string start, string allowed)
    {
        var problem = IdSpecs.Find(spec).BackgroundProblem(BackgroundFill.Parse(background));
        Assert.NotNull(problem);
        Assert.StartsWith(start, problem, StringComparison.Ordinal);
        Assert.Contains(allowed, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_message_names_the_specs_that_do_allow_the_colour()
    {
        var problem = IdSpecs.Find("us-2x2").BackgroundProblem(BackgroundFill.Parse("blue"))!;
        Assert.EndsWith("choose one of those, or a spec that allows blue (#438EDB): cn-1inch, cn-1inch-large, cn-1inch-small, cn-2inch, cn-2inch-small.", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Finishing_refuses_a_forbidden_background_before_detecting_a_face_or_calling_the_box()
    {
        using var box = new MockBox();
        using var photo = TestSupport.Astronaut();
        var detector = new NeverCalled();
        var options = new FinishOptions { Spec = IdSpecs.Find("us-2x2"), Background = BackgroundFill.Parse("blue") };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => IdPhotoFinisher.FinishAsync(photo, options, detector, box.Client));
        Assert.Contains("us-2x2 does not allow a blue", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, detector.Calls);
        Assert.Equal(0, box.Server.RequestCount);
    }

    private sealed class NeverCalled : IFaceDetector
    {
        public int Calls { get; private set; }

        public IReadOnlyList<DetectedFace> Detect(Image<Rgb24> image, CancellationToken cancellationToken = default)
        {
            Calls++;
            throw new InvalidOperationException("the detector ran");
        }
    }
}
