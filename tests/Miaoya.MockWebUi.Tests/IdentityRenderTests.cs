using System.Text.Json.Nodes;
using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi.Tests;

/// <summary>/controlnet/detect with the identity preprocessors, and what an applied identity unit does to the render.</summary>
public sealed class IdentityRenderTests
{
    private static readonly Lazy<BlazeFaceDetector> Detector = new(() => BlazeFaceDetector.CreateDefault());

    private static JsonObject Detect(string module, string image) => new()
    {
        ["controlnet_module"] = module,
        ["controlnet_input_images"] = new JsonArray(image),
    };

    // api.py detect (sd-webui-controlnet@56cec5b scripts/api.py:99-192): a preprocessor that does not return an image gives
    // {"info":"Success","tensor":[b64 of torch.save]}; instant_id_face_keypoints returns its drawing in "images".
    [Theory]
    [InlineData("ip-adapter_face_id")]
    [InlineData("ip-adapter_face_id_plus")]
    [InlineData("instant_id_face_embedding")]
    [InlineData("ip-adapter_pulid")]
    public async Task Detect_IdentityEmbedding_ReturnsATensor__api_py_171_192(string module)
    {
        using var c = new MockClient();
        var r = await c.PostAsync("controlnet/detect", Detect(module, Identity.Reference()));
        Assert.Equal(200, r.Status);
        Assert.Equal("Success", r.Json!["info"]!.GetValue<string>());
        Assert.Single(r.Json["tensor"]!.AsArray());
        Assert.Null(r.Json["images"]);
    }

    [Fact]
    public async Task Detect_InstantIdKeypoints_ReturnsTheDrawing__processor_py_713_757()
    {
        using var c = new MockClient();
        var r = await c.PostAsync("controlnet/detect", Detect("instant_id_face_keypoints", TestImages.AstronautBase64()));
        Assert.Equal(200, r.Status);
        using var map = TestImages.Decode(Assert.Single(r.Json!["images"]!.AsArray()));
        Assert.Equal((512, 512), (map.Width, map.Height));
    }

    // The preprocessor's exceptions leave the route: A1111's api_middleware answers 500 {"error","detail","body","errors"}.
    [Fact]
    public async Task Detect_NoFace_Is500_InsightfaceNoFaceFound__processor_py_656()
    {
        using var c = new MockClient();
        var r = await c.PostAsync("controlnet/detect", Detect("ip-adapter_face_id_plus", TestImages.Solid(200, 200, new Rgba32(30, 60, 200, 255))));
        Assert.Equal(500, r.Status);
        Assert.Equal(("Exception", "Insightface: No face found in image."), (r.Json!["error"]!.GetValue<string>(), r.Json["errors"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Detect_InsightFaceMissing_Is500_ModuleNotFoundError__processor_py_686()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("insightface");
        using var c = new MockClient(options);
        var r = await c.PostAsync("controlnet/detect", Detect("ip-adapter_face_id_plus", Identity.Reference()));
        Assert.Equal(500, r.Status);
        Assert.Equal(("ModuleNotFoundError", "No module named 'insightface'"), (r.Json!["error"]!.GetValue<string>(), r.Json["errors"]!.GetValue<string>()));
        Assert.Equal(200, (await c.PostAsync("controlnet/detect", Detect("canny", Identity.Reference()))).Status); // others run
    }

    [Fact]
    public async Task Detect_PuLidWithoutEvaClip_Is500_AssertionError__pulid_py_154_156()
    {
        var options = new MockWebUiOptions();
        options.Without.Add("evaclip");
        using var c = new MockClient(options);
        var r = await c.PostAsync("controlnet/detect", Detect("ip-adapter_pulid", Identity.Reference()));
        Assert.Equal(500, r.Status);
        Assert.Equal("AssertionError", r.Json!["error"]!.GetValue<string>());
        Assert.Equal("EVA02-CLIP-L-14-336 preprocessor not found! Please install sd-webui-controlnet-evaclip", r.Json["errors"]!.GetValue<string>());
    }

    private static async Task<Image<Rgba32>> Render(MockClient c, JsonObject body)
    {
        var r = await c.PostAsync("sdapi/v1/img2img", body);
        Assert.True(r.Status == 200, r.Text);
        Assert.Empty(c.Server.ConsoleErrors);
        return TestImages.Decode(Identity.Images(r.Json)[0]);
    }

    /// <summary>Mean absolute difference per channel between <paramref name="a"/>'s <paramref name="region"/> and <paramref name="b"/> resized to it.</summary>
    private static double Distance(Image<Rgba32> a, Rectangle region, Image<Rgba32> b)
    {
        using var crop = a.Clone(x => x.Crop(region));
        using var other = b.Clone(x => x.Resize(region.Width, region.Height));
        double sum = 0;
        for (var y = 0; y < region.Height; y++)
        {
            for (var x = 0; x < region.Width; x++)
            {
                Rgba32 p = crop[x, y], q = other[x, y];
                sum += Math.Abs(p.R - q.R) + Math.Abs(p.G - q.G) + Math.Abs(p.B - q.B);
            }
        }

        return sum / (region.Width * region.Height * 3);
    }

    private static int DifferingPixels(Image<Rgba32> a, Image<Rgba32> b, Rectangle region)
    {
        var count = 0;
        for (var y = region.Top; y < region.Bottom; y++)
        {
            for (var x = region.Left; x < region.Right; x++)
            {
                count += a[x, y] == b[x, y] ? 0 : 1;
            }
        }

        return count;
    }

    [Fact]
    public async Task IdentityUnit_ChangesTheFaceArea_OnlyThere_AndNearerTheReference()
    {
        using var c = new MockClient();
        using var without = await Render(c, Identity.Img2Img(21));
        using var with = await Render(c, Identity.Img2Img(21, units: Identity.FaceId()));
        using var reference = TestImages.Decode(JsonValue.Create(Identity.Reference()));

        Assert.True(DifferingPixels(without, with, Identity.FaceMask) > Identity.FaceMask.Width * Identity.FaceMask.Height / 3);
        Assert.Equal(0, DifferingPixels(without, with, new Rectangle(0, 300, 512, 212))); // outside the mask: untouched
        // what a face scorer on an aligned crop sees: the face square nearer the reference with the unit than without
        var square = new Rectangle(Identity.FaceCrop.X + 10, Identity.FaceCrop.Y + 10, Identity.FaceCrop.Width - 20, Identity.FaceCrop.Height - 20);
        using var refInner = reference.Clone(x => x.Crop(new Rectangle(10, 10, reference.Width - 20, reference.Height - 20)));
        Assert.True(Distance(with, square, refInner) < Distance(without, square, refInner) * 0.85,
            $"with {Distance(with, square, refInner):F1}, without {Distance(without, square, refInner):F1}");
    }

    [Fact]
    public async Task IdentityUnit_TwoSeeds_GiveTwoCandidates()
    {
        using var c = new MockClient();
        using var a = await Render(c, Identity.Img2Img(100, units: Identity.FaceId()));
        using var b = await Render(c, Identity.Img2Img(101, units: Identity.FaceId()));
        using var again = await Render(c, Identity.Img2Img(100, units: Identity.FaceId()));
        Assert.True(DifferingPixels(a, b, Identity.FaceMask) > 1000);
        Assert.Equal(0, DifferingPixels(a, again, new Rectangle(0, 0, 512, 512))); // same seed, same render
    }

    [Fact]
    public async Task IdentityUnit_WeightScalesTheBlend()
    {
        using var c = new MockClient();
        using var reference = TestImages.Decode(JsonValue.Create(Identity.Reference()));
        using var weak = await Render(c, Identity.Img2Img(5, units: Identity.Unit("ip-adapter_face_id_plus", Identity.FaceIdPlusV2, Identity.Reference(), weight: 0.3)));
        using var strong = await Render(c, Identity.Img2Img(5, units: Identity.Unit("ip-adapter_face_id_plus", Identity.FaceIdPlusV2, Identity.Reference(), weight: 1.0)));
        Assert.True(Distance(strong, Identity.FaceCrop, reference) < Distance(weak, Identity.FaceCrop, reference));
    }

    [Fact]
    public async Task IdentityUnit_WithoutMask_BlendsIntoTheLocatedFace()
    {
        using var c = new MockClient();
        using var without = await Render(c, Identity.Img2Img(8, mask: false));
        using var with = await Render(c, Identity.Img2Img(8, mask: false, units: Identity.FaceId()));
        Assert.True(DifferingPixels(without, with, Identity.FaceMask) > 5000);
        Assert.Equal(0, DifferingPixels(without, with, new Rectangle(0, 400, 512, 112)));
    }

    // The rendered face must stay a face for the repo's detector (what best-of-N scoring runs first).
    [Fact]
    public async Task IdentityRender_OfTheAstronaut_BlazeFaceFindsExactlyOneFace()
    {
        using var c = new MockClient();
        foreach (var seed in new long[] { 1, 2, 3 })
        {
            using var render = await Render(c, Identity.Img2Img(seed, units: Identity.FaceId()));
            using var rgb = render.CloneAs<Rgb24>();
            var face = Assert.Single(Detector.Value.Detect(rgb));
            Assert.InRange(face.Centre.X, 190, 265);
            Assert.InRange(face.Centre.Y, 90, 170);
        }
    }
}
