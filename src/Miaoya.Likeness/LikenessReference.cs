using System.Diagnostics;
using System.Globalization;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Likeness;

/// <summary>
/// The person's identity as one scorer sees it: the normalised mean (centroid) of the embeddings of their photos, and
/// how alike the photos are among themselves (the baseline), as identity-units.md §6.4 asks: (a) cosine to the centroid
/// (EasyPhoto), (b) the leave-one-out baseline (cubiq's FaceAnalysis), (c) their ratio. Immutable; thread-safe. Only
/// compare scores made with the scorer that built the reference.
/// </summary>
public sealed class LikenessReference
{
    private readonly float[] _centroid;
    private readonly ScorerKind _kind;

    private LikenessReference(float[] centroid, ScorerKind kind, IReadOnlyList<string> names, IReadOnlyList<double> leaveOneOut)
    {
        _centroid = centroid;
        _kind = kind;
        PhotoNames = names;
        LeaveOneOut = leaveOneOut;
        Baseline = leaveOneOut.Count > 0 ? leaveOneOut.Average() : null;
    }

    /// <summary>Number of photos.</summary>
    public int Photos => PhotoNames.Count;

    /// <summary>The photos' names, in the order given.</summary>
    public IReadOnlyList<string> PhotoNames { get; }

    /// <summary>The mean of <see cref="LeaveOneOut"/>: how alike the person's own photos are; null with one photo.</summary>
    public double? Baseline { get; }

    /// <summary>
    /// Per photo (in order), the cosine of its embedding to the centroid of the others; empty with one photo. With two
    /// photos both values are their mutual cosine.
    /// </summary>
    public IReadOnlyList<double> LeaveOneOut { get; }

    /// <summary>
    /// Detects exactly one face in each photo (else <see cref="LikenessInputException"/> naming the photo: "no face found"
    /// or "N faces found"), embeds it with <paramref name="scorer"/>, and builds the centroid and the leave-one-out
    /// baseline.
    /// </summary>
    public static LikenessReference Build(FaceScorer scorer, IFaceDetector detector, IReadOnlyList<PersonPhoto> photos, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(photos);
        if (photos.Count == 0)
        {
            throw new ArgumentException("at least one photo of the person is needed.", nameof(photos));
        }

        var embeddings = new List<float[]>(photos.Count);
        long ignored = 0;
        foreach (var photo in photos)
        {
            ArgumentNullException.ThrowIfNull(photo);
            ct.ThrowIfCancellationRequested();
            var faces = DetectionInput.Detect(detector, photo.Image, ct);
            if (faces.Count != 1)
            {
                throw new LikenessInputException(
                    photo.Name,
                    faces.Count == 0
                        ? "no face found. Use a photo with one clearly visible frontal face."
                        : string.Create(CultureInfo.InvariantCulture, $"{faces.Count} faces found. Use a photo of the person alone (crop the others out)."),
                    null);
            }

            embeddings.Add(scorer.Embed(photo.Image, Face5.FromBlazeFace(faces[0]), ref ignored, ct));
        }

        return FromEmbeddings(embeddings, scorer.Kind, [.. photos.Select(p => p.Name)]);
    }

    /// <summary>The reference of unit-length <paramref name="embeddings"/> (one per photo, in order).</summary>
    internal static LikenessReference FromEmbeddings(IReadOnlyList<float[]> embeddings, ScorerKind kind, IReadOnlyList<string> names)
    {
        var leaveOneOut = embeddings.Count < 2
            ? []
            : embeddings.Select((e, i) => Embeddings.Cosine(e, Embeddings.Centroid(embeddings, i))).ToArray();
        return new LikenessReference(Embeddings.Centroid(embeddings), kind, names, leaveOneOut);
    }

    /// <summary>
    /// Scores one image: detects its faces, takes face <paramref name="faceIndex"/> with the faces ordered by size (0 or
    /// null = the largest), aligns and embeds it, and returns its cosine to the centroid, the baseline and their ratio.
    /// With no face (or fewer faces than the index asks for) <see cref="LikenessScore.Similarity"/> is null and
    /// <see cref="LikenessScore.FacesFound"/> says how many there were.
    /// </summary>
    public LikenessScore Score(FaceScorer scorer, IFaceDetector detector, Image<Rgb24> image, int? faceIndex = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(image);
        if (faceIndex is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(faceIndex), faceIndex, "the face index counts from 0 (the largest face).");
        }

        if (scorer.Kind != _kind)
        {
            throw new ArgumentException($"this reference was built with {_kind}; scoring with {scorer.Kind} would compare unrelated embeddings.", nameof(scorer));
        }

        var start = Stopwatch.GetTimestamp();
        var detectorBefore = InferenceClock.Ticks;
        var faces = DetectionInput.Detect(detector, image, ct);
        var inference = InferenceClock.Ticks - detectorBefore;
        var index = faceIndex ?? 0;
        if (index >= faces.Count)
        {
            return Result(null, faces.Count, null, start, inference);
        }

        var face = FaceSelection.OrderBySize(faces)[index];
        var embedding = scorer.Embed(image, Face5.FromBlazeFace(face), ref inference, ct);
        return Result(Embeddings.Cosine(embedding, _centroid), faces.Count, face.Box, start, inference);
    }

    private LikenessScore Result(double? similarity, int facesFound, RectangleF? box, long start, long inferenceTicks)
    {
        var total = Stopwatch.GetTimestamp() - start;
        double? ratio = similarity is { } s && Baseline is double b && b > 0 ? s / b : null;
        return new LikenessScore(
            similarity, Baseline, ratio, facesFound, box,
            Stopwatch.GetElapsedTime(0, Math.Max(0, total - inferenceTicks)), Stopwatch.GetElapsedTime(0, inferenceTicks));
    }
}
