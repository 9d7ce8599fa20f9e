using System.Globalization;
using System.Text;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Training;

/// <summary>Options of <see cref="LoraPicker.PickAsync"/>.</summary>
public sealed record PickOptions
{
    public required string RunDir { get; init; }

    public required WebUiClient Client { get; init; }

    /// <summary>w600k_r50.onnx (ArcFace).</summary>
    public required string ArcFaceModel { get; init; }

    /// <summary>The user's choice (a set's name or its LoRA name), overriding the ranking.</summary>
    public string? Pick { get; init; }
}

/// <summary>One validation portrait and its score.</summary>
public sealed record ValidationImage(string File, string Prompt, long Seed, double? Similarity, string? Note);

/// <summary>One LoRA's ranking entry.</summary>
public sealed record LoraScore(string Set, string Lora, double Score, int Rank, int FacesFound, IReadOnlyList<ValidationImage> Images);

/// <summary>choice.json: the LoRA chosen for the person, and why.</summary>
public sealed record LoraChoice(string Set, string Lora, string Trigger, string By, double? Score, IReadOnlyList<LoraScore> Ranking, DateTimeOffset ChosenAt);

/// <summary>
/// Ranks a run's LoRAs by identity: per LoRA, txt2img portraits with the recipe's fixed prompts and seeds
/// (<c>&lt;lora:NAME:WEIGHT&gt;</c> + trigger), BlazeFace on each, ArcFace embedding, mean cosine similarity to the person's
/// reference photos (held out from training when there were enough). Writes <c>compare.html</c>, <c>scores.json</c>
/// and <c>choice.json</c>; the user's <c>--pick</c> overrides the ranking and is recorded as such. Portraits already on
/// disk are reused, so a second run only re-scores.
/// </summary>
public static class LoraPicker
{
    public static async Task<LoraChoice> PickAsync(PickOptions options, IFaceDetector detector, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(detector);
        var runDir = Path.GetFullPath(options.RunDir);
        var manifest = TrainingRun.LoadManifest(runDir);
        var dataset = DatasetManifest.Load(manifest.Dataset);
        var trained = manifest.Sets
            .Where(s => TrainingRun.LoadState(runDir, s.Name) is { Status: TrainingStatus.Done } && File.Exists(s.OutputFile))
            .ToArray();
        if (trained.Length == 0)
        {
            throw new TrainingException($"{runDir}: no trained LoRA to compare (train first: miaoya lora train).", badInput: true);
        }

        RunSet? picked = null;
        if (options.Pick is { } wanted)
        {
            picked = trained.FirstOrDefault(s => s.Name == wanted || s.OutputName == wanted)
                ?? throw new TrainingException($"--pick {wanted}: not a trained LoRA of this run; choose one of {string.Join(", ", trained.Select(s => s.Name))}.", badInput: true);
        }

        using var embedder = ArcFaceEmbedder.Load(options.ArcFaceModel, ExecutionDevice.Cpu);
        var references = new List<float[]>();
        foreach (var reference in dataset.References)
        {
            using var image = await FaceImages.LoadAsync(await EncodedImage.ReadFileAsync(Path.Combine(dataset.Root, reference), cancellationToken), cancellationToken);
            if (Embed(image, detector, embedder, cancellationToken) is { } embedding)
            {
                references.Add(embedding);
            }
        }

        if (references.Count == 0)
        {
            throw new TrainingException($"{dataset.Root}: no face found in any reference photo ({string.Join(", ", dataset.References.Take(5))}).", badInput: true);
        }

        log?.Invoke($"{references.Count} reference photo(s) ({(dataset.ReferencesAreHeldOut ? "held out from training" : "the training photos: too few to hold some out")})");

        // Refresh what the box offers (the LoRAs may have been installed since the client last probed).
        var capabilities = await options.Client.ProbeAsync(cancellationToken);
        var missing = trained.Where(s => !capabilities.Loras.Any(l => l.Name == s.OutputName || l.Alias == s.OutputName)).ToArray();
        if (missing.Length > 0)
        {
            throw new TrainingException($"{options.Client.Endpoint.BaseUrl}: the box does not list {string.Join(", ", missing.Select(m => m.OutputName))}; install them first: miaoya lora install {runDir} --webui {options.Client.Endpoint.BaseUrl} --lora-dir PATH");
        }

        var v = manifest.Validation;
        var (sampler, scheduler) = capabilities.ResolveSampler(v.Sampler);
        var scores = new List<LoraScore>();
        foreach (var set in trained)
        {
            var images = new List<ValidationImage>();
            for (var p = 0; p < v.Prompts.Count; p++)
            {
                foreach (var seed in v.Seeds)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var prompt = string.Create(CultureInfo.InvariantCulture, $"<lora:{set.OutputName}:{v.LoraWeight}> ") + v.Prompts[p].Replace("{trigger}", manifest.Trigger, StringComparison.Ordinal);
                    var relative = string.Create(CultureInfo.InvariantCulture, $"validation/{set.Name}/p{p + 1}-s{seed}.png");
                    var path = Path.Combine(runDir, relative);
                    EncodedImage encoded;
                    if (File.Exists(path))
                    {
                        encoded = await EncodedImage.ReadFileAsync(path, cancellationToken);
                    }
                    else
                    {
                        var response = await options.Client.Txt2ImgAsync(new Txt2ImgRequest
                        {
                            Prompt = prompt,
                            NegativePrompt = v.NegativePrompt,
                            Seed = seed,
                            SamplerName = sampler,
                            Scheduler = scheduler,
                            Steps = v.Steps,
                            CfgScale = v.CfgScale,
                            Width = v.Width,
                            Height = v.Height,
                        }, cancellationToken);
                        encoded = response.GeneratedImages.Count > 0
                            ? response.GeneratedImages[0]
                            : throw new TrainingException($"[{set.Name}] txt2img returned no image for seed {seed}.");
                        await encoded.WriteFileAtomicallyAsync(path, cancellationToken);
                    }

                    using var image = await FaceImages.LoadAsync(encoded, cancellationToken);
                    var embedding = Embed(image, detector, embedder, cancellationToken);
                    images.Add(embedding is null
                        ? new ValidationImage(relative, prompt, seed, null, "no face found")
                        : new ValidationImage(relative, prompt, seed, Math.Round(references.Average(r => FaceEmbeddings.Cosine(embedding, r)), 4), null));
                }
            }

            // A portrait without a face counts as 0: a LoRA that breaks faces must not rank high on its few good ones.
            var score = Math.Round(images.Average(i => i.Similarity ?? 0), 4);
            scores.Add(new LoraScore(set.Name, set.OutputName, score, 0, images.Count(i => i.Similarity is not null), images));
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"[{set.Name}] identity similarity {score:0.000} ({images.Count(i => i.Similarity is not null)}/{images.Count} faces)"));
        }

        var ranking = scores.OrderByDescending(s => s.Score).ThenBy(s => s.Set, StringComparer.Ordinal).Select((s, i) => s with { Rank = i + 1 }).ToArray();
        var best = ranking[0];
        if (ranking.All(r => r.FacesFound == 0))
        {
            log?.Invoke("warning: no validation portrait shows a face, so the scores cannot tell the LoRAs apart; look at compare.html and choose with --pick.");
        }

        var chosen = picked is null ? best : ranking.First(s => s.Set == picked.Name);
        var choice = new LoraChoice(chosen.Set, chosen.Lora, manifest.Trigger, picked is null ? "score" : "user", chosen.Score, ranking, DateTimeOffset.UtcNow);
        await JsonFiles.WriteAsync(Path.Combine(runDir, "scores.json"), ranking, cancellationToken);
        await AtomicFile.WriteAllBytesAsync(Path.Combine(runDir, "compare.html"), Encoding.UTF8.GetBytes(Html(manifest, dataset, ranking, choice)), cancellationToken);
        await JsonFiles.WriteAsync(Path.Combine(runDir, "choice.json"), choice, cancellationToken);
        return choice;
    }

    private static float[]? Embed(Image<Rgb24> image, IFaceDetector detector, ArcFaceEmbedder embedder, CancellationToken cancellationToken)
    {
        var faces = detector.Detect(image, cancellationToken);
        if (faces.Count == 0)
        {
            return null;
        }

        var face = faces.MaxBy(f => f.Size)!;
        return embedder.Embed(image, Face5.FromBlazeFace(face), cancellationToken);
    }

    private static string Html(RunManifest manifest, DatasetManifest dataset, IReadOnlyList<LoraScore> ranking, LoraChoice choice)
    {
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>LoRA comparison: ").Append(QaReport.E(manifest.DatasetName)).Append("</title><style>")
            .Append(QaReport.Style)
            .Append(".row{margin:1em 0;padding:8px;background:#fff;border:1px solid #ddd;border-radius:6px}.chosen{border:3px solid #2a2}.row img{height:192px;margin:4px}figure{display:inline-block;margin:0 6px;text-align:center;font-size:12px}")
            .Append("</style></head><body>");
        b.Append("<h1>LoRA comparison: ").Append(QaReport.E(manifest.DatasetName)).Append("</h1>");
        b.Append(CultureInfo.InvariantCulture, $"<p>Trigger <b>{QaReport.E(manifest.Trigger)}</b>; score = mean ArcFace cosine similarity of each portrait's face to {dataset.References.Count} reference photo(s) ({(dataset.ReferencesAreHeldOut ? "held out from training" : "training photos")}); a portrait without a face counts 0.</p>");
        b.Append(CultureInfo.InvariantCulture, $"<p>Chosen: <b>{QaReport.E(choice.Lora)}</b> ({(choice.By == "user" ? "picked by the user" : "best score")}).</p>");
        b.Append("<table><tr><th>rank</th><th>set</th><th>LoRA</th><th>score</th><th>faces</th></tr>");
        foreach (var s in ranking)
        {
            b.Append(CultureInfo.InvariantCulture, $"<tr><td>{s.Rank}</td><td>{QaReport.E(s.Set)}</td><td>{QaReport.E(s.Lora)}</td><td>{s.Score:0.000}</td><td>{s.FacesFound}/{s.Images.Count}</td></tr>");
        }

        b.Append("</table>");
        foreach (var s in ranking)
        {
            b.Append("<div class=\"row").Append(s.Set == choice.Set ? " chosen" : "").Append("\"><h2>")
                .Append(CultureInfo.InvariantCulture, $"#{s.Rank} {QaReport.E(s.Set)} — {s.Score:0.000}</h2>");
            foreach (var i in s.Images)
            {
                b.Append("<figure><img src=\"").Append(QaReport.E(i.File)).Append("\" alt=\"\"><figcaption>")
                    .Append(CultureInfo.InvariantCulture, $"seed {i.Seed}: {(i.Similarity is { } sim ? sim.ToString("0.000", CultureInfo.InvariantCulture) : QaReport.E(i.Note ?? ""))}")
                    .Append("</figcaption></figure>");
            }

            b.Append("</div>");
        }

        return b.Append("</body></html>\n").ToString();
    }
}
