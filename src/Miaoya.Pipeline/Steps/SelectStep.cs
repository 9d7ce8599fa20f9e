using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using Miaoya.Likeness;
using Miaoya.Recipes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>select</c> (recipes with a <c>candidates</c> section, right after the step that rendered the candidates): each
/// candidate's face is scored against the centroid of the person's face photos by a face-recognition model that did not
/// condition the image (SFace by default), with the person's own leave-one-out baseline and the ratio; the best candidate
/// that passes the recipe's gates goes on (and becomes <c>final.png</c>). None passing fails the run with every score.
/// </summary>
internal sealed class SelectStep : IPortraitStep
{
    /// <summary>The side-by-side page of the candidates' faces in the run folder.</summary>
    public const string PageFileName = PortraitPipeline.CandidatesPageFileName;

    private const int FaceThumb = 160;

    public string Name => StepName.Select;

    public StepBoxUse BoxUse => StepBoxUse.None;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Candidates!;
        var candidates = run.Candidates ?? throw new PipelineException($"step {Name} found no candidates from {run.Recipe.CandidateStep}.") { Step = Name };
        var scorer = run.Services.Scorers.Get(ScorerModelPath(run.Request, settings), KindOf(settings), ExecutionDevice.Parse(run.Request.Device), m => run.Services.Logger.LogInformation("{Note}", m));
        var detector = run.Services.Detector;

        var photos = new List<PersonPhoto>();
        try
        {
            foreach (var (name, encoded) in await FacePhotos.ReadAsync(run, Name, cancellationToken))
            {
                photos.Add(new PersonPhoto(Path.GetFileName(name), await FaceImages.LoadAsync(encoded, cancellationToken)));
            }

            LikenessReference person;
            try
            {
                person = LikenessReference.Build(scorer, detector, photos, cancellationToken);
            }
            catch (LikenessInputException e)
            {
                throw new PipelineException(e.Message) { Step = Name, InputField = "face" };
            }

            var gate = new LikenessGate(settings.MinSimilarity, settings.MinRatio);
            var scored = new List<CandidateScore>();
            for (var c = 0; c < candidates.Count; c++)
            {
                using var image = await FaceImages.LoadAsync(candidates[c].Image, cancellationToken);
                var score = person.Score(scorer, detector, image, run.Request.FaceIndex, cancellationToken);
                var verdict = gate.Check(score);
                string? faceFile = null;
                if (score.Face is { } box)
                {
                    using var thumb = FaceThumbnail(image, box);
                    var written = await run.Folder.WriteAsync($"select-face-{c + 1}.png", EncodedImage.FromPng(thumb), cancellationToken);
                    record.Outputs.Add(written);
                    faceFile = written.File;
                }

                scored.Add(new CandidateScore(
                    c + 1, candidates[c].Seed, Round(score.Similarity), Round(score.Ratio), score.FacesFound, verdict.Passed, verdict.Reasons, faceFile,
                    Math.Round(score.LocalWork.TotalMilliseconds, 2), Math.Round(score.Inference.TotalMilliseconds, 2)));
            }

            var best = scored.Where(s => s.Passed).OrderByDescending(s => s.Similarity).FirstOrDefault();
            var result = new SelectResult(
                RecipeYaml.Word(settings.Scorer), Path.GetFileName(scorer.ModelFile), scorer.NonCommercial, run.Request.StandInModels || scorer.IsStandIn,
                person.Photos, Round(person.Baseline), settings.MinSimilarity, settings.MinRatio, scored, best?.Candidate);
            record.SetResult(result);
            await run.Folder.WriteTextAsync(PageFileName, CandidatesPage.Html(run, result, photos.Select(p => p.Name).ToArray()), cancellationToken);
            if (best is null)
            {
                throw new PipelineException(
                    $"no candidate passes the likeness gates (min_similarity {settings.MinSimilarity.ToString(CultureInfo.InvariantCulture)}, min_ratio {settings.MinRatio.ToString(CultureInfo.InvariantCulture)}): "
                    + string.Join("; ", scored.Select(s => $"#{s.Candidate} {string.Join(", ", s.Reasons)}"))
                    + $". The faces side by side: {PageFileName} in the run folder.") { Step = Name, Final = true };
            }

            var chosen = candidates[best.Candidate - 1];
            run.Current = chosen.Image;
            run.Seed = chosen.Seed;
            record.Outputs.Insert(0, await run.Folder.WriteAsync($"select{chosen.Image.FileExtension}", chosen.Image, cancellationToken));
        }
        finally
        {
            foreach (var photo in photos)
            {
                photo.Image.Dispose();
            }
        }
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        run.Current = outputs[0];
        if (record.ResultAs<SelectResult>() is { Chosen: { } chosen } result)
        {
            run.Seed = result.Candidates[chosen - 1].Seed;
        }
    }

    /// <summary>The scorer's model file: <c>--models DIR</c> holds it under its released name.</summary>
    public static string ScorerModelPath(RunRequest request, CandidatesSettings settings) =>
        Path.Combine(request.ModelsDirectory ?? ".", FaceScorer.DefaultFileName(KindOf(settings)));

    /// <summary>The scorer a recipe's <c>candidates.scorer</c> names.</summary>
    public static ScorerKind KindOf(CandidatesSettings settings) => settings.Scorer == ScorerChoice.ArcFace ? ScorerKind.ArcFace : ScorerKind.SFace;

    private static Image<Rgb24> FaceThumbnail(Image<Rgb24> image, RectangleF box)
    {
        var side = Math.Max(box.Width, box.Height) * 1.6f;
        var rect = Rectangle.Intersect(
            new Rectangle((int)(box.X + (box.Width / 2) - (side / 2)), (int)(box.Y + (box.Height / 2) - (side / 2)), (int)side, (int)side),
            new Rectangle(0, 0, image.Width, image.Height));
        return image.Clone(x => x.Crop(rect).Resize(FaceThumb, FaceThumb));
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;
}

/// <summary>One candidate of the <c>select</c> step: its seed, likeness figures, verdict and face thumbnail.</summary>
public sealed record CandidateScore(
    [property: JsonPropertyName("candidate")] int Candidate,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("similarity")] double? Similarity,
    [property: JsonPropertyName("ratio")] double? Ratio,
    [property: JsonPropertyName("faces_found")] int FacesFound,
    [property: JsonPropertyName("passed")] bool Passed,
    [property: JsonPropertyName("reasons")] IReadOnlyList<string> Reasons,
    [property: JsonPropertyName("face")] string? Face,
    [property: JsonPropertyName("local_ms")] double LocalMs,
    [property: JsonPropertyName("inference_ms")] double InferenceMs);

/// <summary><c>select</c>: the scorer, the person's baseline, the gates, every candidate's figures and the one chosen (null: none passed).</summary>
public sealed record SelectResult(
    [property: JsonPropertyName("scorer")] string Scorer,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("non_commercial")] bool NonCommercial,
    [property: JsonPropertyName("stand_in_models")] bool StandInModels,
    [property: JsonPropertyName("photos")] int Photos,
    [property: JsonPropertyName("baseline")] double? Baseline,
    [property: JsonPropertyName("min_similarity")] double MinSimilarity,
    [property: JsonPropertyName("min_ratio")] double MinRatio,
    [property: JsonPropertyName("candidates")] IReadOnlyList<CandidateScore> Candidates,
    [property: JsonPropertyName("chosen")] int? Chosen);
