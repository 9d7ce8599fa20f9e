using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.FaceSwap.Tests;

/// <summary>The stand-in models (StandInModels/README.md), shared: sessions are created once and Run is thread-safe.</summary>
internal static class StandIns
{
    private static readonly Lazy<ScrfdDetector> SharedScrfd = new(() => ScrfdDetector.Load(Det, ExecutionDevice.Cpu));
    private static readonly Lazy<FaceSwapper> SharedSwapper = new(() => FaceSwapper.Create(new FaceSwapModelPaths(ArcFace, Inswapper, Det), ExecutionDevice.Cpu));

    public static string Det => PathOf("det_10g.onnx");

    public static string ArcFace => PathOf("w600k_r50.onnx");

    public static string Inswapper => PathOf("inswapper_128.onnx");

    public static ScrfdDetector Scrfd => SharedScrfd.Value;

    public static FaceSwapper Swapper => SharedSwapper.Value;

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "StandInModels", name);

    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
}

/// <summary>Synthetic scenes: the det stand-in treats a bright square on black as a face (make_stand_in_models.py).</summary>
internal static class Scenes
{
    /// <summary>A black image with white squares given as (left, top, side).</summary>
    public static Image<Rgb24> Squares(int width, int height, params (int Left, int Top, int Side)[] squares)
    {
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            foreach (var (left, top, side) in squares)
            {
                for (var y = Math.Max(0, top); y < Math.Min(height, top + side); y++)
                {
                    rows.GetRowSpan(y).Slice(Math.Max(0, left), Math.Min(width, left + side) - Math.Max(0, left)).Fill(new Rgb24(255, 255, 255));
                }
            }
        });
        return image;
    }

    /// <summary>A smooth colour gradient (for warp and paste-back tests).</summary>
    public static Image<Rgb24> Gradient(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < width; x++)
                {
                    row[x] = new Rgb24((byte)(x % 256), (byte)(y % 256), (byte)((x + y) / 4 % 256));
                }
            }
        });
        return image;
    }

    public static Rgb24[] Pixels(Image<Rgb24> image)
    {
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }

    public static EncodedImage Png(Image<Rgb24> image) => EncodedImage.FromPng(image);
}
