using Miaoya.Faces;
using Miaoya.FaceSwap;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Likeness.Tests;

/// <summary>Fixtures, the shared detector and scorers, and the image variants the tests build from the astronaut.</summary>
internal static class TestSupport
{
    private static readonly Lazy<BlazeFaceDetector> SharedDetector = new(() => BlazeFaceDetector.CreateDefault());
    private static readonly Lazy<FaceScorer> SharedSFace = new(() => FaceScorer.Load(ModelPath("face_recognition_sface_2021dec.onnx"), ScorerKind.SFace, ExecutionDevice.Cpu));

    public static BlazeFaceDetector Detector => SharedDetector.Value;

    /// <summary>The SFace stand-in (StandInModels/README.md), loaded once.</summary>
    public static FaceScorer SFace => SharedSFace.Value;

    public static string ModelPath(string name) => Path.Combine(AppContext.BaseDirectory, "StandInModels", name);

    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static Image<Rgb24> Load(string name) => Image.Load<Rgb24>(FixturePath(name));

    public static Image<Rgb24> Astronaut() => Load("astronaut.png");

    /// <summary>The astronaut moved by (<paramref name="dx"/>, <paramref name="dy"/>) on a canvas of the same size, grey where uncovered.</summary>
    public static Image<Rgb24> Shifted(int dx, int dy)
    {
        using var astronaut = Astronaut();
        var canvas = new Image<Rgb24>(astronaut.Width, astronaut.Height, new Rgb24(128, 128, 128));
        canvas.Mutate(c => c.DrawImage(astronaut, new Point(dx, dy), 1f));
        return canvas;
    }

    /// <summary>The astronaut with <paramref name="amount"/> brightness (1 = unchanged).</summary>
    public static Image<Rgb24> Brightness(float amount)
    {
        var image = Astronaut();
        image.Mutate(c => c.Brightness(amount));
        return image;
    }

    public static Image<Rgb24> Mirrored()
    {
        var image = Astronaut();
        image.Mutate(c => c.Flip(FlipMode.Horizontal));
        return image;
    }

    /// <summary>A square crop of the astronaut around the face (box centre about (227, 130), 94 px wide).</summary>
    public static Image<Rgb24> FaceCrop(int side = 260)
    {
        var image = Astronaut();
        var x = Math.Clamp(227 - (side / 2), 0, image.Width - side);
        var y = Math.Clamp(140 - (side / 2), 0, image.Height - side);
        image.Mutate(c => c.Crop(new Rectangle(x, y, side, side)));
        return image;
    }

    /// <summary>The face crop pasted onto another photo (<paramref name="background"/>, scaled to 768 wide) at (x, y).</summary>
    public static Image<Rgb24> PastedOnto(string background, int x, int y, int side = 260)
    {
        using var face = FaceCrop(side);
        var canvas = Load(background);
        canvas.Mutate(c => c.Resize(768, 768 * canvas.Height / canvas.Width).DrawImage(face, new Point(x, y), 1f));
        return canvas;
    }

    /// <summary>Two faces side by side: the astronaut (left, scaled by <paramref name="leftScale"/>) and its mirror (right).</summary>
    public static Image<Rgb24> TwoFaces(float leftScale = 1f)
    {
        using var left = FaceCrop();
        using var right = FaceCrop();
        right.Mutate(c => c.Flip(FlipMode.Horizontal));
        if (leftScale != 1f)
        {
            left.Mutate(c => c.Resize((int)(left.Width * leftScale), (int)(left.Height * leftScale)));
        }

        var canvas = new Image<Rgb24>(left.Width + right.Width + 40, Math.Max(left.Height, right.Height), new Rgb24(128, 128, 128));
        canvas.Mutate(c => c.DrawImage(left, new Point(0, 0), 1f).DrawImage(right, new Point(left.Width + 40, 0), 1f));
        return canvas;
    }

    /// <summary>
    /// The astronaut with her face heavily altered: the region between the brows and the chin vertically flipped in place
    /// (eyes where the mouth was), so the detector may still see a face but not the same one.
    /// </summary>
    public static Image<Rgb24> Altered()
    {
        var image = Astronaut();
        using var region = image.Clone(c => c.Crop(new Rectangle(180, 85, 95, 100)).Flip(FlipMode.Vertical));
        image.Mutate(c => c.DrawImage(region, new Point(180, 85), 1f));
        return image;
    }

    /// <summary>The astronaut with red and blue swapped (a face of another colour).</summary>
    public static Image<Rgb24> ChannelsSwapped()
    {
        var image = Astronaut();
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                foreach (ref var p in rows.GetRowSpan(y))
                {
                    p = new Rgb24(p.B, p.G, p.R);
                }
            }
        });
        return image;
    }

    public static PersonPhoto Photo(string name, Image<Rgb24> image) => new(name, image);
}
