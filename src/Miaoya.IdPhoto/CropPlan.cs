using System.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.IdPhoto;

/// <summary>
/// How a photo becomes the spec's frame: rotate by −roll about the eyes (eyes level), scale so crown–chin is the
/// chosen fraction of the height, and place the eye midpoint on the vertical centre line with the crown at the chosen
/// top margin. <see cref="Scale"/> is output pixels per source pixel.
/// </summary>
internal sealed record CropPlan(int Width, int Height, Vector2 SourceEyes, Vector2 OutputEyes, float Scale, double RollDegrees, double HeadFraction, double TopFraction)
{
    /// <summary>The fraction of the height at which the eye line lands.</summary>
    public double EyeFraction => TopFraction + (HeadGeometry.EyeFraction * HeadFraction);

    /// <summary>
    /// The plan for <paramref name="head"/> in a <paramref name="width"/> × <paramref name="height"/> frame: head height at
    /// the middle of the spec's range; the top margin at the middle of its range, moved within that range as far as
    /// needed to put the eye line inside the spec's band.
    /// </summary>
    public static CropPlan For(HeadGeometry head, IdSpec spec, int width, int height, bool levelEyes = true)
    {
        var headFraction = spec.HeadHeight.Mid;
        var top = spec.TopMargin.Mid;
        var eye = top + (HeadGeometry.EyeFraction * headFraction);
        if (!spec.EyeLine.Contains(eye))
        {
            var wanted = Math.Clamp(eye, spec.EyeLine.Min, spec.EyeLine.Max);
            top = Math.Clamp(top + (wanted - eye), spec.TopMargin.Min, spec.TopMargin.Max);
        }

        var scale = (float)(headFraction * height / head.HeadHeight);
        var eyesY = (float)((top + (HeadGeometry.EyeFraction * headFraction)) * height);
        return new CropPlan(width, height, head.Eyes, new Vector2(width / 2f, eyesY), scale, levelEyes ? head.RollDegrees : 0, headFraction, top);
    }

    /// <summary>The source point that lands on output point <paramref name="output"/>.</summary>
    public Vector2 ToSource(Vector2 output)
    {
        var q = (output - OutputEyes) / Scale;
        var r = RollDegrees * Math.PI / 180;
        var (sin, cos) = ((float)Math.Sin(r), (float)Math.Cos(r));
        return SourceEyes + new Vector2((q.X * cos) - (q.Y * sin), (q.X * sin) + (q.Y * cos));
    }

    /// <summary>
    /// Renders the frame (bilinear; a photo shrunk more than 2× is first resized with ImageSharp's bicubic so it does not
    /// alias). Pixels that fall outside the photo repeat its nearest edge; <paramref name="outside"/> is their share.
    /// </summary>
    public Image<Rgb24> Render(Image<Rgb24> source, out double outside)
    {
        ArgumentNullException.ThrowIfNull(source);
        var plan = this;
        Image<Rgb24>? resized = null;
        if (Scale < 0.5f)
        {
            var f = Scale * 2;
            var w = Math.Max(1, (int)Math.Round(source.Width * f));
            var h = Math.Max(1, (int)Math.Round(source.Height * f));
            resized = source.Clone(c => c.Resize(w, h, KnownResamplers.Bicubic));
            var fx = (float)w / source.Width;
            plan = this with { SourceEyes = SourceEyes * new Vector2(fx, (float)h / source.Height), Scale = Scale / fx };
        }

        try
        {
            return plan.Sample(resized ?? source, out outside);
        }
        finally
        {
            resized?.Dispose();
        }
    }

    private Image<Rgb24> Sample(Image<Rgb24> source, out double outside)
    {
        var sw = source.Width;
        var sh = source.Height;
        var pixels = new Rgb24[sw * sh];
        source.CopyPixelDataTo(pixels);
        var result = new Rgb24[Width * Height];
        var outsideCount = 0;
        for (var y = 0; y < Height; y++)
        {
            var row = result.AsSpan(y * Width, Width);
            for (var x = 0; x < Width; x++)
            {
                var p = ToSource(new Vector2(x + 0.5f, y + 0.5f)) - new Vector2(0.5f, 0.5f);
                if (p.X < -0.5f || p.Y < -0.5f || p.X > sw - 0.5f || p.Y > sh - 0.5f)
                {
                    outsideCount++;
                }

                var px = Math.Clamp(p.X, 0, sw - 1);
                var py = Math.Clamp(p.Y, 0, sh - 1);
                var x0 = (int)px;
                var y0 = (int)py;
                var x1 = Math.Min(x0 + 1, sw - 1);
                var y1 = Math.Min(y0 + 1, sh - 1);
                var fx = px - x0;
                var fy = py - y0;
                var a = pixels[(y0 * sw) + x0];
                var b = pixels[(y0 * sw) + x1];
                var c = pixels[(y1 * sw) + x0];
                var d = pixels[(y1 * sw) + x1];
                row[x] = new Rgb24(Mix(a.R, b.R, c.R, d.R, fx, fy), Mix(a.G, b.G, c.G, d.G, fx, fy), Mix(a.B, b.B, c.B, d.B, fx, fy));
            }
        }

        outside = (double)outsideCount / (Width * Height);
        return Image.LoadPixelData<Rgb24>(result, Width, Height);
    }

    private static byte Mix(byte a, byte b, byte c, byte d, float fx, float fy)
    {
        var top = a + ((b - a) * fx);
        var bottom = c + ((d - c) * fx);
        return (byte)Math.Clamp((int)MathF.Round(top + ((bottom - top) * fy)), 0, 255);
    }
}
