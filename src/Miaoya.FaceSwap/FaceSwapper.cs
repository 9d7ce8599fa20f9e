using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using Miaoya.Faces;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.FaceSwap;

/// <summary>The model files; <see cref="Detector"/> null means BlazeFace (coarser alignment).</summary>
public sealed record FaceSwapModelPaths(string ArcFace, string Inswapper, string? Detector = null);

/// <summary>Which faces to use. Indices order faces largest first (0 = largest), as <see cref="FaceSelection"/> does.</summary>
public sealed record FaceSwapRequest
{
    /// <summary>Source face index; null = the largest.</summary>
    public int? SourceFaceIndex { get; init; }

    /// <summary>Target face indices; null or empty = the largest only.</summary>
    public IReadOnlyList<int>? TargetFaceIndices { get; init; }

    /// <summary>Keep the intermediates (<see cref="FaceSwapResult.Dump"/>).</summary>
    public bool Dump { get; init; }
}

/// <summary>
/// The V3 face swap: detect (SCRFD, or BlazeFace when no det model is given), pick faces, embed the source (ArcFace),
/// swap each chosen target face (inswapper) and paste it back, sequentially on the running result with detections
/// from the original target (as deepinsight/insightface v0.7 examples/in_swapper/inswapper_main.py:25-27 does).
/// Sessions are created once; <see cref="Swap"/> is thread-safe.
/// </summary>
public sealed class FaceSwapper : IDisposable
{
    private static int s_noticeShown;

    private readonly ScrfdDetector? _scrfd;
    private readonly BlazeFaceDetector? _blazeFace;
    private readonly ArcFaceEmbedder _arcFace;
    private readonly InswapperModel _inswapper;

    private FaceSwapper(ScrfdDetector? scrfd, BlazeFaceDetector? blazeFace, ArcFaceEmbedder arcFace, InswapperModel inswapper)
    {
        _scrfd = scrfd;
        _blazeFace = blazeFace;
        _arcFace = arcFace;
        _inswapper = inswapper;
    }

    /// <summary>"scrfd" or "blazeface".</summary>
    public string DetectorName => _scrfd is null ? "blazeface" : "scrfd";

    /// <summary>
    /// Loads the models on <paramref name="device"/> (CPU fallback with one log line each when CUDA cannot load).
    /// Logs the insightface licence notice once per process.
    /// </summary>
    public static FaceSwapper Create(FaceSwapModelPaths models, ExecutionDevice device, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (Interlocked.Exchange(ref s_noticeShown, 1) == 0)
        {
            log?.Invoke(ModelRegistry.LicenceNotice);
        }

        ScrfdDetector? scrfd = null;
        BlazeFaceDetector? blazeFace = null;
        ArcFaceEmbedder? arcFace = null;
        try
        {
            if (models.Detector is not null)
            {
                scrfd = ScrfdDetector.Load(models.Detector, device, log);
            }
            else
            {
                log?.Invoke("detecting with the built-in BlazeFace, not det_10g.onnx: its mouth corners are estimated, so the alignment is coarser than with insightface's SCRFD.");
                blazeFace = BlazeFaceDetector.CreateDefault();
            }

            arcFace = ArcFaceEmbedder.Load(models.ArcFace, device, log);
            var inswapper = InswapperModel.Load(models.Inswapper, device, log);
            return new FaceSwapper(scrfd, blazeFace, arcFace, inswapper);
        }
        catch
        {
            scrfd?.Dispose();
            blazeFace?.Dispose();
            arcFace?.Dispose();
            throw;
        }
    }

    /// <summary>Faces in <paramref name="image"/>, largest first (ties: higher score first).</summary>
    public IReadOnlyList<SwapFace> Detect(Image<Rgb24> image, CancellationToken cancellationToken = default)
    {
        IEnumerable<SwapFace> faces = _scrfd is not null
            ? _scrfd.Detect(image, cancellationToken)
            : _blazeFace!.Detect(image, cancellationToken).Select(f => new SwapFace(f.Box, Face5.FromBlazeFace(f), f.Score));
        return [.. faces.OrderByDescending(f => f.Size).ThenByDescending(f => f.Score)];
    }

    /// <summary>
    /// Swaps the source's face into the target. Throws <see cref="FaceSelectionException"/> when a face is missing or an
    /// index is out of range. The caller disposes the result.
    /// </summary>
    public FaceSwapResult Swap(Image<Rgb24> source, Image<Rgb24> target, FaceSwapRequest? request = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        request ??= new FaceSwapRequest();
        var timings = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        double Lap()
        {
            var ms = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            return ms;
        }

        var sourceFaces = Detect(source, cancellationToken);
        timings["detect_source_ms"] = Lap();
        var targetFaces = Detect(target, cancellationToken);
        timings["detect_target_ms"] = Lap();
        var sourceIndex = request.SourceFaceIndex ?? 0;
        var sourceFace = Pick(sourceFaces, sourceIndex, "source");
        IReadOnlyList<int> targetIndices = request.TargetFaceIndices is { Count: > 0 } t ? t : [0];
        foreach (var i in targetIndices)
        {
            _ = Pick(targetFaces, i, "target");
        }

        var m112 = FaceAlignment.EstimateNorm(sourceFace.Points, FaceAlignment.ArcFaceSize);
        using var crop112 = FaceAlignment.Warp(source, m112, FaceAlignment.ArcFaceSize);
        var rawEmbedding = _arcFace.EmbedAligned(crop112, cancellationToken);
        var latent = _inswapper.ComputeLatent(rawEmbedding);
        timings["embed_ms"] = Lap();

        // CA2000 does not see ownership moving into the dump records / the result (they dispose what they hold); every
        // path below either hands an image over or disposes it.
#pragma warning disable CA2000
        var result = target.Clone();
        var dumps = new List<TargetFaceDump>();
        FaceSwapDump? dump = null;
        try
        {
            foreach (var i in targetIndices)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var m128 = FaceAlignment.EstimateNorm(targetFaces[i].Points, FaceAlignment.InswapperSize);
                Image<Rgb24>? crop128 = null;
                Image<Rgb24>? fake = null;
                try
                {
                    crop128 = FaceAlignment.Warp(target, m128, FaceAlignment.InswapperSize);
                    timings["warp128_ms"] = timings.GetValueOrDefault("warp128_ms") + Lap();
                    var raw = _inswapper.Run(crop128, latent, cancellationToken);
                    timings["swap_ms"] = timings.GetValueOrDefault("swap_ms") + Lap();
                    fake = InswapperModel.ToImage(raw);
                    var region = PasteBack.Apply(result, fake, m128);
                    timings["paste_ms"] = timings.GetValueOrDefault("paste_ms") + Lap();
                    if (request.Dump)
                    {
                        var mask = PasteBack.RenderMask(m128);
                        dumps.Add(new TargetFaceDump(i, m128, region, crop128, raw, fake, mask));
                        crop128 = null;
                        fake = null;
                    }
                }
                finally
                {
                    crop128?.Dispose();
                    fake?.Dispose();
                }
            }

            if (request.Dump)
            {
                dump = new FaceSwapDump(DetectorName, sourceFaces, targetFaces, sourceIndex, m112, crop112.Clone(), ArcFaceEmbedder.Normalize(rawEmbedding), latent, dumps);
            }

            var swapped = new FaceSwapResult(result, sourceFaces, targetFaces, sourceFace, targetIndices, timings, dump);
            dump = null;
            return swapped;
        }
        catch
        {
            result.Dispose();
            foreach (var d in dumps)
            {
                d.Dispose();
            }

            throw;
        }
        finally
        {
            dump?.Dispose();
        }
#pragma warning restore CA2000
    }

    private static SwapFace Pick(IReadOnlyList<SwapFace> faces, int index, string which)
    {
        if (faces.Count == 0)
        {
            throw new FaceSelectionException($"{which} image: no face found.");
        }

        if (index < 0 || index >= faces.Count)
        {
            throw new FaceSelectionException($"{which} image: face index {index} asked for, but {faces.Count} face(s) were found (0 = largest).");
        }

        return faces[index];
    }

    /// <summary>Disposes every session.</summary>
    public void Dispose()
    {
        _scrfd?.Dispose();
        _blazeFace?.Dispose();
        _arcFace.Dispose();
        _inswapper.Dispose();
    }
}

/// <summary>The swapped image, the detections, per-stage timings (ms) and, when asked for, the intermediates.</summary>
public sealed class FaceSwapResult(
    Image<Rgb24> image,
    IReadOnlyList<SwapFace> sourceFaces,
    IReadOnlyList<SwapFace> targetFaces,
    SwapFace sourceFace,
    IReadOnlyList<int> swappedTargetIndices,
    IReadOnlyDictionary<string, double> timings,
    FaceSwapDump? dump) : IDisposable
{
    public Image<Rgb24> Image { get; } = image;

    public IReadOnlyList<SwapFace> SourceFaces { get; } = sourceFaces;

    public IReadOnlyList<SwapFace> TargetFaces { get; } = targetFaces;

    public SwapFace SourceFace { get; } = sourceFace;

    public IReadOnlyList<int> SwappedTargetIndices { get; } = swappedTargetIndices;

    public IReadOnlyDictionary<string, double> TimingsMs { get; } = timings;

    public FaceSwapDump? Dump { get; } = dump;

    public void Dispose()
    {
        Image.Dispose();
        Dump?.Dispose();
    }
}

/// <summary>One swapped target face's intermediates.</summary>
public sealed record TargetFaceDump(
    int Index, Matrix3x2 ImageToCrop, Rectangle PasteRegion, Image<Rgb24> Crop128, float[] RawOutput, Image<Rgb24> Output128, Image<L8> Mask128) : IDisposable
{
    public void Dispose()
    {
        Crop128.Dispose();
        Output128.Dispose();
        Mask128.Dispose();
    }
}

/// <summary>Intermediates for <c>--dump</c>.</summary>
public sealed record FaceSwapDump(
    string Detector,
    IReadOnlyList<SwapFace> SourceFaces,
    IReadOnlyList<SwapFace> TargetFaces,
    int SourceFaceIndex,
    Matrix3x2 SourceImageToCrop,
    Image<Rgb24> SourceCrop112,
    float[] Embedding,
    float[] Latent,
    IReadOnlyList<TargetFaceDump> Targets) : IDisposable
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Detections, chosen indices and matrices as JSON.</summary>
    public string DetectionsJson()
    {
        static object Face(SwapFace f) => new
        {
            box = new[] { f.Box.X, f.Box.Y, f.Box.Width, f.Box.Height },
            kps = f.Points.ToArray().Select(p => new[] { p.X, p.Y }).ToArray(),
            score = f.Score,
        };
        static float[] M(Matrix3x2 m) => [m.M11, m.M21, m.M31, m.M12, m.M22, m.M32];
        return JsonSerializer.Serialize(
            new
            {
                detector = Detector,
                source_faces = SourceFaces.Select(Face).ToArray(),
                target_faces = TargetFaces.Select(Face).ToArray(),
                source_face_index = SourceFaceIndex,
                source_m112 = M(SourceImageToCrop),
                targets = Targets.Select(t => new { index = t.Index, m128 = M(t.ImageToCrop), paste_region = new[] { t.PasteRegion.X, t.PasteRegion.Y, t.PasteRegion.Width, t.PasteRegion.Height } }).ToArray(),
            },
            Indented);
    }

    /// <summary>Writes detections.json, source_112.png, embedding.json, latent.json and per target face crop/output/mask PNGs.</summary>
    public async Task WriteToAsync(string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "detections.json"), DetectionsJson(), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, "embedding.json"), JsonSerializer.Serialize(Embedding), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, "latent.json"), JsonSerializer.Serialize(Latent), cancellationToken).ConfigureAwait(false);
        await SourceCrop112.SaveAsPngAsync(Path.Combine(directory, "source_112.png"), cancellationToken).ConfigureAwait(false);
        foreach (var t in Targets)
        {
            await t.Crop128.SaveAsPngAsync(Path.Combine(directory, $"target{t.Index}_128.png"), cancellationToken).ConfigureAwait(false);
            await t.Output128.SaveAsPngAsync(Path.Combine(directory, $"target{t.Index}_swapped_128.png"), cancellationToken).ConfigureAwait(false);
            await t.Mask128.SaveAsPngAsync(Path.Combine(directory, $"target{t.Index}_mask_128.png"), cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(directory, $"target{t.Index}_raw_output.json"), JsonSerializer.Serialize(t.RawOutput), cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        SourceCrop112.Dispose();
        foreach (var t in Targets)
        {
            t.Dispose();
        }
    }
}
