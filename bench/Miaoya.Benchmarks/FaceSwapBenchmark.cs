using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Miaoya.FaceSwap;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Benchmarks;

// The V3 face swap's own pre- and post-processing per face, model inference excluded: the detector's letterbox and
// tensor fill, SCRFD decode + NMS, the 112 and 128 alignment warps, and the paste-back, on targets of three sizes.
// The stand-in models (tests/Miaoya.FaceSwap.Tests/StandInModels) give the real output shapes; a bright square is the face.
internal static class FaceSwapBenchmark
{
    private static readonly (int Width, int Height)[] Sizes = [(512, 768), (1024, 1536), (2048, 3072)];

    public static void Run(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 21;
        var models = Path.Combine(AppContext.BaseDirectory, "StandInModels");
        using var det = OnnxModel.Load(Path.Combine(models, "det_10g.onnx"), ModelRegistry.Det10g, ExecutionDevice.Cpu, null);

        Console.WriteLine($"V3 pre/post-processing per face, stand-in models, {runs} runs per size after 3 warm-up runs; model inference excluded");
        Console.WriteLine();
        Console.WriteLine("| target | letterbox + fill | decode + NMS | warps 112 + 128 | paste-back | total |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (width, height) in Sizes)
        {
            using var target = Square(width, height);
            var stages = new Dictionary<string, List<double>> { ["fill"] = [], ["decode"] = [], ["warps"] = [], ["paste"] = [], ["total"] = [] };
            for (var i = 0; i < runs + 3; i++)
            {
                var (fill, decode, warps, paste) = Once(det, target);
                if (i < 3)
                {
                    continue;
                }

                stages["fill"].Add(fill);
                stages["decode"].Add(decode);
                stages["warps"].Add(warps);
                stages["paste"].Add(paste);
                stages["total"].Add(fill + decode + warps + paste);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {width}×{height} | {Median(stages["fill"]):0.00} | {Median(stages["decode"]):0.00} | {Median(stages["warps"]):0.00} | {Median(stages["paste"]):0.00} | {Median(stages["total"]):0.00} |"));
        }

        Console.WriteLine();
        Console.WriteLine("milliseconds, medians; target: total ≤ 15 ms per face for 1024×1536");
    }

    private static (double Fill, double Decode, double Warps, double Paste) Once(OnnxModel det, Image<Rgb24> target)
    {
        var clock = Stopwatch.StartNew();
        var letterbox = ScrfdLetterbox.For(target.Width, target.Height, 640);
        var tensor = new float[3 * 640 * 640];
        letterbox.Fill(target, tensor);
        var fill = clock.Elapsed.TotalMilliseconds;

        using var input = OrtValue.CreateTensorValueFromMemory(tensor, [1, 3, 640, 640]);
        using var outputs = det.Run([input], default);
        clock.Restart();
        var candidates = new List<ScrfdCandidate>();
        for (var i = 0; i < 3; i++)
        {
            ScrfdDecoder.Decode(
                outputs[i].GetTensorDataAsSpan<float>(), outputs[i + 3].GetTensorDataAsSpan<float>(), outputs[i + 6].GetTensorDataAsSpan<float>(),
                ScrfdDetector.Strides[i], 640, 0.5f, letterbox.DetScale, candidates, "det_10g.onnx");
        }

        var faces = ScrfdDecoder.Nms(candidates, 0.4f);
        var decode = clock.Elapsed.TotalMilliseconds;
        if (faces.Count == 0)
        {
            throw new InvalidOperationException($"the stand-in detector found no face on {target.Width}×{target.Height}.");
        }

        var face = faces[0].ToFace();
        clock.Restart();
        var m112 = FaceAlignment.EstimateNorm(face.Points, 112);
        using (FaceAlignment.Warp(target, m112, 112))
        {
        }

        var m128 = FaceAlignment.EstimateNorm(face.Points, 128);
        using var crop = FaceAlignment.Warp(target, m128, 128);
        var warps = clock.Elapsed.TotalMilliseconds;

        using var copy = target.Clone();
        clock.Restart();
        PasteBack.Apply(copy, crop, m128);
        var paste = clock.Elapsed.TotalMilliseconds;
        return (fill, decode, warps, paste);
    }

    /// <summary>
    /// A white square on black (the stand-in detector's "face"): 64 px in the detector's 640 input, placed where the
    /// FaceSwap tests place it for 1024×1536 (left 691, top 461, side 154), scaled to the size.
    /// </summary>
    private static Image<Rgb24> Square(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        var side = 154 * height / 1536;
        var left = 691 * width / 1024;
        var top = 461 * height / 1536;
        image.ProcessPixelRows(rows =>
        {
            for (var y = top; y < top + side; y++)
            {
                rows.GetRowSpan(y).Slice(left, side).Fill(new Rgb24(255, 255, 255));
            }
        });
        return image;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
