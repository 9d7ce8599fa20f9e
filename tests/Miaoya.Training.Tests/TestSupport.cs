using Miaoya.Faces;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Training.Tests;

/// <summary>Fixtures, the stand-in models, the fake trainer and a scratch folder.</summary>
internal static class TestFiles
{
    private static readonly Lazy<BlazeFaceDetector> SharedDetector = new(() => BlazeFaceDetector.CreateDefault());

    public static BlazeFaceDetector Detector => SharedDetector.Value;

    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>The ArcFace stand-in (tests/Miaoya.FaceSwap.Tests/StandInModels): same signature as w600k_r50.onnx.</summary>
    public static string ArcFace => Path.Combine(AppContext.BaseDirectory, "StandInModels", "w600k_r50.onnx");

    public static string FakeTrainer => Path.Combine(AppContext.BaseDirectory, "FakeTrainer", "train_network.sh");

    public static string RecipePath => Path.Combine(AppContext.BaseDirectory, "recipes", "lora-training.yaml");

    public static string NewFolder(string prefix)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"miaoya-training-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static Image<Rgb24> Astronaut() => Image.Load<Rgb24>(Fixture("astronaut.png"));
}

/// <summary>Photo variants generated from the shared fixtures (no binary test photos beyond them).</summary>
internal static class Photos
{
    /// <summary>Distinct good photos of the one face: different framings, mirror, canvas.</summary>
    public static Image<Rgb24> Good(int variant)
    {
        var a = TestFiles.Astronaut();
        if (variant >= 6)
        {
            // More framings: the photo on canvases of different sizes, places and colours (distinct perceptual hashes).
            var k = variant - 6;
            if (k % 2 == 1)
            {
                a.Mutate(c => c.Flip(FlipMode.Horizontal));
            }

            var grey = (byte)(40 + (k * 37 % 180));
            return OnCanvas(a, 560 + (k * 90), 600 + (k % 3 * 80), k * 40, k % 3 * 40, new Rgb24(grey, (byte)(255 - grey), (byte)(k * 50 % 256)));
        }

        switch (variant)
        {
            case 0:
                return a;
            case 1:
                a.Mutate(c => c.Flip(FlipMode.Horizontal));
                return a;
            case 2:
                a.Mutate(c => c.Crop(new Rectangle(40, 0, 420, 460)));
                return a;
            case 3:
                a.Mutate(c => c.Flip(FlipMode.Horizontal).Crop(new Rectangle(20, 10, 470, 420)));
                return a;
            case 4:
                return OnCanvas(a, 700, 640, 120, 90, new Rgb24(90, 110, 140));
            default:
                a.Mutate(c => c.Brightness(1.15f).Crop(new Rectangle(0, 30, 512, 440)));
                return a;
        }
    }

    public static Image<Rgb24> OnCanvas(Image<Rgb24> photo, int width, int height, int x, int y, Rgb24 background)
    {
        var canvas = new Image<Rgb24>(width, height, background);
        canvas.Mutate(c => c.DrawImage(photo, new Point(x, y), 1f));
        photo.Dispose();
        return canvas;
    }

    public static Image<Rgb24> Blurred()
    {
        var a = TestFiles.Astronaut();
        a.Mutate(c => c.Crop(new Rectangle(60, 0, 400, 420)).GaussianBlur(5));
        return a;
    }

    public static Image<Rgb24> TinyFace()
    {
        var a = TestFiles.Astronaut();
        a.Mutate(c => c.Resize(200, 200));
        return OnCanvas(a, 1400, 1400, 600, 500, new Rgb24(120, 120, 120));
    }

    public static Image<Rgb24> TwoFaces()
    {
        var left = TestFiles.Astronaut();
        var right = TestFiles.Astronaut();
        right.Mutate(c => c.Flip(FlipMode.Horizontal));
        var canvas = new Image<Rgb24>(1024, 512);
        canvas.Mutate(c => c.DrawImage(left, new Point(0, 0), 1f).DrawImage(right, new Point(512, 0), 1f));
        left.Dispose();
        right.Dispose();
        return canvas;
    }

    public static Image<Rgb24> NoFace() => Image.Load<Rgb24>(TestFiles.Fixture("coffee.png"));

    /// <summary>Someone else (for the stand-in embedder, which sees colours): the astronaut with red and blue swapped and inverted brightness in the face.</summary>
    public static Image<Rgb24> OtherPerson()
    {
        var a = TestFiles.Astronaut();
        a.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                foreach (ref var p in rows.GetRowSpan(y))
                {
                    p = new Rgb24(p.B, (byte)(255 - p.G), p.R);
                }
            }
        });
        a.Mutate(c => c.Crop(new Rectangle(30, 20, 460, 460)));
        return a;
    }

    /// <summary>
    /// A JPEG whose pixels are stored rotated 90° clockwise with EXIF Orientation 8 (rotate 270° CW to view), as a phone
    /// held sideways writes it; viewers (and FaceImages.Load) show it upright.
    /// </summary>
    public static byte[] ExifRotatedJpeg(Image<Rgb24> upright)
    {
        using var stored = upright.Clone(c => c.Rotate(RotateMode.Rotate90));
        stored.Metadata.ExifProfile = new ExifProfile();
        stored.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)8);
        using var stream = new MemoryStream();
        stored.SaveAsJpeg(stream, new JpegEncoder { Quality = 95 });
        return stream.ToArray();
    }

    public static void SavePng(Image<Rgb24> image, string path)
    {
        using (image)
        {
            image.SaveAsPng(path);
        }
    }

    public static void SaveJpeg(Image<Rgb24> image, string path)
    {
        using (image)
        {
            image.SaveAsJpeg(path, new JpegEncoder { Quality = 92 });
        }
    }

    /// <summary>A folder of photos: six good ones plus the given extras.</summary>
    public static string Folder(int good = 6, bool extras = true)
    {
        var folder = TestFiles.NewFolder("photos");
        for (var i = 0; i < good; i++)
        {
            SaveJpeg(Good(i), Path.Combine(folder, $"good{i + 1:00}.jpg"));
        }

        if (extras)
        {
            SavePng(Blurred(), Path.Combine(folder, "blurred.png"));
            SavePng(TinyFace(), Path.Combine(folder, "tiny-face.png"));
            SavePng(TwoFaces(), Path.Combine(folder, "two-faces.png"));
            SavePng(NoFace(), Path.Combine(folder, "no-face.png"));
            File.Copy(Path.Combine(folder, "good01.jpg"), Path.Combine(folder, "good01copy.jpg"));
            using var sideways = Good(2);
            sideways.Mutate(c => c.Rotate(RotateMode.Rotate90));
            sideways.SaveAsPng(Path.Combine(folder, "sideways-no-exif.png"));
            using var rotatedSource = OnCanvas(TestFiles.Astronaut(), 640, 760, 60, 200, new Rgb24(200, 190, 170));
            File.WriteAllBytes(Path.Combine(folder, "rotated-exif.jpg"), ExifRotatedJpeg(rotatedSource));
        }

        return folder;
    }

    /// <summary>Sharpness of the largest face, for calibration checks.</summary>
    public static double Sharpness(Image<Rgb24> image)
    {
        var face = TestFiles.Detector.Detect(image).MaxBy(f => f.Size)!;
        return PhotoMetrics.FaceSharpness(image, face);
    }

    public static EncodedImage Png(Image<Rgb24> image) => EncodedImage.FromPng(image);
}
