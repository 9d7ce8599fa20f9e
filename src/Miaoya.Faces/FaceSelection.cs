using System.Globalization;

namespace Miaoya.Faces;

/// <summary>Picks the face to work on from a detector's result.</summary>
public static class FaceSelection
{
    /// <summary>
    /// The largest face when <paramref name="index"/> is null; otherwise the face at <paramref name="index"/> with the
    /// faces ordered by <see cref="DetectedFace.Size"/>, largest first (0 = largest; equal sizes: higher score first).
    /// Throws <see cref="FaceSelectionException"/> naming <paramref name="imageName"/> when there is no face or the index
    /// is out of range.
    /// </summary>
    public static DetectedFace Select(IReadOnlyList<DetectedFace> faces, int? index, string imageName)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(imageName);
        if (faces.Count == 0)
        {
            throw new FaceSelectionException(
                $"{imageName}: no face found (tried the short- and full-range detectors). " +
                "Use a photo with one clearly visible frontal face, or give a mask file with --mask.");
        }

        var ordered = OrderBySize(faces);
        var i = index ?? 0;
        if (i < 0 || i >= ordered.Count)
        {
            var found = ordered.Count == 1 ? "1 face was found" : string.Create(CultureInfo.InvariantCulture, $"{ordered.Count} faces were found");
            throw new FaceSelectionException(
                string.Create(CultureInfo.InvariantCulture, $"{imageName}: --face-index {i} asked for, but {found} (0 = largest)."));
        }

        return ordered[i];
    }

    /// <summary>The faces, largest first (ties: higher score first).</summary>
    public static IReadOnlyList<DetectedFace> OrderBySize(IReadOnlyList<DetectedFace> faces)
    {
        ArgumentNullException.ThrowIfNull(faces);
        return [.. faces.OrderByDescending(f => f.Size).ThenByDescending(f => f.Score)];
    }
}

/// <summary>No face, or not the asked-for face, in an image. The message is meant for the user.</summary>
public sealed class FaceSelectionException : Exception
{
    public FaceSelectionException()
    {
    }

    public FaceSelectionException(string message)
        : base(message)
    {
    }

    public FaceSelectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
