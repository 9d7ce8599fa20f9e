using Miaoya.Faces;
using Miaoya.Imaging;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp;

namespace Miaoya.Pipeline;

/// <summary>What the optional colour correction of a swapped face did, for the manifest.</summary>
public sealed record ColourCorrection(Lab SwappedMean, Lab TemplateMean, Lab SwappedStd, Lab TemplateStd);

/// <summary>
/// Optional colour correction of a pasted face (V3): within the face ellipse, the swapped face's CIELAB mean and standard
/// deviation per channel are moved to the template face's (Reinhard-style statistics transfer), blended by the mask.
/// </summary>
public static class ColourTransfer
{
    public static ColourCorrection Apply(Image<Rgb24> swapped, Image<Rgb24> template, DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(swapped);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(face);
        using var mask = FaceMasks.Build(swapped.Width, swapped.Height, face, new FaceMaskOptions { Kind = FaceMaskKind.Face, Grow = 0f, FeatherFraction = 0.1f });
        var (swappedMean, swappedStd) = Statistics(swapped, mask);
        var (templateMean, templateStd) = Statistics(template, mask);
        swapped.ProcessPixelRows(mask, (pixels, weights) =>
        {
            for (var y = 0; y < pixels.Height; y++)
            {
                var row = pixels.GetRowSpan(y);
                var w = weights.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    if (w[x].PackedValue == 0)
                    {
                        continue;
                    }

                    var lab = Lab.FromRgb(row[x].R, row[x].G, row[x].B);
                    var moved = new Lab(
                        Move(lab.L, swappedMean.L, swappedStd.L, templateMean.L, templateStd.L),
                        Move(lab.A, swappedMean.A, swappedStd.A, templateMean.A, templateStd.A),
                        Move(lab.B, swappedMean.B, swappedStd.B, templateMean.B, templateStd.B));
                    var (r, g, b) = ToRgb(moved);
                    var alpha = w[x].PackedValue / 255.0;
                    row[x] = new Rgb24(Blend(row[x].R, r, alpha), Blend(row[x].G, g, alpha), Blend(row[x].B, b, alpha));
                }
            }
        });
        return new ColourCorrection(swappedMean, templateMean, swappedStd, templateStd);
    }

    private static double Move(double value, double fromMean, double fromStd, double toMean, double toStd) =>
        ((value - fromMean) * (fromStd > 1e-6 ? toStd / fromStd : 1)) + toMean;

    private static byte Blend(byte original, double corrected, double alpha) =>
        (byte)Math.Clamp(Math.Round((original * (1 - alpha)) + (corrected * alpha)), 0, 255);

    private static (Lab Mean, Lab Std) Statistics(Image<Rgb24> image, Image<L8> mask)
    {
        double n = 0, sl = 0, sa = 0, sb = 0, ql = 0, qa = 0, qb = 0;
        image.ProcessPixelRows(mask, (pixels, weights) =>
        {
            for (var y = 0; y < pixels.Height; y++)
            {
                var row = pixels.GetRowSpan(y);
                var w = weights.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    if (w[x].PackedValue < 128)
                    {
                        continue;
                    }

                    var lab = Lab.FromRgb(row[x].R, row[x].G, row[x].B);
                    n++;
                    sl += lab.L;
                    sa += lab.A;
                    sb += lab.B;
                    ql += lab.L * lab.L;
                    qa += lab.A * lab.A;
                    qb += lab.B * lab.B;
                }
            }
        });
        if (n == 0)
        {
            return (new Lab(0, 0, 0), new Lab(1, 1, 1));
        }

        var mean = new Lab(sl / n, sa / n, sb / n);
        var std = new Lab(
            Math.Sqrt(Math.Max(0, (ql / n) - (mean.L * mean.L))),
            Math.Sqrt(Math.Max(0, (qa / n) - (mean.A * mean.A))),
            Math.Sqrt(Math.Max(0, (qb / n) - (mean.B * mean.B))));
        return (mean, std);
    }

    /// <summary>CIELAB (D65) to sRGB, the inverse of <see cref="Lab.FromRgb"/>.</summary>
    internal static (double R, double G, double B) ToRgb(Lab lab)
    {
        const double Xn = 0.95047, Yn = 1.0, Zn = 1.08883;
        var fy = (lab.L + 16) / 116;
        var fx = fy + (lab.A / 500);
        var fz = fy - (lab.B / 200);
        static double Inverse(double t) => t > 6.0 / 29 ? t * t * t : 3 * (6.0 / 29) * (6.0 / 29) * (t - (4.0 / 29));
        var x = Xn * Inverse(fx);
        var y = Yn * Inverse(fy);
        var z = Zn * Inverse(fz);
        var r = (3.2404542 * x) - (1.5371385 * y) - (0.4985314 * z);
        var g = (-0.9692660 * x) + (1.8760108 * y) + (0.0415560 * z);
        var b = (0.0556434 * x) - (0.2040259 * y) + (1.0572252 * z);
        static double Gamma(double c) => 255 * (c <= 0.0031308 ? 12.92 * c : (1.055 * Math.Pow(c, 1 / 2.4)) - 0.055);
        return (Gamma(r), Gamma(g), Gamma(b));
    }
}
