using System.Diagnostics;
using System.Globalization;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Likeness;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Benchmarks;

// Best-of-N likeness scoring, per candidate: LikenessReference.Score on a 1024×1536 portrait (the astronaut scaled to
// 1024×1024 on a grey 1024×1536 canvas, face about 190 px). "Local work" is Score's wall time outside ONNX Runtime's Run
// (BlazeFace letterbox and tensor fill, decode and NMS, face selection, the 112×112 alignment warp, the scorer's tensor
// fill, normalisation and cosine); "inference" is the time inside Run (BlazeFace's two passes and the scorer). The
// breakdown times the same pieces one by one. The SFace stand-in by default (its inference is not SFace's); give the real
// face_recognition_sface_2021dec.onnx as the second argument for real inference times.
internal static class LikenessBenchmark
{
    public static void Run(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 41;
        var modelPath = args.Length > 1 ? args[1] : Path.Combine(AppContext.BaseDirectory, "StandInModels", "face_recognition_sface_2021dec.onnx");
        using var detector = BlazeFaceDetector.CreateDefault();
        using var scorer = FaceScorer.Load(modelPath, ScorerKind.SFace, ExecutionDevice.Cpu);
        using var photo = Image.Load<Rgb24>(Path.Combine(AppContext.BaseDirectory, "Fixtures", "astronaut.png"));
        var reference = LikenessReference.Build(scorer, detector, [new PersonPhoto("astronaut.png", photo)]);
        using var candidate = Portrait(photo);

        var local = new List<double>();
        var inference = new List<double>();
        var wall = new List<double>();
        var detect = new List<double>();
        var detectInference = new List<double>();
        var select = new List<double>();
        var warp = new List<double>();
        var tensor = new List<double>();
        var cosine = new List<double>();
        var reduce = new List<double>();
        var fullDetect = new List<double>();
        for (var i = 0; i < runs + 5; i++)
        {
            var clock = Stopwatch.StartNew();
            var score = reference.Score(scorer, detector, candidate);
            var total = clock.Elapsed.TotalMilliseconds;
            if (score.Similarity is null)
            {
                throw new InvalidOperationException("no face found in the benchmark portrait.");
            }

            var (d, di, s, w, t, c) = Pieces(scorer, detector, candidate);
            var (r, f) = Reduction(detector, candidate);
            if (i < 5)
            {
                continue;
            }

            local.Add(score.LocalWork.TotalMilliseconds);
            inference.Add(score.Inference.TotalMilliseconds);
            wall.Add(total);
            detect.Add(d);
            detectInference.Add(di);
            select.Add(s);
            warp.Add(w);
            tensor.Add(t);
            cosine.Add(c);
            reduce.Add(r);
            fullDetect.Add(f);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end"));
        Console.WriteLine($"Likeness scoring per candidate, 1024×1536, {Path.GetFileName(modelPath)} ({new FileInfo(modelPath).Length:N0} B), CPU, {runs} runs after 5 warm-up runs; milliseconds, medians");
        Console.WriteLine();
        Console.WriteLine("| Score(): local work | Score(): inference | Score(): wall | local work, fastest run | local work, quartiles |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {Median(local):0.00} | {Median(inference):0.00} | {Median(wall):0.00} | {local.Min():0.00} | {Quantile(local, 0.25):0.00} … {Quantile(local, 0.75):0.00} |"));
        Console.WriteLine();
        Console.WriteLine("| detector local (box reduction, letterbox, fill, decode, NMS) | detector inference | selection + Face5 | warp 112 | scorer tensor fill | normalise + cosine |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {Median(detect):0.00} | {Median(detectInference):0.00} | {Median(select):0.000} | {Median(warp):0.00} | {Median(tensor):0.00} | {Median(cosine):0.000} |"));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"of which the box reduction (thread CPU time) to a long side ≤ {DetectionInput.MaxSide}: {Median(reduce):0.00}; the detector's local work on the full-size image instead (no reduction): {Median(fullDetect):0.00}"));
        Console.WriteLine();
        Console.WriteLine("target: local work ≤ 5 ms per candidate");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"garbage collections in the whole run (gen 0, 1, 2): {GC.CollectionCount(0)}, {GC.CollectionCount(1)}, {GC.CollectionCount(2)}; {GC.GetTotalAllocatedBytes() / 1e6:0} MB allocated"));
    }

    private static (double Detect, double DetectInference, double Select, double Warp, double Tensor, double Cosine) Pieces(
        FaceScorer scorer, BlazeFaceDetector detector, Image<Rgb24> candidate)
    {
        var before = InferenceClock.Ticks;
        var clock = Stopwatch.StartNew();
        var faces = DetectionInput.Detect(detector, candidate, default);
        var detectWall = clock.Elapsed.TotalMilliseconds;
        var detectInference = Stopwatch.GetElapsedTime(0, InferenceClock.Ticks - before).TotalMilliseconds;

        clock.Restart();
        var face = Face5.FromBlazeFace(FaceSelection.OrderBySize(faces)[0]);
        var select = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        using var crop = FaceAlignment.Warp(candidate, FaceAlignment.EstimateNorm(face, FaceAlignment.ArcFaceSize), FaceAlignment.ArcFaceSize);
        var warp = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var input = ArcFaceEmbedder.ToTensor(crop, 0f, 1f);
        var tensor = clock.Elapsed.TotalMilliseconds;

        var raw = new float[scorer.EmbeddingLength];
        for (var i = 0; i < raw.Length; i++)
        {
            raw[i] = input[i * 37 % input.Length];
        }

        clock.Restart();
        var unit = Embeddings.Normalize(raw, "bench");
        _ = Embeddings.Cosine(unit, unit);
        var cosine = clock.Elapsed.TotalMilliseconds;
        return (detectWall - detectInference, detectInference, select, warp, tensor, cosine);
    }

    /// <summary>The box reduction alone, and the detector's local work without it (for comparison).</summary>
    private static (double Reduce, double FullDetectLocal) Reduction(BlazeFaceDetector detector, Image<Rgb24> candidate)
    {
        var cpu = CpuClock.Thread;
        using (DetectionInput.Shrink(candidate).Image)
        {
        }

        var reduce = (CpuClock.Thread - cpu).TotalMilliseconds;
        var clock = Stopwatch.StartNew();
        var before = InferenceClock.Ticks;
        clock.Restart();
        detector.Detect(candidate);
        var wall = clock.Elapsed.TotalMilliseconds;
        return (reduce, wall - Stopwatch.GetElapsedTime(0, InferenceClock.Ticks - before).TotalMilliseconds);
    }

    /// <summary>The astronaut scaled to 1024×1024, centred on a grey 1024×1536 canvas.</summary>
    private static Image<Rgb24> Portrait(Image<Rgb24> photo)
    {
        using var scaled = photo.Clone(c => c.Resize(1024, 1024));
        var canvas = new Image<Rgb24>(1024, 1536, new Rgb24(128, 128, 128));
        canvas.Mutate(c => c.DrawImage(scaled, new Point(0, 256), 1f));
        return canvas;
    }

    private static double Median(List<double> values) => Quantile(values, 0.5);

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Round((sorted.Length - 1) * q)];
    }
}
