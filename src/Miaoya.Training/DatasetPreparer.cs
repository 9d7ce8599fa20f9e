using System.Globalization;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using Miaoya.WebUi;
using Miaoya.WebUi.Tagger;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Training;

/// <summary>The verdict on one photo.</summary>
public enum PhotoStatus
{
    /// <summary>Used for training.</summary>
    Accepted,

    /// <summary>Good, kept out of training as a reference for ranking the LoRAs.</summary>
    HeldOut,

    /// <summary>Used for training, with a warning (an identity outlier kept by --keep-outliers).</summary>
    Flagged,

    /// <summary>Not used; <see cref="PhotoReport.Reasons"/> says why.</summary>
    Rejected,
}

/// <summary>QA result for one photo (report.json).</summary>
public sealed record PhotoReport
{
    public required string File { get; init; }

    public PhotoStatus Status { get; set; }

    public List<string> Reasons { get; init; } = [];

    public int Width { get; init; }

    public int Height { get; init; }

    public int Faces { get; init; }

    public double? FaceSize { get; init; }

    public double? Sharpness { get; init; }

    public double? Yaw { get; init; }

    public double? RollDegrees { get; init; }

    public double? IdentitySimilarity { get; set; }

    public string? DuplicateOf { get; init; }

    /// <summary>Training (or held-out) image, relative to the dataset folder.</summary>
    public string? Output { get; set; }

    public string? Caption { get; set; }

    public string? FaceCaption { get; set; }

    public IReadOnlyList<string>? DroppedTags { get; set; }

    /// <summary>Thumbnail, relative to the dataset folder.</summary>
    public string? Thumbnail { get; set; }
}

/// <summary>Thresholds and choices of <see cref="DatasetPreparer"/>.</summary>
public sealed record DatasetOptions
{
    public required string PhotosDir { get; init; }

    public required string Name { get; init; }

    public required string OutDir { get; init; }

    public string? Trigger { get; init; }

    /// <summary>Crop resolutions; the first one is the kohya folder <c>img/</c>, others <c>img-WxH/</c>.</summary>
    public IReadOnlyList<TrainingResolution> Resolutions { get; init; } = [TrainingResolution.Square512, new(512, 768)];

    public int Repeats { get; init; } = 10;

    /// <summary>The tagger's box; null writes captions without tagger tags.</summary>
    public WebUiClient? Tagger { get; init; }

    public string? TaggerModel { get; init; }

    public double TaggerThreshold { get; init; } = 0.35;

    public IReadOnlyList<string> DropTags { get; init; } = Captions.DefaultDropTags;

    /// <summary>w600k_r50.onnx (ArcFace); null skips the identity check.</summary>
    public string? ArcFaceModel { get; init; }

    /// <summary>Minimum cosine similarity of a photo's embedding to the mean of the others.</summary>
    public double IdentityThreshold { get; init; } = 0.35;

    public bool KeepOutliers { get; init; }

    /// <summary>Smallest face (larger box side) in source pixels.</summary>
    public double MinFaceSize { get; init; } = 64;

    /// <summary>Smallest variance of the Laplacian of the face (see <see cref="PhotoMetrics.FaceSharpness"/>).</summary>
    public double MinSharpness { get; init; } = 20;

    public double MaxYaw { get; init; } = 0.45;

    /// <summary>Head roll beyond this rejects the photo; generous, since BlazeFace's eye points alone can tilt an upright face by 20-30° and a tilted head is fine to train on (a sideways photo without EXIF is ~90°).</summary>
    public double MaxRollDegrees { get; init; } = 45;

    public double MinEyesToMouth { get; init; } = 0.55;

    /// <summary>dHash distance at or below which two photos are duplicates.</summary>
    public int DuplicateDistance { get; init; } = 5;

    /// <summary>A second face at least this fraction of the main face's size makes the photo ambiguous.</summary>
    public double SecondFaceRatio { get; init; } = 0.35;

    public int HoldOut { get; init; } = 2;

    /// <summary>Photos are held out only when at least this many are good.</summary>
    public int HoldOutMinimum { get; init; } = 12;
}

/// <summary>The outcome of preparing a dataset.</summary>
public sealed record DatasetResult(DatasetManifest Manifest, IReadOnlyList<PhotoReport> Photos, string ReportHtml, string ReportJson);

/// <summary>
/// <c>miaoya dataset prepare</c>: photo QA (face count, size, sharpness, pose, duplicates, identity), upper-body crops at
/// the training resolutions (EXIF rotation applied), captions through the WebUI's tagger, the kohya folder layout
/// (<c>img/REPEATS_TRIGGER/NNN.png</c> + <c>NNN.txt</c>), a QA report (HTML with thumbnails, and JSON) and dataset.json.
/// Every file is written atomically.
/// </summary>
public static class DatasetPreparer
{
    private static readonly string[] PhotoExtensions = [".jpg", ".jpeg", ".png", ".webp"];

    public static async Task<DatasetResult> PrepareAsync(DatasetOptions options, IFaceDetector detector, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(detector);
        if (!Directory.Exists(options.PhotosDir))
        {
            throw new TrainingException($"{options.PhotosDir}: no such folder of photos.", badInput: true);
        }

        if (!LoraTrainingRecipe.IsSafeName(options.Name))
        {
            throw new TrainingException($"--name '{options.Name}': use 1-40 letters, digits, '-' or '_' (it names the LoRA files).", badInput: true);
        }

        if (options.Resolutions.Count == 0)
        {
            throw new TrainingException("--resolution: at least one resolution.", badInput: true);
        }

        var trigger = options.Trigger ?? Captions.DefaultTrigger(options.Name);
        if (trigger.Length == 0 || trigger.Any(c => char.IsWhiteSpace(c) || c is ',' or '/' or '\\' or '_'))
        {
            throw new TrainingException($"--trigger '{trigger}': one word without spaces, commas, slashes or underscores (kohya reads the folder name as REPEATS_TRIGGER).", badInput: true);
        }

        var files = Directory.GetFiles(options.PhotosDir)
            .Where(f => PhotoExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
        {
            throw new TrainingException($"{options.PhotosDir}: no photos (.jpg, .jpeg, .png, .webp).", badInput: true);
        }

        var outDir = Path.GetFullPath(options.OutDir);
        PrivateFiles.CreateDirectory(outDir);
        // Our own outputs from an earlier prepare are replaced, never mixed with the new ones; folders of the same names
        // that are not ours (no dataset.json) are never deleted.
        var stale = Directory.GetDirectories(outDir).Where(d => Path.GetFileName(d) is "img" or "heldout" or "qa" || Path.GetFileName(d).StartsWith("img-", StringComparison.Ordinal)).ToArray();
        var photosFull = Path.GetFullPath(options.PhotosDir).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (stale.Length > 0 && (!File.Exists(Path.Combine(outDir, DatasetManifest.FileName)) || stale.Any(d => photosFull.StartsWith(d + Path.DirectorySeparatorChar, StringComparison.Ordinal))))
        {
            throw new TrainingException($"--out {outDir}: already holds {string.Join(", ", stale.Select(Path.GetFileName))} that is not an earlier dataset of this command (or holds the photos); choose an empty or new folder.", badInput: true);
        }

        foreach (var folder in stale)
        {
            Directory.Delete(folder, recursive: true);
        }

        var reports = new List<PhotoReport>();
        var images = new Dictionary<PhotoReport, (Image<Rgb24> Image, DetectedFace? Face)>(ReferenceEqualityComparer.Instance);
        var hashes = new List<(string File, ulong Hash)>();
        try
        {
            // 1. per photo: decode (EXIF orientation applied), faces, size, sharpness, pose, duplicates
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = Path.GetFileName(file);
                Image<Rgb24> image;
                try
                {
                    image = await FaceImages.LoadAsync(await EncodedImage.ReadFileAsync(file, cancellationToken), cancellationToken);
                }
                catch (Exception e) when (e is InvalidImageDataException or IOException or NotSupportedException or UnknownImageFormatException)
                {
                    reports.Add(new PhotoReport { File = name, Status = PhotoStatus.Rejected, Reasons = { $"not a readable image: {e.Message}" } });
                    continue;
                }

                var (report, face) = Inspect(name, image, detector, options, hashes, cancellationToken);
                reports.Add(report);
                images[report] = (image, face);
                log?.Invoke(report.Status == PhotoStatus.Rejected ? $"{name}: rejected: {string.Join("; ", report.Reasons)}" : $"{name}: ok");
            }

            // 2. identity consistency across the set
            var good = reports.Where(r => r.Status != PhotoStatus.Rejected).ToList();
            if (options.ArcFaceModel is not null && good.Count >= 3)
            {
                using var embedder = ArcFaceEmbedder.Load(options.ArcFaceModel, ExecutionDevice.Cpu);
                var embeddings = good.Select(r => embedder.Embed(images[r].Image, Face5.FromBlazeFace(images[r].Face!), cancellationToken)).ToArray();
                var similarities = Identity.LeaveOneOutSimilarities(embeddings);
                for (var i = 0; i < good.Count; i++)
                {
                    good[i].IdentitySimilarity = Math.Round(similarities[i], 4);
                    if (similarities[i] < options.IdentityThreshold)
                    {
                        var reason = string.Create(CultureInfo.InvariantCulture,
                            $"looks like a different person: ArcFace similarity {similarities[i]:0.00} to the rest of the set (threshold {options.IdentityThreshold:0.00})");
                        good[i].Reasons.Add(reason);
                        good[i].Status = options.KeepOutliers ? PhotoStatus.Flagged : PhotoStatus.Rejected;
                        log?.Invoke($"{good[i].File}: {(options.KeepOutliers ? "flagged" : "rejected")}: {reason}");
                    }
                }
            }

            good = reports.Where(r => r.Status is PhotoStatus.Accepted or PhotoStatus.Flagged).ToList();

            // 3. hold-out references when there are enough photos
            if (good.Count >= options.HoldOutMinimum && options.HoldOut > 0)
            {
                var accepted = good.Where(r => r.Status == PhotoStatus.Accepted).ToList();
                for (var k = 0; k < options.HoldOut && accepted.Count > 0; k++)
                {
                    var index = (int)((k + 0.5) * accepted.Count / options.HoldOut);
                    var pick = accepted[Math.Min(index, accepted.Count - 1)];
                    pick.Status = PhotoStatus.HeldOut;
                }
            }

            // 4. crops, captions, thumbnails
            var primary = options.Resolutions[0];
            var folders = options.Resolutions.Select((r, i) => new DatasetFolder(r.ToString(), Path.Combine(i == 0 ? "img" : $"img-{r}", $"{options.Repeats}_{trigger}"))).ToArray();
            var training = new List<string>();
            var references = new List<string>();
            string? taggerModel = null;
            if (options.Tagger is not null && reports.Any(r => r.Status is PhotoStatus.Accepted or PhotoStatus.Flagged))
            {
                taggerModel = await ChooseTaggerModelAsync(options.Tagger, options.TaggerModel, cancellationToken);
            }

            var number = 0;
            var heldNumber = 0;
            foreach (var report in reports)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!images.TryGetValue(report, out var entry))
                {
                    continue;
                }

                report.Thumbnail = $"qa/thumbs/{Path.GetFileNameWithoutExtension(report.File)}.jpg";
                await WriteThumbnailAsync(entry.Image, entry.Face, Path.Combine(outDir, report.Thumbnail), cancellationToken);
                if (report.Status == PhotoStatus.Rejected)
                {
                    continue;
                }

                if (report.Status == PhotoStatus.HeldOut)
                {
                    var heldName = $"heldout/{++heldNumber:000}.png";
                    using var held = UpperBodyCrop.Crop(entry.Image, entry.Face!, primary);
                    await EncodedImage.FromPng(held).WriteFileAtomicallyAsync(Path.Combine(outDir, heldName), cancellationToken);
                    report.Output = heldName;
                    references.Add(heldName);
                    continue;
                }

                var fileName = $"{++number:000}.png";
                EncodedImage? primaryPng = null;
                for (var i = 0; i < options.Resolutions.Count; i++)
                {
                    using var crop = UpperBodyCrop.Crop(entry.Image, entry.Face!, options.Resolutions[i]);
                    var png = EncodedImage.FromPng(crop);
                    primaryPng ??= png;
                    await png.WriteFileAtomicallyAsync(Path.Combine(outDir, folders[i].ImageDir, fileName), cancellationToken);
                }

                var faceWords = Captions.FaceWords(PhotoMetrics.Pose(entry.Face!));
                IReadOnlyDictionary<string, double> tags = new Dictionary<string, double>();
                if (options.Tagger is not null)
                {
                    var result = await options.Tagger.TaggerInterrogateAsync(new TaggerInterrogateRequest(primaryPng!, taggerModel!, options.TaggerThreshold), cancellationToken);
                    tags = result.Tags;
                }

                var (caption, dropped) = Captions.Full(trigger, faceWords, tags, options.TaggerThreshold, options.DropTags);
                var faceCaption = Captions.FaceFocused(trigger, faceWords);
                foreach (var folder in folders)
                {
                    var stem = Path.Combine(outDir, folder.ImageDir, Path.GetFileNameWithoutExtension(fileName));
                    await AtomicFile.WriteAllBytesAsync(stem + ".txt", System.Text.Encoding.UTF8.GetBytes(caption), cancellationToken);
                    await AtomicFile.WriteAllBytesAsync(stem + ".face.txt", System.Text.Encoding.UTF8.GetBytes(faceCaption), cancellationToken);
                }

                report.Output = Path.Combine(folders[0].ImageDir, fileName).Replace('\\', '/');
                report.Caption = caption;
                report.FaceCaption = faceCaption;
                report.DroppedTags = dropped;
                training.Add(fileName);
            }

            var referencesAreHeldOut = references.Count > 0;
            if (!referencesAreHeldOut)
            {
                references.AddRange(training.Select(f => Path.Combine(folders[0].ImageDir, f).Replace('\\', '/')));
            }

            var manifest = new DatasetManifest
            {
                Name = options.Name,
                Trigger = trigger,
                Repeats = options.Repeats,
                Folders = folders.Select(f => f with { ImageDir = f.ImageDir.Replace('\\', '/') }).ToArray(),
                Images = training,
                References = references,
                ReferencesAreHeldOut = referencesAreHeldOut,
                TaggerModel = taggerModel,
                CreatedAt = DateTimeOffset.UtcNow,
                Root = outDir,
            };

            var reportJson = Path.Combine(outDir, "qa", "report.json");
            var reportHtml = Path.Combine(outDir, "qa", "report.html");
            await JsonFiles.WriteAsync(reportJson, new { dataset = options.Name, trigger, photos = reports }, cancellationToken);
            await AtomicFile.WriteAllBytesAsync(reportHtml, System.Text.Encoding.UTF8.GetBytes(QaReport.Html(options.Name, trigger, reports)), cancellationToken);
            if (training.Count == 0)
            {
                throw new TrainingException($"no usable photo in {options.PhotosDir} ({reports.Count(r => r.Status == PhotoStatus.Rejected)} of {reports.Count} rejected); see {reportHtml}.", badInput: true);
            }

            await JsonFiles.WriteAsync(Path.Combine(outDir, DatasetManifest.FileName), manifest, cancellationToken);
            return new DatasetResult(manifest, reports, reportHtml, reportJson);
        }
        finally
        {
            foreach (var (image, _) in images.Values)
            {
                image.Dispose();
            }
        }
    }

    private static (PhotoReport Report, DetectedFace? Face) Inspect(
        string name, Image<Rgb24> image, IFaceDetector detector, DatasetOptions options, List<(string File, ulong Hash)> hashes, CancellationToken cancellationToken)
    {
        var faces = detector.Detect(image, cancellationToken);
        var reasons = new List<string>();
        if (faces.Count == 0)
        {
            return (new PhotoReport { File = name, Status = PhotoStatus.Rejected, Width = image.Width, Height = image.Height, Reasons = { "no face found" } }, null);
        }

        var face = faces.MaxBy(f => f.Size)!;
        var others = faces.Where(f => !ReferenceEquals(f, face) && f.Size >= options.SecondFaceRatio * face.Size).ToArray();
        if (others.Length > 0)
        {
            reasons.Add($"several faces ({others.Length + 1}): the photo must show only the person");
        }

        if (face.Size < options.MinFaceSize)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"face too small: {face.Size:0} px, need at least {options.MinFaceSize:0} px (a closer or larger photo)"));
        }

        var sharpness = PhotoMetrics.FaceSharpness(image, face);
        if (sharpness < options.MinSharpness)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"too blurry: face sharpness {sharpness:0.0} (variance of the Laplacian), need at least {options.MinSharpness:0.0}"));
        }

        var pose = PhotoMetrics.Pose(face);
        if (Math.Abs(pose.Yaw) > options.MaxYaw || Math.Abs(pose.RollDegrees) > options.MaxRollDegrees || pose.EyesToMouth < options.MinEyesToMouth)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture,
                $"extreme pose: yaw {pose.Yaw:0.00} (max ±{options.MaxYaw:0.00}), roll {pose.RollDegrees:0}° (max ±{options.MaxRollDegrees:0}°), eyes-to-mouth {pose.EyesToMouth:0.00} (min {options.MinEyesToMouth:0.00})"));
        }

        var hash = PhotoMetrics.DifferenceHash(image);
        string? duplicateOf = null;
        foreach (var (file, other) in hashes)
        {
            if (PhotoMetrics.HammingDistance(hash, other) <= options.DuplicateDistance)
            {
                duplicateOf = file;
                reasons.Add($"duplicate of {file}");
                break;
            }
        }

        if (reasons.Count == 0)
        {
            hashes.Add((name, hash));
        }

        return (new PhotoReport
        {
            File = name,
            Status = reasons.Count == 0 ? PhotoStatus.Accepted : PhotoStatus.Rejected,
            Reasons = reasons,
            Width = image.Width,
            Height = image.Height,
            Faces = faces.Count,
            FaceSize = Math.Round(face.Size, 1),
            Sharpness = Math.Round(sharpness, 1),
            Yaw = Math.Round(pose.Yaw, 3),
            RollDegrees = Math.Round(pose.RollDegrees, 1),
            DuplicateOf = duplicateOf,
        }, face);
    }

    /// <summary>The configured tagger model, checked against the box; else a WD14 MOAT or ViT model the box has.</summary>
    internal static async Task<string> ChooseTaggerModelAsync(WebUiClient client, string? wanted, CancellationToken cancellationToken)
    {
        var models = (await client.GetTaggerInterrogatorsAsync(cancellationToken)).Models;
        if (wanted is not null)
        {
            return models.Contains(wanted, StringComparer.Ordinal)
                ? wanted
                : throw new TrainingException($"--tagger-model '{wanted}': the box has {string.Join(", ", models)}.", badInput: true);
        }

        return models.FirstOrDefault(m => m.Contains("moat", StringComparison.OrdinalIgnoreCase))
            ?? models.FirstOrDefault(m => m.Contains("vit", StringComparison.OrdinalIgnoreCase))
            ?? (models.Count > 0 ? models[0] : null)
            ?? throw new TrainingException($"{client.Endpoint.BaseUrl}: the tagger lists no models (is the WD14 tagger extension installed?). Use --no-tagger to caption without it.");
    }

    private static async Task WriteThumbnailAsync(Image<Rgb24> image, DetectedFace? face, string path, CancellationToken cancellationToken)
    {
        const int side = 192;
        var scale = (float)side / Math.Max(image.Width, image.Height);
        using var thumb = image.Clone(c => c.Resize(Math.Max(1, (int)(image.Width * scale)), Math.Max(1, (int)(image.Height * scale))));
        if (face is not null)
        {
            var box = Rectangle.Round(new RectangleF(face.Box.X * scale, face.Box.Y * scale, face.Box.Width * scale, face.Box.Height * scale));
            DrawBox(thumb, box, new Rgb24(0, 255, 0));
        }

        using var stream = new MemoryStream();
        await thumb.SaveAsJpegAsync(stream, cancellationToken);
        await AtomicFile.WriteAllBytesAsync(path, stream.ToArray(), cancellationToken);
    }

    private static void DrawBox(Image<Rgb24> image, Rectangle box, Rgb24 colour)
    {
        box = Rectangle.Intersect(box, new Rectangle(0, 0, image.Width, image.Height));
        if (box.Width < 2 || box.Height < 2)
        {
            return;
        }

        image.ProcessPixelRows(rows =>
        {
            for (var y = box.Top; y < box.Bottom; y++)
            {
                var row = rows.GetRowSpan(y);
                if (y == box.Top || y == box.Bottom - 1)
                {
                    row.Slice(box.Left, box.Width).Fill(colour);
                }
                else
                {
                    row[box.Left] = colour;
                    row[box.Right - 1] = colour;
                }
            }
        });
    }
}

/// <summary>ArcFace similarity helpers.</summary>
public static class Identity
{
    /// <summary>For each embedding, its cosine similarity to the mean of all the others.</summary>
    public static double[] LeaveOneOutSimilarities(IReadOnlyList<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        var length = embeddings[0].Length;
        var sum = new double[length];
        foreach (var e in embeddings)
        {
            for (var i = 0; i < length; i++)
            {
                sum[i] += e[i];
            }
        }

        var result = new double[embeddings.Count];
        var rest = new float[length];
        for (var k = 0; k < embeddings.Count; k++)
        {
            for (var i = 0; i < length; i++)
            {
                rest[i] = (float)(sum[i] - embeddings[k][i]);
            }

            result[k] = FaceEmbeddings.Cosine(embeddings[k], rest);
        }

        return result;
    }
}
