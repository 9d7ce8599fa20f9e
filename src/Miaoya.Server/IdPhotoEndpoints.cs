using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using Miaoya.Faces;
using Miaoya.IdPhoto;
using Miaoya.Imaging;
using Miaoya.Pipeline;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>
/// The ID-photo routes: <c>POST /v1/idphoto</c> queues a job of kind <c>idphoto</c> (the pipeline's <c>finish</c> step on the
/// uploaded photo, run like every job: queued in the store, placed and retried by the engine, followed with
/// <c>/v1/jobs/{id}</c>, its events and outputs, deleted with <c>DELETE /v1/jobs/{id}</c>); <c>POST /v1/idphoto/check</c>
/// answers the verdict of a finished photo at once; <c>GET /v1/idphoto/specs</c> lists the sizes.
/// </summary>
internal static class IdPhotoEndpoints
{
    public const string Tag = "idphoto";

    public static void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags(Tag);

        v1.MapPost("/idphoto", SubmitAsync)
            .WithName("SubmitIdPhoto")
            .WithSummary("Queue an ID-photo job: crop to a spec, background through a box's rembg, DPI, size target, print sheet, verdict")
            .WithDescription("multipart/form-data: file photo (one person, frontal; PNG, JPEG or WebP); fields spec (required: " + string.Join(", ", IdSpecs.BuiltInNames) +
                "), background (keep, white, blue, red, off-white, light-grey, #RRGGBB or gradient:TOP:BOTTOM, among the colours the spec allows; default: the spec's first), " +
                "dpi (300, 254 or 350; default: the spec's), kb (largest file size), sheet (6inch or a4), format (jpeg or png), identity. " +
                "Everything but the box's rembg is checked before the job is queued. The job has one step, finish; follow it with /v1/jobs/{id} and its events. " +
                "Its outputs: the photo (SPEC-DPIdpi.jpg or .png, also the job's final), idphoto-mask.png (the matte, when the background was replaced), sheet-6inch.jpg or sheet-a4.jpg, " +
                "and verdict.json (the same JSON as POST /v1/idphoto/check).")
            .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            {
                // Described here rather than with Accepts(), whose content-type check would answer other types with a bare 415.
                var form = await context.GetOrCreateSchemaAsync(typeof(IdPhotoSubmissionForm), null, cancellationToken);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType> { ["multipart/form-data"] = new() { Schema = form } },
                };
            })
            .AsJobSubmission();

        v1.MapPost("/idphoto/check", CheckAsync)
            .WithName("CheckIdPhoto")
            .WithSummary("Check a finished ID photo against a spec, rule by rule, at once (as miaoya idphoto check --json)")
            .WithDescription("multipart/form-data: file photo (the finished photo), optional file mask (its person matte, white = person, for the rim rule; " +
                "without it the rim rule is skipped), fields spec (required), dpi (default: the spec's), kb (also require at most this many KB). " +
                "200 with the verdict whether it passes or not; passed says which.")
            .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            {
                var form = await context.GetOrCreateSchemaAsync(typeof(IdPhotoCheckForm), null, cancellationToken);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType> { ["multipart/form-data"] = new() { Schema = form } },
                };
            })
            .RequireRateLimiting(MiaoyaServer.SubmissionLimiter)
            .Produces<IdPhotoVerdictView>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem(StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/idphoto/specs", Specs)
            .WithName("IdPhotoSpecs")
            .WithSummary("The ID-photo specs: size in mm and in pixels per DPI, head height, allowed backgrounds and formats, file-size limit")
            .Produces<IReadOnlyList<IdPhotoSpecView>>();
    }

    private static async Task<IResult> SubmitAsync(HttpContext context, ServerState state, CancellationToken cancellationToken)
    {
        StagedPhoto? staged = null;
        try
        {
            var form = await new SubmissionReader(state.Options).ReadIdPhotoAsync(context.Request, cancellationToken);
            staged = SubmissionReader.StagePhoto(form.Photo!, state.Options.UploadDirectory);
            var job = await state.Submitter.SubmitIdPhotoAsync(form.ToSubmission(staged.Path), cancellationToken);
            var view = JobViews.Job(job, await state.Eta.EstimateAsync(job, cancellationToken), context.Request.PathBase);
            state.Logger.LogInformation("Job {Job} queued (idphoto {Spec})", job.Id, view.IdPhoto?.Spec);
            return Results.Accepted($"{context.Request.PathBase}/v1/jobs/{job.Id}", view);
        }
        catch (FieldProblemException e)
        {
            return Problems.Field(e.Status, e.Field, e.Message);
        }
        catch (JobSubmissionException e)
        {
            var message = staged?.Scrub(e.Message) ?? e.Message;
            message = message.Replace(state.JobsDirectory, "(jobs)", StringComparison.Ordinal);
            return Problems.Field(StatusCodes.Status400BadRequest, e.Field, message);
        }
        finally
        {
            // The submitter has copied the photo into the job's folder (or refused it): the upload copy goes now.
            staged?.Dispose();
        }
    }

    private static async Task<IResult> CheckAsync(HttpContext context, ServerState state, CancellationToken cancellationToken)
    {
        IdPhotoForm form;
        IdSpec spec;
        try
        {
            form = await new SubmissionReader(state.Options).ReadIdPhotoCheckAsync(context.Request, cancellationToken);
            spec = IdPhotoRun.BuiltInSpec(form.Spec);
        }
        catch (FieldProblemException e)
        {
            return Problems.Field(e.Status, e.Field, e.Message);
        }
        catch (PipelineException e) when (e.InputField is { } field)
        {
            return Problems.Field(StatusCodes.Status400BadRequest, field, e.Message);
        }

        if (form.Dpi is { } dpi && !IdSpec.SupportedDpis.Contains(dpi))
        {
            return Problems.Field(StatusCodes.Status400BadRequest, "dpi", string.Create(CultureInfo.InvariantCulture, $"{dpi} dpi is not supported; use {string.Join(", ", IdSpec.SupportedDpis)}."));
        }

        if (form.Kb is <= 0)
        {
            return Problems.Field(StatusCodes.Status400BadRequest, "kb", "give a file size above 0 KB.");
        }

        var photo = form.Photo!;
        SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>? matte = null;
        try
        {
            if (form.Mask is { } mask)
            {
                using (var rgba = await mask.Image.DecodeAsync(cancellationToken))
                {
                    matte = PersonMattes.FromImage(rgba);
                }

                var size = photo.Image.Check(state.Options.MaxImageSide);
                if ((matte.Width, matte.Height) != size)
                {
                    return Problems.Field(StatusCodes.Status400BadRequest, "mask", string.Create(CultureInfo.InvariantCulture,
                        $"the matte is {matte.Width}×{matte.Height} px, the photo {size.Width}×{size.Height} px: send the photo's own matte (idphoto-mask.png of its job)."));
                }
            }

            var detector = context.RequestServices.GetRequiredService<IFaceDetector>();
            var report = ComplianceChecker.Check(
                photo.Image.Bytes.ToArray(), photo.Name, spec, detector, form.Dpi, maxKb: form.Kb, matte: matte,
                matteSource: matte is null ? null : form.Mask!.Name, cancellationToken: cancellationToken);
            return Results.Text(report.ToJson(indented: false), "application/json", System.Text.Encoding.UTF8);
        }
        catch (InvalidImageDataException e)
        {
            return Problems.Field(StatusCodes.Status400BadRequest, matte is null && form.Mask is not null ? "mask" : "photo", e.Message);
        }
        finally
        {
            matte?.Dispose();
        }
    }

    private static IdPhotoSpecView[] Specs() => [.. IdSpecs.BuiltIn.Select(s => new IdPhotoSpecView(
        s.Name,
        s.Title,
        s.WidthMm,
        s.HeightMm,
        s.Dpi,
        [.. IdSpec.SupportedDpis.Select(d => new IdPhotoPixelsView(d, s.PixelSize(d).Width, s.PixelSize(d).Height))],
        s.Backgrounds,
        s.Formats,
        s.MaxKb))];
}
