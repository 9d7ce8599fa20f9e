using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi;

/// <summary>Fast deterministic image synthesis (row spans only, no per-pixel indexers on whole images).</summary>
internal static class Painter
{
    public static ulong Hash(string text, ulong seed = 14695981039346656037UL)
    {
        var h = seed;
        foreach (var ch in text)
        {
            h ^= ch;
            h *= 1099511628211UL;
        }

        return h;
    }

    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        var h = 14695981039346656037UL;
        foreach (var b in data)
        {
            h ^= b;
            h *= 1099511628211UL;
        }

        return h;
    }

    /// <summary>txt2img: diagonal gradient between two colours from (seed, prompt) plus stripes.</summary>
    public static Image<Rgba32> Generate(long seed, string prompt, int width, int height)
    {
        var h = Hash(prompt, (ulong)seed * 0x9E3779B97F4A7C15UL);
        var c1 = new Rgba32((byte)h, (byte)(h >> 8), (byte)(h >> 16));
        var c2 = new Rgba32((byte)(h >> 24), (byte)(h >> 32), (byte)(h >> 40));
        var period = 16 + (int)((h >> 48) % 48);
        var image = new Image<Rgba32>(width, height);
        var denom = Math.Max(1, width + height - 2);
        image.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    var t = (x + y) * 255 / denom;
                    var stripe = ((x + (2 * y)) / period & 1) == 0 ? 0 : 24;
                    row[x] = new Rgba32(
                        (byte)Math.Min(255, ((c1.R * (255 - t)) + (c2.R * t)) / 255 + stripe),
                        (byte)Math.Min(255, ((c1.G * (255 - t)) + (c2.G * t)) / 255 + stripe),
                        (byte)Math.Min(255, ((c1.B * (255 - t)) + (c2.B * t)) / 255 + stripe),
                        255);
                }
            }
        });
        return image;
    }

    /// <summary>A1111 resize_mode (ui.py:618): 0 just resize, 1 crop and resize, 2 resize and fill, 3 just resize.</summary>
    public static Image<Rgba32> Resize(Image<Rgba32> source, int width, int height, long resizeMode)
    {
        var mode = resizeMode switch
        {
            1 => ResizeMode.Crop,
            2 => ResizeMode.Pad,
            _ => ResizeMode.Stretch,
        };
        return source.Clone(c => c.Resize(new ResizeOptions { Size = new Size(width, height), Mode = mode, Sampler = KnownResamplers.Triangle }));
    }

    /// <summary>Binary mask at width×height: RGBA with non-opaque alpha → alpha, else luma; &gt;128 = repaint (A1111 processing.py:90-98).</summary>
    public static bool[] BuildMask(Image<Rgba32> mask, int width, int height, long resizeMode, bool invert)
    {
        var useAlpha = false;
        mask.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height && !useAlpha; y++)
            {
                foreach (var p in acc.GetRowSpan(y))
                {
                    if (p.A != 255)
                    {
                        useAlpha = true;
                        break;
                    }
                }
            }
        });
        using var sized = Resize(mask, width, height, resizeMode);
        var result = new bool[width * height];
        sized.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    var p = row[x];
                    var v = useAlpha ? p.A : ((p.R * 299) + (p.G * 587) + (p.B * 114)) / 1000;
                    result[(y * width) + x] = (v > 128) ^ invert; // inpainting_mask_invert (ui.py:699)
                }
            }
        });
        return result;
    }

    /// <summary>img2img "generation": invert and tint (by seed) the masked pixels (all when mask is null); the rest is untouched.</summary>
    public static void Repaint(Image<Rgba32> image, bool[]? mask, long seed, double denoise)
    {
        var h = Hash("tint", (ulong)seed);
        int tr = (byte)h, tg = (byte)(h >> 8), tb = (byte)(h >> 16);
        var w = image.Width;
        var amount = (int)Math.Clamp(Math.Round(denoise * 256), 64, 256);
        image.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    if (mask is not null && !mask[(y * w) + x])
                    {
                        continue;
                    }

                    ref var p = ref row[x];
                    var r = ((255 - p.R) * 3 / 4) + (tr / 4);
                    var g = ((255 - p.G) * 3 / 4) + (tg / 4);
                    var b = ((255 - p.B) * 3 / 4) + (tb / 4);
                    p = new Rgba32(
                        (byte)(((p.R * (256 - amount)) + (r * amount)) >> 8),
                        (byte)(((p.G * (256 - amount)) + (g * amount)) >> 8),
                        (byte)(((p.B * (256 - amount)) + (b * amount)) >> 8),
                        255);
                }
            }
        });
    }

    /// <summary>A cheap "detected map": grey luma (inverted for depth, gradient magnitude for edges).</summary>
    public static Image<Rgba32> DetectedMap(Image<Rgba32> input, string tag, int width, int height)
    {
        var map = input.Clone(c => c.Resize(width, height));
        var edges = tag is "SoftEdge" or "Canny";
        var invert = tag == "Depth";
        map.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                var prev = 0;
                for (var x = 0; x < row.Length; x++)
                {
                    var p = row[x];
                    var l = ((p.R * 299) + (p.G * 587) + (p.B * 114)) / 1000;
                    var v = edges ? Math.Min(255, Math.Abs(l - prev) * 4) : invert ? 255 - l : l;
                    prev = l;
                    row[x] = new Rgba32((byte)v, (byte)v, (byte)v, 255);
                }
            }
        });
        return map;
    }

    /// <summary>
    /// rembg's answer: a person-shaped matte found from the face (<see cref="FaceLocator"/>): a head ellipse on the skin
    /// box joined to shoulders that widen from the neck to the bottom edge, with a soft
    /// 3-pixel edge as a matting model gives around hair. <paramref name="onlyMask"/>: the matte as a grey image
    /// (return_mask); otherwise the input with the matte as its alpha.
    /// </summary>
    public static Image<Rgba32> RemoveBackground(Image<Rgba32> input, bool onlyMask)
    {
        var output = input.Clone();
        var face = FaceLocator.Locate(input);
        double cx = face.X + (face.Width / 2.0), rx = face.Width * 0.5, ry = face.Height * 0.52;
        double cy = face.Y + (face.Height * 0.5), neck = face.Y + (face.Height * 0.85);
        const double Soft = 3;
        output.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < acc.Height; y++)
            {
                var row = acc.GetRowSpan(y);
                var dy = (y - cy) / ry;
                var shoulder = y < neck ? double.NegativeInfinity : (face.Width * 0.4) + ((y - neck) * 1.2);
                for (var x = 0; x < row.Length; x++)
                {
                    var dx = (x - cx) / rx;
                    var head = ((1 - Math.Sqrt((dx * dx) + (dy * dy))) * Math.Min(rx, ry) / Soft) + 0.5;
                    var body = ((shoulder - Math.Abs(x - cx)) / Soft) + 0.5;
                    var a = (byte)Math.Round(Math.Clamp(Math.Max(head, body), 0, 1) * 255);
                    if (onlyMask)
                    {
                        row[x] = new Rgba32(a, a, a, 255);
                    }
                    else
                    {
                        row[x].A = a;
                    }
                }
            }
        });
        return output;
    }

    /// <summary>Fills every pixel within <paramref name="radius"/> of the segment <paramref name="a"/>–<paramref name="b"/> (a disc when they meet).</summary>
    public static void Disc(Image<Rgba32> image, PointF a, PointF b, float radius, Rgba32 colour)
    {
        int x0 = Math.Max(0, (int)(Math.Min(a.X, b.X) - radius)), x1 = Math.Min(image.Width - 1, (int)(Math.Max(a.X, b.X) + radius));
        int y0 = Math.Max(0, (int)(Math.Min(a.Y, b.Y) - radius)), y1 = Math.Min(image.Height - 1, (int)(Math.Max(a.Y, b.Y) + radius));
        float dx = b.X - a.X, dy = b.Y - a.Y, len2 = Math.Max(1e-6f, (dx * dx) + (dy * dy));
        image.ProcessPixelRows(acc =>
        {
            for (var y = y0; y <= y1; y++)
            {
                var row = acc.GetRowSpan(y);
                for (var x = x0; x <= x1; x++)
                {
                    var t = Math.Clamp((((x - a.X) * dx) + ((y - a.Y) * dy)) / len2, 0, 1);
                    float ex = x - (a.X + (t * dx)), ey = y - (a.Y + (t * dy));
                    if ((ex * ex) + (ey * ey) <= radius * radius)
                    {
                        row[x] = colour;
                    }
                }
            }
        });
    }

    /// <summary>Draws small squares at the given pixel points on a black canvas (openpose map).</summary>
    public static Image<Rgba32> PoseMap(int width, int height, IEnumerable<(PointF Point, Rgba32 Colour)> points)
    {
        var image = new Image<Rgba32>(width, height, new Rgba32(0, 0, 0, 255));
        foreach (var (pt, colour) in points)
        {
            for (var dy = -2; dy <= 2; dy++)
            {
                for (var dx = -2; dx <= 2; dx++)
                {
                    int x = (int)pt.X + dx, y = (int)pt.Y + dy;
                    if (x >= 0 && y >= 0 && x < width && y < height)
                    {
                        image[x, y] = colour;
                    }
                }
            }
        }

        return image;
    }
}
