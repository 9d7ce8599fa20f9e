using System.CommandLine;
using System.Globalization;
using Miaoya.Faces;
using Miaoya.Training;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya dataset prepare PHOTOS_DIR --name NAME --out DIR</c>: photo QA, crops, captions, kohya layout, QA report.</summary>
internal static class DatasetCommand
{
    public static Command Create()
    {
        var photos = new Argument<DirectoryInfo>("photos") { Description = "Folder of the person's photos (.jpg, .png, .webp), about 20 upper-body shots" };
        var name = new Option<string>("--name") { Description = "Dataset name (letters, digits, - and _); names the LoRA files", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Dataset folder to write", Required = true };
        var webui = CliOptions.WebUi($"WebUI box with the WD14 tagger, for captions ({CliOptions.WebUiDefault})");
        var auth = CliOptions.Auth();
        var noTagger = new Option<bool>("--no-tagger") { Description = "Caption without the tagger: trigger word and face words only" };
        var resolution = new Option<string>("--resolution")
        {
            Description = "Training resolutions, comma-separated WIDTHxHEIGHT; the first is img/, others img-WxH/",
            DefaultValueFactory = _ => "512x512,512x768",
        };
        var trigger = new Option<string?>("--trigger") { Description = "Trigger word put first in every caption (default: the name, letters and digits)" };
        var repeats = new Option<int>("--repeats") { Description = "Repeats in the kohya folder name REPEATS_TRIGGER", DefaultValueFactory = _ => 10 };
        var models = new Option<DirectoryInfo?>("--models") { Description = "Folder with w600k_r50.onnx (ArcFace) for the identity check; without it the check is skipped" };
        var taggerModel = new Option<string?>("--tagger-model") { Description = "Tagger model (default: a WD14 MOAT or ViT model the box has)" };
        var threshold = new Option<double>("--tagger-threshold") { Description = "Tags scoring below this are left out", DefaultValueFactory = _ => 0.35 };
        var dropTags = new Option<string[]>("--drop-tag") { Description = "Tags (globs, e.g. '*_eyes') dropped from captions; replaces the default identity-leaking list", AllowMultipleArgumentsPerToken = true };
        var identity = new Option<double>("--identity-threshold") { Description = "Least ArcFace similarity of a photo to the rest of the set", DefaultValueFactory = _ => 0.35 };
        var keepOutliers = new Option<bool>("--keep-outliers") { Description = "Keep identity outliers (flagged in the report) instead of rejecting them" };
        var minFace = new Option<int>("--min-face") { Description = "Smallest face in pixels", DefaultValueFactory = _ => 64 };
        var minSharpness = new Option<double>("--min-sharpness") { Description = "Least face sharpness (variance of the Laplacian on a 128 px face crop)", DefaultValueFactory = _ => 20 };
        var holdOut = new Option<int>("--hold-out") { Description = "Good photos kept out of training as references for ranking (only with 12 or more good photos)", DefaultValueFactory = _ => 2 };

        var prepare = new Command("prepare", "Check a person's photos, crop them to upper-body framing, caption them and write a kohya dataset with a QA report.")
        {
            photos, name, output, webui, auth, noTagger, resolution, trigger, repeats, models, taggerModel, threshold, dropTags, identity, keepOutliers, minFace, minSharpness, holdOut,
        };
        prepare.Options.Add(CliOptions.AuthFile());
        prepare.SetAction((result, cancellationToken) => TrainingCli.RunAsync(async () =>
        {
            var resolutions = new List<TrainingResolution>();
            foreach (var text in result.GetValue(resolution)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!TrainingResolution.TryParse(text, out var r, out var error))
                {
                    await Console.Error.WriteLineAsync($"error: --resolution: {error}.");
                    return 2;
                }

                resolutions.Add(r);
            }

            var (arcFace, why) = TrainingCli.ArcFace(result.GetValue(models));
            if (arcFace is null)
            {
                Console.WriteLine($"note: identity check skipped ({why}).");
            }

            using var session = result.GetValue(noTagger) ? null : new WebUiSession(CliOptions.Endpoint(result, result.GetValue(webui)), verbose: false);
            using var detector = BlazeFaceDetector.CreateDefault();
            var drop = result.GetValue(dropTags);
            var options = new DatasetOptions
            {
                PhotosDir = result.GetValue(photos)!.FullName,
                Name = result.GetValue(name)!,
                OutDir = result.GetValue(output)!.FullName,
                Trigger = result.GetValue(trigger),
                Resolutions = resolutions,
                Repeats = result.GetValue(repeats),
                Tagger = session?.Client,
                TaggerModel = result.GetValue(taggerModel),
                TaggerThreshold = result.GetValue(threshold),
                DropTags = drop is { Length: > 0 } ? drop : Captions.DefaultDropTags,
                ArcFaceModel = arcFace,
                IdentityThreshold = result.GetValue(identity),
                KeepOutliers = result.GetValue(keepOutliers),
                MinFaceSize = result.GetValue(minFace),
                MinSharpness = result.GetValue(minSharpness),
                HoldOut = result.GetValue(holdOut),
            };
            if (options.Repeats is < 1 or > 10_000)
            {
                await Console.Error.WriteLineAsync("error: --repeats: between 1 and 10000.");
                return 2;
            }

            var prepared = await DatasetPreparer.PrepareAsync(options, detector, Console.WriteLine, cancellationToken);
            var counts = prepared.Photos.GroupBy(p => p.Status).ToDictionary(g => g.Key, g => g.Count());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{prepared.Manifest.Images.Count} training image(s), {counts.GetValueOrDefault(PhotoStatus.HeldOut)} held out, {counts.GetValueOrDefault(PhotoStatus.Flagged)} flagged, {counts.GetValueOrDefault(PhotoStatus.Rejected)} rejected; trigger '{prepared.Manifest.Trigger}'."));
            Console.WriteLine($"Dataset: {options.OutDir} (kohya folder {prepared.Manifest.Folders[0].ImageDir})");
            Console.WriteLine($"QA report: {prepared.ReportHtml}");
            if (prepared.Manifest.Images.Count < 10)
            {
                Console.WriteLine($"note: {prepared.Manifest.Images.Count} training images is few; about 20 varied upper-body photos train a better face LoRA.");
            }

            return 0;
        }));
        return new Command("dataset", "Training datasets for face LoRAs.") { prepare };
    }
}
