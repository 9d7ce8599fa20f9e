using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using Miaoya.Likeness;

namespace Miaoya.Tuning;

/// <summary>
/// Scores a sweep's cells against the person: the face scorer and detector are loaded, and the person's reference (the
/// centroid of their photos' embeddings and the leave-one-out baseline, identity-units.md §6.4) built, once per sweep.
/// Scoring is serialised, so cells finishing at once on several boxes may share it. Dispose after the sweep.
/// </summary>
public sealed class SweepLikeness : IDisposable
{
    private readonly FaceScorer _scorer;
    private readonly BlazeFaceDetector _detector;
    private readonly LikenessReference _reference;
    private readonly int? _faceIndex;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SweepLikeness(FaceScorer scorer, BlazeFaceDetector detector, LikenessReference reference, int? faceIndex)
    {
        _scorer = scorer;
        _detector = detector;
        _reference = reference;
        _faceIndex = faceIndex;
    }

    /// <summary>The person's baseline (how alike their own photos are); null with one photo.</summary>
    public double? Baseline => _reference.Baseline;

    /// <summary>Number of the person's photos.</summary>
    public int Photos => _reference.Photos;

    /// <summary>
    /// Loads the scorer (<see cref="FaceScorer.Load"/>, with its exceptions) and builds the person's reference from
    /// <paramref name="faces"/>, each of which must show exactly one face.
    /// </summary>
    /// <param name="faces">The person's photos; errors name them as given.</param>
    /// <param name="modelPath">The scorer's model file.</param>
    /// <param name="kind">Which scorer the file is.</param>
    /// <param name="device">Where the scorer runs.</param>
    /// <param name="faceIndex">Which face of each cell's image to score (0 or null = the largest).</param>
    /// <param name="log">Licence notices and CUDA fallbacks.</param>
    /// <param name="cancellationToken">Stops the loading.</param>
    /// <exception cref="LikenessInputException">A photo with no face or several; the message names it.</exception>
    /// <exception cref="InvalidImageDataException">A photo that cannot be decoded.</exception>
    /// <exception cref="IOException">A photo that cannot be read.</exception>
    public static async Task<SweepLikeness> CreateAsync(
        IReadOnlyList<string> faces, string modelPath, ScorerKind kind, ExecutionDevice device, int? faceIndex, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(faces);
        var photos = new List<PersonPhoto>();
        FaceScorer? scorer = null;
        BlazeFaceDetector? detector = null;
        try
        {
            foreach (var face in faces)
            {
                photos.Add(new PersonPhoto(face, await FaceImages.LoadAsync(await EncodedImage.ReadFileAsync(face, cancellationToken), cancellationToken)));
            }

            scorer = FaceScorer.Load(modelPath, kind, device, log);
            detector = BlazeFaceDetector.CreateDefault();
            var reference = LikenessReference.Build(scorer, detector, photos, cancellationToken);
            var likeness = new SweepLikeness(scorer, detector, reference, faceIndex);
            scorer = null;
            detector = null;
            return likeness;
        }
        finally
        {
            scorer?.Dispose();
            detector?.Dispose();
            foreach (var photo in photos)
            {
                photo.Image.Dispose();
            }
        }
    }

    /// <summary>Scores <paramref name="image"/> (a cell's final image) against the person.</summary>
    /// <exception cref="InvalidImageDataException">The image cannot be decoded.</exception>
    public async Task<CellLikeness> ScoreAsync(string image, CancellationToken cancellationToken = default)
    {
        using var pixels = await FaceImages.LoadAsync(await EncodedImage.ReadFileAsync(image, cancellationToken), cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var score = _reference.Score(_scorer, _detector, pixels, _faceIndex, cancellationToken);
            return new CellLikeness(Round(score.Similarity), Round(score.Ratio), Round(score.Baseline), score.FacesFound);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _scorer.Dispose();
        _detector.Dispose();
        _gate.Dispose();
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 4) : null;
}
