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

    /// <summary>
    /// The faces left to right by the left edge of their box (ties: higher first), the order insightface-based tools
    /// count faces in when they pick one by index (ReActor's reactor_swapper.py get_face_single:
    /// <c>sorted(face, key=lambda x: x.bbox[0])[face_index]</c>). Several-person runs and <c>idphoto --face-index</c> count this way.
    /// </summary>
    public static IReadOnlyList<DetectedFace> OrderLeftToRight(IReadOnlyList<DetectedFace> faces)
    {
        ArgumentNullException.ThrowIfNull(faces);
        return [.. faces.OrderBy(f => f.Box.X).ThenBy(f => f.Box.Y).ThenByDescending(f => f.Score)];
    }

    /// <summary>
    /// The face at <paramref name="index"/> counted left to right (<see cref="OrderLeftToRight"/>). Throws
    /// <see cref="FaceSelectionException"/> naming <paramref name="imageName"/>, how many faces were found and where each
    /// is when there is no face or the index is out of range; <paramref name="option"/> names what asked for the index.
    /// </summary>
    public static DetectedFace SelectLeftToRight(IReadOnlyList<DetectedFace> faces, int index, string imageName, string option)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(imageName);
        if (faces.Count == 0)
        {
            throw new FaceSelectionException($"{imageName}: no face found (tried the short- and full-range detectors); {option} needs a photo where each face is clearly visible and frontal.");
        }

        var ordered = OrderLeftToRight(faces);
        if (index < 0 || index >= ordered.Count)
        {
            throw new FaceSelectionException(string.Create(
                CultureInfo.InvariantCulture, $"{imageName}: {option} {index} asked for, but {Found(ordered.Count)}, counted from 0 left to right: {Describe(ordered)}."));
        }

        return ordered[index];
    }

    /// <summary>"0 at x 120, y 80 (64×70); 1 at …": where each face is, in the order given, for messages.</summary>
    public static string Describe(IReadOnlyList<DetectedFace> ordered)
    {
        ArgumentNullException.ThrowIfNull(ordered);
        return string.Join("; ", ordered.Select((f, i) => string.Create(
            CultureInfo.InvariantCulture, $"{i} at x {f.Box.X:0}, y {f.Box.Y:0} ({f.Box.Width:0}×{f.Box.Height:0})")));
    }

    private static string Found(int count) => count == 1 ? "1 face was found" : string.Create(CultureInfo.InvariantCulture, $"{count} faces were found");

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
