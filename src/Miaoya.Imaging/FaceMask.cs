using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Imaging;

/// <summary>Inpaint masks: white where the WebUI repaints, black where it keeps the template.</summary>
public static class FaceMask
{
    /// <summary>
    /// An ellipse around a face box, grown by <paramref name="grow"/> of the face size on each side, with a linear
    /// feather of <paramref name="featherPixels"/> at its edge. Returns a greyscale PNG of the given size.
    /// </summary>
    public static EncodedImage Ellipse(int width, int height, RectangleF face, float grow = 0.2f, int featherPixels = 8)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegative(grow);
        ArgumentOutOfRangeException.ThrowIfNegative(featherPixels);
        if (face.Width <= 0 || face.Height <= 0)
        {
            throw new ArgumentException($"face box {face} is empty.", nameof(face));
        }

        var cx = face.X + (face.Width / 2);
        var cy = face.Y + (face.Height / 2);
        var rx = face.Width * (0.5f + grow);
        var ry = face.Height * (0.5f + grow);
        using var mask = new Image<L8>(width, height);
        mask.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                var dy = (y + 0.5f - cy) / ry;
                for (var x = 0; x < row.Length; x++)
                {
                    var dx = (x + 0.5f - cx) / rx;
                    var distance = MathF.Sqrt((dx * dx) + (dy * dy));

                    // Distance beyond the rim, in pixels along the nearer radius.
                    var outside = (distance - 1f) * MathF.Min(rx, ry);
                    var value = featherPixels == 0
                        ? (outside <= 0 ? 1f : 0f)
                        : Math.Clamp(0.5f - (outside / featherPixels), 0f, 1f);
                    row[x] = new L8((byte)MathF.Round(value * 255));
                }
            }
        });
        return EncodedImage.FromPng(mask);
    }
}
