using Microsoft.Extensions.Logging;
using Miaoya.Faces;
using Miaoya.IdPhoto;
using Miaoya.Imaging;
using Miaoya.Recipes;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>finish</c>, after the recipe's last step: the final image made into an ID photo (Miaoya.IdPhoto: geometry, rembg
/// background on a box, DPI, size target, sheet) with its compliance verdict, all written into the run folder; the
/// verdict is the step's result and marks the photo as AI-generated. In an ID-photo run (<see cref="IdPhotoRun"/>) it is
/// the only step and works on the uploaded photo, document-safe. A failing verdict does not fail the run (the files
/// are there to inspect); no face or an unusable spec does, and is not retried (the same photo fails the same way).
/// </summary>
internal sealed class FinishStep : IPortraitStep
{
    public string Name => StepName.Finish;

    public StepBoxUse BoxUse => StepBoxUse.None;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Plan.Finish ?? throw new PipelineException($"{run.Label} has no finish section.") { Step = Name };
        FinishResult result;
        try
        {
            var options = new FinishOptions
            {
                Spec = IdSpecs.FindBuiltIn(settings.Spec),
                Background = BackgroundFill.Parse(settings.Background),
                Dpi = settings.Dpi,
                MaxKb = settings.Kb,
                Format = settings.Format switch { FinishFormat.Png => PhotoFormat.Png, FinishFormat.Jpeg => PhotoFormat.Jpeg, _ => null },
                Sheet = settings.Sheet switch { FinishSheet.SixInch => SheetSize.SixInch, FinishSheet.A4 => SheetSize.A4, _ => null },
                Generated = run.Plan.Generated,
            };
            using var pixels = await FaceImages.LoadAsync(run.Current ?? run.Template, cancellationToken);
            var detector = run.Services.Detector;
            result = !options.Background.Keep
                ? await BoxCalls.RunAsync(run, record, BoxCalls.Needs(run, Name, generation: false), (box, ct) => IdPhotoFinisher.FinishAsync(pixels, options, detector, box.Client, ct), cancellationToken)
                : await IdPhotoFinisher.FinishAsync(pixels, options, detector, null, cancellationToken);
        }
        catch (Exception e) when (e is IdPhotoException or IdSpecException or FormatException or ArgumentException)
        {
            throw new PipelineException($"step finish: {e.Message}", e) { Step = Name, Final = true };
        }

        record.Outputs.Add(await run.Folder.WriteAsync(result.FileName, result.Photo.Bytes, cancellationToken));
        if (result.Mask is { } mask)
        {
            record.Outputs.Add(await run.Folder.WriteAsync("idphoto-mask.png", mask, cancellationToken));
        }

        if (result.Sheet is { } sheet)
        {
            record.Outputs.Add(await run.Folder.WriteAsync($"sheet-{(settings.Sheet == FinishSheet.A4 ? "a4" : "6inch")}.jpg", sheet, cancellationToken));
        }

        record.Outputs.Add(await run.Folder.WriteTextAsync("verdict.json", result.Verdict.ToJson(), cancellationToken));
        var failed = result.Verdict.Rules.Where(r => !r.Passed).Select(r => r.Id).ToArray();
        record.SetResult(new FinishStepResult(
            settings.Spec, result.Dpi, settings.Background, Math.Round(result.Photo.Kilobytes, 1), result.Photo.SizeNote, result.Verdict.Passed,
            failed, result.Warnings, run.Plan.Generated, ComplianceReport.AuthorityNote));
        if (!result.Verdict.Passed)
        {
            run.Services.Logger.LogWarning("Finish of {Recipe}: the ID photo fails {Rules} of {Spec}", run.Plan.Name, string.Join(", ", failed), settings.Spec);
        }
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        // Nothing later needs it: finish is the last step.
    }
}
