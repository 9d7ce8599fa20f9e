namespace Miaoya.Faces;

/// <summary>Settings of <see cref="BlazeFaceDetector"/>.</summary>
public sealed record BlazeFaceOptions
{
    /// <summary>
    /// Minimum score for the short-range (front, 128) model. MediaPipe uses 0.5 (google/mediapipe 9d880778
    /// mediapipe/modules/face_detection/face_detection_short_range.pbtxt:53); the default is higher because the model
    /// scores non-faces 0.50–0.62 on small faces pasted into a large canvas (a real frontal face that the model handles
    /// scores above 0.9: 0.92 on scikit-image's astronaut.png, measured by this repository's tests).
    /// </summary>
    public float MinScore { get; init; } = 0.65f;

    /// <summary>
    /// Minimum score for the full-range (back, 256) model. MediaPipe uses 0.65 (google/mediapipe 350fbb21
    /// mediapipe/graphs/face_detection/face_detection_back_desktop_live.pbtxt:120); the default is higher because the
    /// model scores the coffee cup 0.67 and the cat 0.79–0.83 (scikit-image's coffee.png and chelsea.png, measured by
    /// this repository's tests). The cat is rejected by
    /// <see cref="FullRangeMaxFaceFraction"/>, not by this threshold.
    /// </summary>
    public float FullRangeMinScore { get; init; } = 0.75f;

    /// <summary>
    /// IoU above which detections are merged by weighted NMS (MediaPipe 0.3, google/mediapipe 9d880778
    /// mediapipe/modules/face_detection/face_detection.pbtxt:150).
    /// </summary>
    public float NmsIouThreshold { get; init; } = 0.3f;

    /// <summary>
    /// Reject detections whose landmarks are not laid out like a human face (eyes above the mouth, nose between,
    /// plausible eye distance for the box). Guards against the back model's false positives on animals.
    /// </summary>
    public bool RequirePlausibleLandmarks { get; init; } = true;

    /// <summary>
    /// Also run the full-range model for small faces: on the whole image beside the short-range faces (adding those that do
    /// not overlap), and with tiles when the short-range model finds nothing.
    /// </summary>
    public bool UseFullRangeFallback { get; init; } = true;

    /// <summary>
    /// When the full-range model finds nothing on the whole image, also run it on overlapping tiles (a third of the long
    /// side, at least 384 px = 1.5× the model input, at most 5×5 tiles), for faces of a few percent of the image width.
    /// </summary>
    public bool UseFullRangeTiles { get; init; } = true;

    /// <summary>
    /// Full-range detections larger than this fraction of the image's long side are dropped: faces that large are the
    /// short-range model's domain, so when it found nothing they are false positives (the cat in chelsea.png).
    /// </summary>
    public float FullRangeMaxFaceFraction { get; init; } = 0.2f;

    /// <summary>ONNX Runtime intra-op threads per session; 0 = ORT's default (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    internal void Validate()
    {
        if (MinScore is not (>= 0 and <= 1) || FullRangeMinScore is not (>= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MinScore), "scores must lie in [0, 1].");
        }

        if (NmsIouThreshold is not (> 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(NmsIouThreshold), NmsIouThreshold, "IoU threshold must lie in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads);
    }
}
