using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Faces;

/// <summary>
/// MediaPipe BlazeFace on ONNX Runtime (CPU). The short-range model (128×128) runs on the whole image letterboxed to a
/// square; when it finds nothing, the full-range model (256×256) runs (faces too small for the short-range model).
/// One <c>InferenceSession</c> per model, created once; <see cref="Detect"/> may be called from several threads.
/// </summary>
public sealed class BlazeFaceDetector : IFaceDetector, IDisposable
{
    [ThreadStatic]
    private static float[]?[]? t_inputs;

    private readonly BlazeFaceModel _shortRange;
    private readonly BlazeFaceModel _fullRange;

    internal BlazeFaceDetector(BlazeFaceModel shortRange, BlazeFaceModel fullRange, BlazeFaceOptions options)
    {
        options.Validate();
        _shortRange = shortRange;
        _fullRange = fullRange;
        Options = options;
    }

    /// <summary>The settings in use.</summary>
    public BlazeFaceOptions Options { get; }

    /// <summary>A detector over the two embedded models, on the CPU. Checks each model's sha256 and signature.</summary>
    public static BlazeFaceDetector CreateDefault(BlazeFaceOptions? options = null)
    {
        options ??= new BlazeFaceOptions();
        options.Validate();
        var shortRange = BlazeFaceModel.LoadEmbedded(BlazeFaceModelSpec.Front, options.IntraOpThreads);
        BlazeFaceModel? fullRange = null;
        try
        {
            fullRange = BlazeFaceModel.LoadEmbedded(BlazeFaceModelSpec.Back, options.IntraOpThreads);
            return new BlazeFaceDetector(shortRange, fullRange, options);
        }
        catch
        {
            fullRange?.Dispose();
            shortRange.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<DetectedFace> Detect(Image<Rgb24> image, CancellationToken cancellationToken = default) =>
        DetectCore(image, cancellationToken).Faces;

    /// <summary>As <see cref="Detect"/>, also telling which model found the faces (null when none).</summary>
    internal (IReadOnlyList<DetectedFace> Faces, BlazeFaceRange? FoundBy) DetectCore(Image<Rgb24> image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var faces = DetectWith(_shortRange, image, Options.MinScore, cancellationToken);
        if (faces.Count > 0)
        {
            if (!Options.UseFullRangeFallback)
            {
                return (faces, BlazeFaceRange.Short);
            }

            // A group photo can hold faces too small for the short-range model beside one it finds: one whole-image
            // pass of the full-range model adds those that do not overlap a face already found.
            cancellationToken.ThrowIfCancellationRequested();
            var small = DetectRegions(_fullRange, image, [new Rectangle(0, 0, image.Width, image.Height)], Options.FullRangeMinScore, cancellationToken);
            var added = small.Where(f => !faces.Any(known => Overlaps(known.Box, f.Box))).ToList();
            return added.Count == 0 ? (faces, BlazeFaceRange.Short) : (faces.Concat(added).OrderByDescending(f => f.Score).ToArray(), BlazeFaceRange.Short);
        }

        if (!Options.UseFullRangeFallback)
        {
            return (faces, null);
        }

        // Cancellation is checked between the model runs (and bridged into the run by BlazeFaceModel.Run).
        cancellationToken.ThrowIfCancellationRequested();
        faces = DetectWith(_fullRange, image, Options.FullRangeMinScore, cancellationToken);
        return (faces, faces.Count > 0 ? BlazeFaceRange.Full : null);
    }

    /// <summary>
    /// One model: the whole image, and for the full-range model also overlapping tiles when the whole image finds nothing
    /// (see <see cref="Tiles"/>). Detections are merged by weighted NMS in source pixels, filtered, sorted by score.
    /// </summary>
    internal IReadOnlyList<DetectedFace> DetectWith(BlazeFaceModel model, Image<Rgb24> image, float minScore, CancellationToken cancellationToken)
    {
        var whole = new Rectangle(0, 0, image.Width, image.Height);
        var faces = DetectRegions(model, image, [whole], minScore, cancellationToken);
        if (faces.Count == 0 && model.Range == BlazeFaceRange.Full && Options.UseFullRangeTiles)
        {
            var tiles = Tiles(image.Width, image.Height, 3 * model.InputSize / 2);
            if (tiles.Count > 1)
            {
                faces = DetectRegions(model, image, tiles, minScore, cancellationToken);
            }
        }

        return faces;
    }

    /// <summary>
    /// This thread's input tensor for <paramref name="model"/>, reused across calls: a new one per call (786 KB for the
    /// full-range model) landed on the large object heap and cost about one full garbage collection per detection in bench
    /// <c>likeness</c>. Every call overwrites all of it (<see cref="Letterbox.Fill"/>), and Run is done with it on return.
    /// </summary>
    private static float[] InputBuffer(BlazeFaceModel model)
    {
        var buffers = t_inputs ??= new float[2][];
        var slot = (int)model.Range;
        var length = model.InputSize * model.InputSize * 3;
        if (buffers[slot] is not { } buffer || buffer.Length != length)
        {
            buffers[slot] = buffer = new float[length];
        }

        return buffer;
    }

    private static bool Overlaps(RectangleF a, RectangleF b)
    {
        var intersection = RectangleF.Intersect(a, b);
        return !intersection.IsEmpty && intersection.Width * intersection.Height > 0.2f * Math.Min(a.Width * a.Height, b.Width * b.Height);
    }

    private List<DetectedFace> DetectRegions(
        BlazeFaceModel model, Image<Rgb24> image, IReadOnlyList<Rectangle> regions, float minScore, CancellationToken cancellationToken)
    {
        var input = InputBuffer(model);
        var inPixels = new List<NormalizedDetection>();
        var raw = new List<NormalizedDetection>();
        foreach (var region in regions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var letterbox = Letterbox.Fit(region, model.InputSize);
            letterbox.Fill(image, input);
            raw.Clear();
            model.Run(input, minScore, raw, cancellationToken);
            foreach (var d in raw)
            {
                inPixels.Add(letterbox.ToSource(d));
            }
        }

        // Weighted NMS is scale-free, so it can run in source pixels (merges tiles' duplicates too).
        var merged = BlazeFaceDecoder.WeightedNms(inPixels, Options.NmsIouThreshold);
        var longSide = Math.Max(image.Width, image.Height);
        var faces = new List<DetectedFace>(merged.Count);
        foreach (var d in merged)
        {
            if (Options.RequirePlausibleLandmarks && !BlazeFaceDecoder.HasPlausibleLandmarks(d))
            {
                continue;
            }

            // The full-range model only fills in for faces too small for the short-range model; a large "face" that the
            // short-range model rejected is a false positive (the cat in scikit-image's chelsea.png; see
            // DetectorTests).
            if (model.Range == BlazeFaceRange.Full
                && MathF.Max(d.XMax - d.XMin, d.YMax - d.YMin) > Options.FullRangeMaxFaceFraction * longSide)
            {
                continue;
            }

            faces.Add(Letterbox.ToFace(d));
        }

        faces.Sort((a, b) => b.Score.CompareTo(a.Score));
        return faces;
    }

    /// <summary>
    /// Overlapping square tiles of side <c>max(minTile, ⌈long side / 3⌉)</c> at (at most) half-tile steps, so that every
    /// face smaller than half a tile lies whole inside one tile; at most 5×5 tiles. One tile when the image is no larger.
    /// </summary>
    internal static List<Rectangle> Tiles(int width, int height, int minTile)
    {
        var side = Math.Max(minTile, (Math.Max(width, height) + 2) / 3);
        var xs = Positions(width, side);
        var ys = Positions(height, side);
        var tiles = new List<Rectangle>(xs.Count * ys.Count);
        foreach (var y in ys)
        {
            foreach (var x in xs)
            {
                tiles.Add(new Rectangle(x, y, Math.Min(side, width - x), Math.Min(side, height - y)));
            }
        }

        return tiles;

        static List<int> Positions(int length, int side)
        {
            if (length <= side)
            {
                return [0];
            }

            var count = (int)Math.Ceiling((length - side) / (side / 2.0)) + 1;
            var positions = new List<int>(count);
            for (var i = 0; i < count; i++)
            {
                positions.Add((int)Math.Round((double)(length - side) * i / (count - 1)));
            }

            return positions;
        }
    }

    /// <summary>Disposes both sessions.</summary>
    public void Dispose()
    {
        _shortRange.Dispose();
        _fullRange.Dispose();
    }
}

/// <summary>
/// Keep-aspect resize of a source region into a square with centred black padding, as MediaPipe's
/// ImageToTensorCalculator does with keep_aspect_ratio and BORDER_ZERO, values v = p/127.5 − 1
/// (output_tensor_float_range −1..1; google/mediapipe 9d880778
/// mediapipe/modules/face_detection/face_detection.pbtxt:41-56).
/// </summary>
internal readonly record struct Letterbox(Rectangle Region, int Size, float Scale, int PadX, int PadY, int ContentWidth, int ContentHeight)
{
    public static Letterbox Fit(Rectangle region, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(region.Width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(region.Height);
        var scale = (float)size / Math.Max(region.Width, region.Height);
        var w = Math.Clamp((int)MathF.Round(region.Width * scale), 1, size);
        var h = Math.Clamp((int)MathF.Round(region.Height * scale), 1, size);
        return new Letterbox(region, size, scale, (size - w) / 2, (size - h) / 2, w, h);
    }

    /// <summary>
    /// Shrinking by more than this goes through ImageSharp's resize, whose vectorised, parallel passes beat the direct
    /// resampler's once the triangle spans many source pixels (a full 1024×1536 template into 171×256: bench
    /// <c>likeness</c>, "the detector's local work on the full-size image").
    /// </summary>
    internal const float DirectMaxRatio = 4f;

    /// <summary>
    /// Writes the letterboxed NHWC RGB tensor in [−1, 1]; padding is black (−1). The region is resampled with a triangle
    /// filter: straight into the tensor (<see cref="TriangleResampler"/>) when it shrinks by at most
    /// <see cref="DirectMaxRatio"/>, otherwise through a resized copy.
    /// </summary>
    public void Fill(Image<Rgb24> image, float[] tensor)
    {
        Array.Fill(tensor, -1f);
        if (1f / Scale <= DirectMaxRatio)
        {
            TriangleResampler.Fill(image, Region, ContentWidth, ContentHeight, tensor, Size, PadX, PadY, 1f / 127.5f, -1f);
            return;
        }

        var region = Region;
        var (w, h) = (ContentWidth, ContentHeight);
        var whole = region == new Rectangle(0, 0, image.Width, image.Height);
        using var resized = image.Clone(c => (whole ? c : c.Crop(region)).Resize(w, h, KnownResamplers.Triangle));
        TriangleResampler.Fill(resized, new Rectangle(0, 0, w, h), w, h, tensor, Size, PadX, PadY, 1f / 127.5f, -1f);
    }

    private float X(float nx) => (((nx * Size) - PadX) / Scale) + Region.X;

    private float Y(float ny) => (((ny * Size) - PadY) / Scale) + Region.Y;

    /// <summary>
    /// Undoes the letterbox (MediaPipe's DetectionProjectionCalculator, face_detection.pbtxt:160): the same detection
    /// in source-image pixels.
    /// </summary>
    public NormalizedDetection ToSource(in NormalizedDetection d)
    {
        var kp = new float[d.Keypoints.Length];
        for (var k = 0; k < kp.Length; k += 2)
        {
            kp[k] = X(d.Keypoints[k]);
            kp[k + 1] = Y(d.Keypoints[k + 1]);
        }

        return new NormalizedDetection(X(d.XMin), Y(d.YMin), X(d.XMax), Y(d.YMax), d.Score, kp);
    }

    /// <summary>A detection already in source pixels as a <see cref="DetectedFace"/>.</summary>
    public static DetectedFace ToFace(in NormalizedDetection d)
    {
        var landmarks = new PointF[BlazeFaceDecoder.KeypointCount];
        for (var k = 0; k < landmarks.Length; k++)
        {
            landmarks[k] = new PointF(d.Keypoints[2 * k], d.Keypoints[(2 * k) + 1]);
        }

        return new DetectedFace(new RectangleF(d.XMin, d.YMin, d.XMax - d.XMin, d.YMax - d.YMin), landmarks, d.Score);
    }
}

