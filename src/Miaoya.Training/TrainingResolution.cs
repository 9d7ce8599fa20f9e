using System.Globalization;

namespace Miaoya.Training;

/// <summary>A training resolution WIDTH×HEIGHT; both multiples of 64 between 256 and 2048 (SD's latent grid is 8 px, kohya's buckets step 64).</summary>
public readonly record struct TrainingResolution(int Width, int Height)
{
    public static TrainingResolution Square512 => new(512, 512);

    public static bool TryParse(string? text, out TrainingResolution resolution, out string? error)
    {
        resolution = default;
        error = null;
        var parts = (text ?? "").Trim().ToUpperInvariant().Split('X', ',');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h))
        {
            error = $"'{text}' is not WIDTHxHEIGHT (e.g. 512x512 or 512x768)";
            return false;
        }

        if (w % 64 != 0 || h % 64 != 0 || w is < 256 or > 2048 || h is < 256 or > 2048)
        {
            error = $"'{text}': width and height must be multiples of 64 between 256 and 2048";
            return false;
        }

        resolution = new TrainingResolution(w, h);
        return true;
    }

    public static TrainingResolution Parse(string text) =>
        TryParse(text, out var r, out var error) ? r : throw new FormatException(error);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Width}x{Height}");
}
