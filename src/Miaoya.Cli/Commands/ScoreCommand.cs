using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using Miaoya.Likeness;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya score</c>: how much each image's face looks like the person in the <c>--face</c> photos (cosine to the
/// centroid of their embeddings, the photos' own leave-one-out baseline, the ratio), gated by <c>--min-similarity</c> and
/// <c>--min-ratio</c>. Exit codes: 0 every image passes, 1 some image fails or has no face, 2 bad input.
/// </summary>
internal static class ScoreCommand
{

    public static Command Create()
    {
        var faces = new Option<FileInfo[]>("--face") { Description = "A photo of the person, one face in it (repeat for more; two or more give a baseline)", Required = true };
        var images = new Argument<FileInfo[]>("IMAGE") { Description = "Images to score (PNG, JPEG or WebP)", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of text" };
        var scorer = new Option<string>("--scorer") { Description = "sface (OpenCV Zoo, Apache-2.0) or arcface (insightface w600k_r50, non-commercial)", DefaultValueFactory = _ => "sface" };
        scorer.AcceptOnlyFromAmong("sface", "arcface");
        var models = new Option<DirectoryInfo?>("--models") { Description = "Folder with face_recognition_sface_2021dec.onnx (sface) or w600k_r50.onnx (arcface)" };
        var model = new Option<FileInfo?>("--model") { Description = "The scoring model file itself (instead of --models)" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N (falls back to the CPU, saying why, when CUDA cannot load)", DefaultValueFactory = _ => "cpu" };
        var faceIndex = new Option<int?>("--face-index") { Description = "Which face of each image to score (0 = largest); default: the largest" };
        var minSimilarity = new Option<double>("--min-similarity") { Description = "Least cosine to the person's centroid", DefaultValueFactory = _ => LikenessGate.DefaultMinSimilarity };
        var minRatio = new Option<double>("--min-ratio") { Description = "Least similarity / baseline (0: off; skipped with one --face)", DefaultValueFactory = _ => LikenessGate.DefaultMinRatio };
        var command = new Command("score", "Score how much each image's face looks like the person in the --face photos (best-of-N by identity).")
        {
            faces, images, json, scorer, models, model, device, faceIndex, minSimilarity, minRatio,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var kind = result.GetValue(scorer) == "arcface" ? ScorerKind.ArcFace : ScorerKind.SFace;
            var gate = new LikenessGate(result.GetValue(minSimilarity), result.GetValue(minRatio));
            if (gate.MinSimilarity is < -1 or > 1 || gate.MinRatio < 0 || double.IsNaN(gate.MinRatio))
            {
                return await FailAsync("--min-similarity lies in [-1, 1] and --min-ratio is 0 or more.");
            }

            if (result.GetValue(faceIndex) is < 0)
            {
                return await FailAsync("--face-index counts from 0 (the largest face).");
            }

            if (kind == ScorerKind.ArcFace && Environment.GetEnvironmentVariable(Pipeline.PortraitPipeline.DisableInsightfaceVariable) is "1" or "true")
            {
                return await FailAsync($"--scorer arcface is disabled on this deployment ({Pipeline.PortraitPipeline.DisableInsightfaceVariable}): insightface's models are for non-commercial research only. Use --scorer sface.");
            }

            var modelPath = ScorerModelFile.Find(kind, result.GetValue(models), result.GetValue(model), out var modelProblem);
            if (modelPath is null)
            {
                return await FailAsync(modelProblem!);
            }

            ExecutionDevice executionDevice;
            try
            {
                executionDevice = ExecutionDevice.Parse(result.GetValue(device)!);
            }
            catch (FormatException e)
            {
                return await FailAsync(e.Message);
            }

            var photos = new List<PersonPhoto>();
            var candidates = new List<(FileInfo File, Image<Rgb24> Pixels)>();
            try
            {
                foreach (var file in result.GetValue(faces)!)
                {
                    var pixels = await TryLoadAsync("--face", file, cancellationToken);
                    if (pixels is null)
                    {
                        return 2;
                    }

                    photos.Add(new PersonPhoto(file.ToString(), pixels));
                }

                foreach (var file in result.GetValue(images)!)
                {
                    var pixels = await TryLoadAsync("IMAGE", file, cancellationToken);
                    if (pixels is null)
                    {
                        return 2;
                    }

                    candidates.Add((file, pixels));
                }

                FaceScorer faceScorer;
                try
                {
                    faceScorer = FaceScorer.Load(modelPath, kind, executionDevice, line => Console.Error.WriteLine(line));
                }
                catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
                {
                    return await FailAsync(e.Message);
                }

                using (faceScorer)
                using (var detector = BlazeFaceDetector.CreateDefault())
                {
                    LikenessReference reference;
                    try
                    {
                        reference = LikenessReference.Build(faceScorer, detector, photos, cancellationToken);
                    }
                    catch (LikenessInputException e)
                    {
                        return await FailAsync($"--face {e.Message}");
                    }

                    var scores = new List<(FileInfo File, LikenessScore Score, LikenessVerdict Verdict)>();
                    foreach (var (file, pixels) in candidates)
                    {
                        var score = reference.Score(faceScorer, detector, pixels, result.GetValue(faceIndex), cancellationToken);
                        scores.Add((file, score, gate.Check(score)));
                    }

                    if (result.GetValue(json))
                    {
                        Console.WriteLine(CliJson.Write(Json(faceScorer, gate, reference, scores)));
                    }
                    else
                    {
                        WriteText(faceScorer, gate, reference, scores);
                    }

                    return scores.All(s => s.Verdict.Passed) ? 0 : 1;
                }
            }
            finally
            {
                foreach (var photo in photos)
                {
                    photo.Image.Dispose();
                }

                foreach (var (_, pixels) in candidates)
                {
                    pixels.Dispose();
                }
            }
        });
        return command;
    }

    private static async Task<int> FailAsync(string message)
    {
        await Console.Error.WriteLineAsync($"error: {message}");
        return 2;
    }

    /// <summary>The upright RGB photo, or null after saying on stderr which file is unreadable and why.</summary>
    private static async Task<Image<Rgb24>?> TryLoadAsync(string option, FileInfo file, CancellationToken cancellationToken)
    {
        try
        {
            return await FaceImages.LoadAsync(await EncodedImage.ReadFileAsync(file.FullName, cancellationToken), cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidImageDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"error: {option} {file}: {e.Message}");
            return null;
        }
    }

    private static string F(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static void WriteText(FaceScorer scorer, LikenessGate gate, LikenessReference reference, List<(FileInfo File, LikenessScore Score, LikenessVerdict Verdict)> scores)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"Scorer  {scorer.Kind} {Path.GetFileName(scorer.ModelFile)} ({scorer.Licence}) on {scorer.Device}");
        var photos = reference.PhotoNames;
        Console.WriteLine(reference.Baseline is { } baseline
            ? string.Create(inv, $"Person  {photos.Count} photos, baseline {baseline:0.000} (leave-one-out: {string.Join(", ", photos.Select((p, i) => string.Create(inv, $"{p} {reference.LeaveOneOut[i]:0.000}")))})")
            : $"Person  1 photo ({photos[0]}), no baseline: give two or more --face photos for the ratio check");
        Console.WriteLine(string.Create(inv, $"Gate    similarity ≥ {gate.MinSimilarity:0.00}, ratio ≥ {gate.MinRatio:0.0#}"));
        Console.WriteLine();
        var width = Math.Max(5, scores.Max(s => s.File.ToString().Length));
        Console.WriteLine($"{"IMAGE".PadRight(width)}  SIMILARITY  BASELINE  RATIO  VERDICT");
        foreach (var (file, score, verdict) in scores)
        {
            var reasons = verdict.Reasons.Count == 0 ? "" : "  " + string.Join("; ", verdict.Reasons);
            Console.WriteLine($"{file.ToString().PadRight(width)}  {F(score.Similarity, "0.000"),-10}  {F(score.Baseline, "0.000"),-8}  {F(score.Ratio, "0.00"),-5}  {(verdict.Passed ? "pass" : "FAIL")}{reasons}");
        }

        var passed = scores.Count(s => s.Verdict.Passed);
        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"{passed} of {scores.Count} passed. Per image: local work {Median(scores.Select(s => s.Score.LocalWork)):0.0} ms, inference {Median(scores.Select(s => s.Score.Inference)):0.0} ms (medians)."));
    }

    private static double Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Select(v => v.TotalMilliseconds).Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static JsonObject Json(FaceScorer scorer, LikenessGate gate, LikenessReference reference, List<(FileInfo File, LikenessScore Score, LikenessVerdict Verdict)> scores)
    {
        static JsonNode? N(double? v) => v is { } x ? JsonValue.Create(Math.Round(x, 6)) : null;
        return new JsonObject
        {
            ["scorer"] = new JsonObject
            {
                ["kind"] = scorer.Kind == ScorerKind.SFace ? "sface" : "arcface",
                ["model"] = scorer.ModelFile,
                ["licence"] = scorer.Licence,
                ["nonCommercial"] = scorer.NonCommercial,
                ["device"] = scorer.Device.ToString(),
            },
            ["gate"] = new JsonObject { ["minSimilarity"] = gate.MinSimilarity, ["minRatio"] = gate.MinRatio },
            ["person"] = new JsonObject
            {
                ["photos"] = new JsonArray([.. reference.PhotoNames.Select((p, i) => (JsonNode)new JsonObject
                {
                    ["file"] = p,
                    ["leaveOneOut"] = reference.LeaveOneOut.Count > 0 ? N(reference.LeaveOneOut[i]) : null,
                })]),
                ["baseline"] = N(reference.Baseline),
            },
            ["images"] = new JsonArray([.. scores.Select(s => (JsonNode)new JsonObject
            {
                ["file"] = s.File.ToString(),
                ["facesFound"] = s.Score.FacesFound,
                ["face"] = s.Score.Face is { } box
                    ? new JsonObject { ["x"] = Math.Round(box.X, 1), ["y"] = Math.Round(box.Y, 1), ["width"] = Math.Round(box.Width, 1), ["height"] = Math.Round(box.Height, 1) }
                    : null,
                ["similarity"] = N(s.Score.Similarity),
                ["baseline"] = N(s.Score.Baseline),
                ["ratio"] = N(s.Score.Ratio),
                ["passed"] = s.Verdict.Passed,
                ["reasons"] = new JsonArray([.. s.Verdict.Reasons.Select(r => (JsonNode)JsonValue.Create(r))]),
                ["localWorkMs"] = Math.Round(s.Score.LocalWork.TotalMilliseconds, 3),
                ["inferenceMs"] = Math.Round(s.Score.Inference.TotalMilliseconds, 3),
            })]),
            ["passed"] = scores.All(s => s.Verdict.Passed),
        };
    }
}
