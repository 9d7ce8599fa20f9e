using Miaoya.Jobs;
using Miaoya.Limits;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Runner;

/// <summary>ID-photo jobs: a job whose one step is the pipeline's <c>finish</c> on the uploaded photo (<see cref="IdPhotoRun"/>).</summary>
public sealed partial class JobSubmitter
{
    /// <summary>
    /// Validates and queues an ID-photo job: the settings as <c>miaoya idphoto</c> checks them (a built-in spec, a
    /// background the spec allows, DPI, size target, sheet, format) before the photo is read, then the photo (one face,
    /// when the submitter has the face detector); the job's folder is written and the job created with the one step
    /// <c>finish</c>. Bad input throws <see cref="JobSubmissionException"/> naming the field; nothing is left behind.
    /// </summary>
    public async Task<JobRecord> SubmitIdPhotoAsync(IdPhotoSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (submission.Identity is { } identity && UserText.Problem(identity, InputLimits.Text.MaxIdentityChars) is { } identityProblem)
        {
            throw new JobSubmissionException("identity", $"{identityProblem}.");
        }

        var sheet = submission.Sheet?.Trim().ToLowerInvariant() switch
        {
            null or "" or "none" => FinishSheet.None,
            "6inch" => FinishSheet.SixInch,
            "a4" => FinishSheet.A4,
            _ => throw new JobSubmissionException("sheet", $"'{UserText.Quote(submission.Sheet)}' is not a print sheet; use 6inch (4R, 152×102 mm), a4 or none."),
        };
        FinishFormat? format = submission.Format?.Trim().ToLowerInvariant() switch
        {
            null or "" => null,
            "jpeg" or "jpg" => FinishFormat.Jpeg,
            "png" => FinishFormat.Png,
            _ => throw new JobSubmissionException("format", $"'{UserText.Quote(submission.Format)}' is not a format; use jpeg or png."),
        };

        var id = NewJob.NewJobId();
        var folder = Path.GetFullPath(Path.Combine(_options.JobsDirectory, id));
        var request = new IdPhotoRequest
        {
            PhotoPath = submission.PhotoPath,
            OutputDirectory = folder,
            Spec = submission.Spec ?? "",
            Background = submission.Background,
            Dpi = submission.Dpi,
            Kb = submission.Kb,
            Sheet = sheet,
            Format = format,
        };
        FinishSettings settings;
        try
        {
            settings = IdPhotoRun.Settings(request);
            if (!File.Exists(submission.PhotoPath))
            {
                throw new JobSubmissionException("photo", $"photo {submission.PhotoPath} does not exist.");
            }

            await IdPhotoRun.PrepareAsync(request, _faceDetector, cancellationToken);
        }
        catch (Exception e) when (e is not JobSubmissionException && RunFailures.Classify(e) is FailureKind.Input or FailureKind.Request)
        {
            DeleteQuietly(folder);
            throw new JobSubmissionException((e as PipelineException)?.InputField ?? "photo", e.Message, e);
        }
        catch
        {
            DeleteQuietly(folder);
            throw;
        }

        var inputs = new JobInputs(
            IdPhotoRun.Kind, IdPhotoRun.Kind, null, null, submission.Identity, Path.GetFileName(submission.PhotoPath), -1, [],
            IdPhotoRun.Kind,
            new IdPhotoInputs(
                settings.Spec, settings.Background, settings.Dpi, settings.Kb,
                settings.Sheet switch { FinishSheet.SixInch => "6inch", FinishSheet.A4 => "a4", _ => "none" },
                settings.Format switch { FinishFormat.Jpeg => "jpeg", FinishFormat.Png => "png", _ => null }));
        try
        {
            return await _store.CreateJobAsync(
                new NewJob
                {
                    Id = id,
                    Recipe = IdPhotoRun.Kind,
                    InputsJson = inputs.ToJson(),
                    OutputFolder = folder,
                    Steps = [StepName.Finish],
                },
                CancellationToken.None);
        }
        catch
        {
            DeleteQuietly(folder);
            throw;
        }
    }
}
