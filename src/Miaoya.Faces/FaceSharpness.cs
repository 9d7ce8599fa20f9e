using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Faces;

/// <summary>How sharp a face is: the variance of the Laplacian of its box in grey, at a fixed size.</summary>
public static class FaceSharpness
{
    /// <summary>Side of the square the face is resized to before measuring, so the measure does not depend on the photo's size.</summary>
    public const int Size = 128;

    /// <summary>
    /// Variance of the Laplacian (4-neighbour kernel) of <paramref name="box"/> in grey, resized to <see cref="Size"/>²: the
    /// usual blur measure (Pech-Pacheco et al. 2000); low means blurry, 0 for a box under 2 pixels.
    /// </summary>
    public static double Measure(Image<Rgb24> image, RectangleF box)
    {
        ArgumentNullException.ThrowIfNull(image);
        var area = Rectangle.Intersect(Rectangle.Round(box), new Rectangle(0, 0, image.Width, image.Height));
        if (area.Width < 2 || area.Height < 2)
        {
            return 0;
        }

        using var crop = image.Clone(c => c.Crop(area).Resize(Size, Size, KnownResamplers.Triangle));
        var grey = new float[Size * Size];
        crop.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    grey[(y * Size) + x] = (0.299f * row[x].R) + (0.587f * row[x].G) + (0.114f * row[x].B);
                }
            }
        });

        double sum = 0, sumSquares = 0;
        var count = 0;
        for (var y = 1; y < Size - 1; y++)
        {
            for (var x = 1; x < Size - 1; x++)
            {
                var i = (y * Size) + x;
                double lap = grey[i - 1] + grey[i + 1] + grey[i - Size] + grey[i + Size] - (4 * grey[i]);
                sum += lap;
                sumSquares += lap * lap;
                count++;
            }
        }

        var mean = sum / count;
        return (sumSquares / count) - (mean * mean);
    }
}
