using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.IdPhoto.Tests;

/// <summary>
/// The rim rule (the band just outside the person's matte against the background colour) and the matte refinement that
/// keeps the old backdrop out of it.
/// </summary>
public class RimTests : IClassFixture<ComplianceTests.GoodPhoto>
{
    private static readonly Rgb24 OldBackdrop = new(170, 165, 160);
    private readonly ComplianceTests.GoodPhoto _good;

    public RimTests(ComplianceTests.GoodPhoto good) => _good = good;

    private static IdSpec Spec => IdSpecs.Find("cn-1inch");

    /// <summary>The photo with a 1–5 px ring of grey old backdrop drawn just outside the matte's person, as a halo looks.</summary>
    internal static byte[] WithHalo(byte[] photo, Image<L8> matte, int from = 1, int to = 5)
    {
        using var image = Image.Load<Rgb24>(photo);
        var alpha = new byte[matte.Width * matte.Height];
        matte.CopyPixelDataTo(alpha);
        var distance = Matting.DistanceTo(alpha, matte.Width, matte.Height, a => a >= 128);
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var d = distance[(y * image.Width) + x];
                if (d >= from && d <= to)
                {
                    image[x, y] = OldBackdrop;
                }
            }
        }

        return PhotoEncoder.Encode(image, PhotoFormat.Jpeg, 300).Bytes;
    }

    [Fact]
    public void A_clean_edge_passes_and_a_synthetic_halo_fails_the_rim_alone_with_its_hint()
    {
        using var matte = Image.Load<L8>(_good.Result.Mask!);
        var clean = ComplianceChecker.Check(_good.Result.Photo.Bytes, "clean.jpg", Spec, TestSupport.Detector, matte: matte, matteSource: "mask.png");
        Assert.True(clean.Passed, clean.ToTable());
        Assert.False(clean["background_rim"].Skipped);
        Assert.True(clean["background_rim"].Value!.GetValue<double>() < 4, clean.ToTable());

        var halo = ComplianceChecker.Check(WithHalo(_good.Result.Photo.Bytes, matte), "halo.jpg", Spec, TestSupport.Detector, matte: matte, matteSource: "mask.png");
        Assert.Equal(["background_rim"], halo.Rules.Where(r => !r.Passed).Select(r => r.Id));
        var rim = halo["background_rim"];
        Assert.True(rim.Value!.GetValue<double>() > Spec.RimDeltaE, halo.ToTable());
        Assert.Equal(Spec.RimDeltaE, rim.Max);
        Assert.StartsWith("the band just outside the person is ΔE", rim.Hint, StringComparison.Ordinal);
        Assert.Contains("halo of the old backdrop", rim.Hint, StringComparison.Ordinal);
        Assert.Contains("background_uniformity  pass", halo.ToTable(), StringComparison.Ordinal); // the wide region still looks clean
    }

    [Fact]
    public void A_cut_edge_fails_the_rim_a_matte_of_another_size_fails_and_no_matte_skips_it()
    {
        using var matte = Image.Load<L8>(_good.Result.Mask!);

        // The person goes on past the matte (a matte cut short of the shoulders and hair): the band shows the person.
        using var shrunk = matte.Clone(c => c.GaussianBlur(6).BinaryThreshold(0.95f));
        var cut = ComplianceChecker.Check(_good.Result.Photo.Bytes, "cut.jpg", Spec, TestSupport.Detector, matte: shrunk);
        Assert.False(cut["background_rim"].Passed, cut.ToTable());

        using var small = matte.Clone(c => c.Resize(100, 100));
        var wrong = ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec, TestSupport.Detector, matte: small);
        Assert.False(wrong["background_rim"].Passed);
        Assert.Contains("the matte made for this photo", wrong["background_rim"].Hint, StringComparison.Ordinal);

        var none = ComplianceChecker.Check(_good.Result.Photo.Bytes, "x.jpg", Spec, TestSupport.Detector);
        Assert.True(none["background_rim"].Skipped);
        Assert.True(none.Passed);
        Assert.Contains("background_rim         skip", none.ToTable(), StringComparison.Ordinal);
        Assert.Contains("verdict: PASS (12 rules measured, 1 skipped)", none.ToTable(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_mock_matte_halo_of_the_demo_is_refined_away_and_the_old_composite_fails_the_rim()
    {
        // The case: cn-1inch on blue through the mock, whose matte is a head ellipse and shoulders that keep a rim of
        // the astronaut's grey backdrop around the hair and a wedge of it at the shoulder.
        using var photo = TestSupport.Astronaut();
        var options = new FinishOptions { Spec = Spec, Background = BackgroundFill.Parse("blue") };
        var result = await IdPhotoFinisher.FinishAsync(photo, options, TestSupport.Detector, _good.Box.Client);
        Assert.True(result.Verdict.Passed, result.Verdict.ToTable());
        Assert.True(result.Verdict["background_rim"].Value!.GetValue<double>() < 4, result.Verdict.ToTable());
        Assert.Contains(result.Warnings, w => w.StartsWith("rembg's matte kept", StringComparison.Ordinal));

        // The same frame composited as before the refinement (the raw matte, no decontamination) fails the rim against the
        // refined matte: the halo is there, the wide background region does not see it.
        using var refinedMatte = Image.Load<L8>(result.Mask!);
        using var reframed = await ReframeAsync(photo);
        using var raw = await IdPhotoFinisher.PersonMaskAsync(_good.Box.Client, reframed, options.RembgModel, CancellationToken.None);
        using var old = BackgroundCompositor.Composite(reframed, raw, options.Background);
        var oldBytes = PhotoEncoder.Encode(old, PhotoFormat.Jpeg, 300).Bytes;
        var before = ComplianceChecker.Check(oldBytes, "old.jpg", Spec, TestSupport.Detector, matte: refinedMatte);
        Assert.False(before["background_rim"].Passed, before.ToTable());
        Assert.True(before["background_uniformity"].Passed, before.ToTable());
        Assert.True(before["background_colour"].Passed, before.ToTable());
    }

    [Fact]
    public void Refinement_removes_a_backdrop_ring_kept_by_the_matte_and_decontaminates_soft_edges()
    {
        // A brown disc on a mottled grey backdrop; the matte is the disc grown by 8 px (a halo ring), with a 2 px soft edge.
        const int Size = 160;
        var backdrop = new Rgb24(200, 198, 195);
        var hair = new Rgb24(110, 80, 50);
        using var photo = new Image<Rgb24>(Size, Size);
        using var matte = new Image<L8>(Size, Size);
        var random = new Random(7);
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var r = MathF.Sqrt(((x - 80) * (x - 80)) + ((y - 80) * (y - 80)));
                var coverage = Math.Clamp(40.5f - r, 0f, 1f); // the disc's own anti-aliased edge
                var noise = random.Next(-3, 4);
                photo[x, y] = new Rgb24(
                    (byte)Math.Clamp((hair.R * coverage) + ((backdrop.R + noise) * (1 - coverage)), 0, 255),
                    (byte)Math.Clamp((hair.G * coverage) + ((backdrop.G + noise) * (1 - coverage)), 0, 255),
                    (byte)Math.Clamp((hair.B * coverage) + ((backdrop.B + noise) * (1 - coverage)), 0, 255));
                matte[x, y] = new L8((byte)(Math.Clamp((49 - r) / 2, 0f, 1f) * 255));
            }
        }

        using var refined = Matting.Refine(photo, matte);
        Assert.InRange(refined.RemovedPixels, 1500, 2600); // the ring between r 40.5 and 49: π(49² − 40.5²) ≈ 2390
        Assert.Equal(0, refined.Matte[80 + 45, 80].PackedValue); // in the ring: now background
        Assert.Equal(255, refined.Matte[80 + 30, 80].PackedValue); // in the disc: still the person
        Assert.Equal(255, refined.Matte[80, 80].PackedValue);

        // Composited on blue, the band just outside the refined matte is blue; with the raw matte it was the grey ring.
        var blue = BackgroundFill.Parse("blue");
        using var after = BackgroundCompositor.Composite(refined.Person, refined.Matte, blue);
        using var before = BackgroundCompositor.Composite(photo, matte, blue);
        var target = Miaoya.Imaging.Lab.FromRgb(67, 142, 219);
        double P90(Image<Rgb24> image, Image<L8> m)
        {
            var d = ComplianceChecker.RimSamples(image, m).Select(s => Miaoya.Imaging.Lab.DeltaE2000(s, target)).Order().ToArray();
            return d[(int)(0.9 * (d.Length - 1))];
        }

        Assert.True(P90(after, refined.Matte) < 3, $"after {P90(after, refined.Matte):0.0}");
        Assert.True(P90(before, refined.Matte) > 20, $"before {P90(before, refined.Matte):0.0}");

        // A soft pixel of the disc's edge keeps the hair's colour, not the grey: decontaminated.
        var soft = Enumerable.Range(0, Size).Select(x => (X: x, A: refined.Matte[x, 80].PackedValue)).FirstOrDefault(p => p.A is > 40 and < 215);
        if (soft.X != 0)
        {
            var f = refined.Person[soft.X, 80];
            Assert.True(f.R < 160, $"soft pixel at x {soft.X}, α {soft.A}: {f}");
        }

        Assert.True(refined.DecontaminatedPixels > 0);
    }

    private static async Task<Image<Rgb24>> ReframeAsync(Image<Rgb24> photo)
    {
        // The finisher's own frame, from a keep-background run (same geometry, no compositing).
        var kept = await IdPhotoFinisher.FinishAsync(photo, new FinishOptions { Spec = Spec, Format = PhotoFormat.Png }, TestSupport.Detector, null);
        return Image.Load<Rgb24>(kept.Photo.Bytes);
    }
}
