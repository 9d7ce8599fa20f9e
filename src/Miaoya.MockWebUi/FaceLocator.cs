using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi;

/// <summary>Deterministic "face detector": skin-coloured pixels (RGB + YCbCr rules) → largest blob → bounding box.</summary>
internal static class FaceLocator
{
    private const int Grid = 96;

    /// <summary>Face box in the pixel coordinates of <paramref name="image"/>; image centre box when no skin blob is found.</summary>
    public static RectangleF Locate(Image<Rgba32> image) =>
        Search(image) is { } found ? found.Box : new RectangleF(image.Width * 0.35f, image.Height * 0.25f, image.Width * 0.3f, image.Height * 0.35f);

    /// <summary>
    /// The mock's stand-in for insightface finding a face: a skin blob as <see cref="Locate"/> finds. With
    /// <paramref name="wholeFaceOnly"/> the blob must also not run into all four edges: a piece cut out of a face photo (what
    /// ControlNet's "only masked" crop makes of a separate reference, controlnet.py:749-800) is skin edge to edge, which a real
    /// detector does not take for a face.
    /// </summary>
    public static bool HasFace(Image<Rgba32> image, bool wholeFaceOnly = false) =>
        Search(image) is { } found && !(wholeFaceOnly && found.FillsFrame);

    private static (RectangleF Box, bool FillsFrame)? Search(Image<Rgba32> image)
    {
        var scale = Math.Min(1.0, (double)Grid / Math.Max(image.Width, image.Height));
        var w = Math.Max(1, (int)Math.Round(image.Width * scale));
        var h = Math.Max(1, (int)Math.Round(image.Height * scale));
        using var small = image.Clone(c => c.Resize(w, h));
        var skin = new bool[w * h];
        small.ProcessPixelRows(acc =>
        {
            for (var y = 0; y < h; y++)
            {
                var row = acc.GetRowSpan(y);
                for (var x = 0; x < w; x++)
                {
                    skin[(y * w) + x] = IsSkin(row[x]);
                }
            }
        });

        var label = new int[w * h];
        var bestCount = 0;
        (int X0, int Y0, int X1, int Y1) best = default;
        var stack = new Stack<int>();
        var next = 0;
        for (var i = 0; i < skin.Length; i++)
        {
            if (!skin[i] || label[i] != 0)
            {
                continue;
            }

            next++;
            var count = 0;
            (int X0, int Y0, int X1, int Y1) box = (int.MaxValue, int.MaxValue, -1, -1);
            stack.Push(i);
            label[i] = next;
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                int px = p % w, py = p / w;
                count++;
                box = (Math.Min(box.X0, px), Math.Min(box.Y0, py), Math.Max(box.X1, px), Math.Max(box.Y1, py));
                Visit(px - 1, py);
                Visit(px + 1, py);
                Visit(px, py - 1);
                Visit(px, py + 1);
            }

            if (count > bestCount)
            {
                bestCount = count;
                best = box;
            }

            void Visit(int x, int y)
            {
                if (x < 0 || y < 0 || x >= w || y >= h)
                {
                    return;
                }

                var q = (y * w) + x;
                if (skin[q] && label[q] == 0)
                {
                    label[q] = next;
                    stack.Push(q);
                }
            }
        }

        if (bestCount < Math.Max(4, w * h / 400))
        {
            return null;
        }

        var inv = 1 / scale;
        var fills = best.X0 <= 1 && best.Y0 <= 1 && best.X1 >= w - 2 && best.Y1 >= h - 2;
        return (new RectangleF((float)(best.X0 * inv), (float)(best.Y0 * inv), (float)((best.X1 - best.X0 + 1) * inv), (float)((best.Y1 - best.Y0 + 1) * inv)), fills);
    }

    private static bool IsSkin(Rgba32 p)
    {
        int r = p.R, g = p.G, b = p.B;
        if (p.A < 128 || r < 95 || g < 40 || b < 20 || r <= g || r <= b || r - g < 15 || Math.Max(r, Math.Max(g, b)) - Math.Min(r, Math.Min(g, b)) < 15)
        {
            return false;
        }

        var yy = (0.299 * r) + (0.587 * g) + (0.114 * b);
        var cb = 128 - (0.168736 * r) - (0.331264 * g) + (0.5 * b);
        var cr = 128 + (0.5 * r) - (0.418688 * g) - (0.081312 * b);
        return yy > 110 && cb is >= 77 and <= 127 && cr is >= 137 and <= 173;
    }

    /// <summary>68 face landmarks (iBUG order) + 2 pupils laid on a template inside <paramref name="box"/>.</summary>
    public static List<PointF> FaceLandmarks(RectangleF box)
    {
        // Keep to the inner part of the skin box (the blob may include a little hair/neck).
        float cx = box.X + (box.Width / 2), cy = box.Y + (box.Height * 0.55f);
        float rx = box.Width * 0.42f, ry = box.Height * 0.40f;
        var pts = new List<PointF>(70);
        PointF P(float u, float v) => new(cx + (u * rx), cy + (v * ry)); // u,v in -1..1

        for (var i = 0; i < 17; i++)
        {
            var a = Math.PI * (1 - (i / 16.0)); // jaw: left ear → chin → right ear
            pts.Add(P((float)-Math.Cos(a) * 0.95f, (float)(Math.Sin(a) * 0.95) * 0.9f - 0.05f));
        }

        for (var i = 0; i < 5; i++)
        {
            pts.Add(P(-0.75f + (i * 0.13f), -0.45f - (i is 2 ? 0.05f : 0)));
        }

        for (var i = 0; i < 5; i++)
        {
            pts.Add(P(0.23f + (i * 0.13f), -0.45f - (i is 2 ? 0.05f : 0)));
        }

        for (var i = 0; i < 4; i++)
        {
            pts.Add(P(0, -0.3f + (i * 0.12f)));
        }

        for (var i = 0; i < 5; i++)
        {
            pts.Add(P(-0.2f + (i * 0.1f), 0.2f));
        }

        foreach (var ex in new[] { -0.4f, 0.4f })
        {
            pts.Add(P(ex - 0.18f, -0.25f));
            pts.Add(P(ex - 0.07f, -0.3f));
            pts.Add(P(ex + 0.05f, -0.3f));
            pts.Add(P(ex + 0.16f, -0.25f));
            pts.Add(P(ex + 0.05f, -0.2f));
            pts.Add(P(ex - 0.07f, -0.2f));
        }

        for (var i = 0; i < 12; i++)
        {
            var a = 2 * Math.PI * i / 12;
            pts.Add(P((float)(-Math.Cos(a) * 0.35), 0.45f + (float)(Math.Sin(a) * 0.12)));
        }

        for (var i = 0; i < 8; i++)
        {
            var a = 2 * Math.PI * i / 8;
            pts.Add(P((float)(-Math.Cos(a) * 0.22), 0.45f + (float)(Math.Sin(a) * 0.05)));
        }

        pts.Add(P(-0.4f, -0.25f));
        pts.Add(P(0.4f, -0.25f));
        return pts;
    }
}
