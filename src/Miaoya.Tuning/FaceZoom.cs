using System.Globalization;
using System.Net;
using Miaoya.Pipeline;
using Miaoya.Recipes;

namespace Miaoya.Tuning;

/// <summary>
/// A zoom on the face of a run's final image for the contact sheet and the compare page, where a whole 512 px portrait
/// shrinks the face to a few pixels. The face is the one the run masked or swapped (its box on the template, from the
/// manifest); the zoom is a CSS window onto the same image file, so no image is written.
/// </summary>
internal static class FaceZoom
{
    /// <summary>How much of the image around the face the window shows, as a multiple of the face box's larger side.</summary>
    private const double Margin = 1.6;

    /// <summary>The window onto the face, as fractions of the image (left, top, width, height); null when the run recorded no face.</summary>
    public static (double Left, double Top, double Width, double Height)? Window(string runFolder, RunManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var face = manifest.Step(StepName.Mask)?.ResultAs<MaskResult>()?.Face ?? manifest.Step(StepName.FaceSwap)?.ResultAs<FaceSwapStepResult>()?.Face;
        var template = Path.Combine(runFolder, manifest.Inputs.Template.File);
        if (face is not { Box.Count: 4 } || !File.Exists(template))
        {
            return null;
        }

        int width, height;
        try
        {
            // The header alone: every cell of a sheet has its own copy of the template.
            var info = SixLabors.ImageSharp.Image.Identify(template);
            (width, height) = (info.Width, info.Height);
        }
        catch (SixLabors.ImageSharp.ImageFormatException)
        {
            return null;
        }

        // A square window (in pixels) centred on the face, kept inside the image.
        var side = Math.Min(Math.Min(width, height), Margin * Math.Max(face.Box[2], face.Box[3]));
        var left = Math.Clamp(face.Box[0] + (face.Box[2] / 2) - (side / 2), 0, width - side);
        var top = Math.Clamp(face.Box[1] + (face.Box[3] / 2) - (side / 2), 0, height - side);
        return (left / width, top / height, side / width, side / height);
    }

    /// <summary>
    /// A <paramref name="size"/> px square showing <paramref name="window"/> of the image at <paramref name="src"/>:
    /// the image as a background scaled so the window fills the square, positioned so the window's corner is the square's.
    /// </summary>
    public static string Html(string src, (double Left, double Top, double Width, double Height) window, string alt, int size = 128)
    {
        var i = CultureInfo.InvariantCulture;
        var x = window.Width >= 1 ? 0 : window.Left / (1 - window.Width) * 100;
        var y = window.Height >= 1 ? 0 : window.Top / (1 - window.Height) * 100;
        return string.Create(i, $"<div class=\"face-zoom\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(alt)}\" style=\"width:{size}px;height:{size}px;background-image:url('{WebUtility.HtmlEncode(src)}');background-size:{100 / window.Width:0.##}% {100 / window.Height:0.##}%;background-position:{x:0.##}% {y:0.##}%\"></div>");
    }
}
