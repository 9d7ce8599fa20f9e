using Microsoft.Extensions.Logging;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using Miaoya.Recipes;
using SixLabors.ImageSharp;

namespace Miaoya.Pipeline;

/// <summary><c>faceswap</c> (V3): the person's face swapped into the template locally (insightface inswapper on ONNX Runtime).</summary>
internal sealed class FaceSwapStep : IPortraitStep
{
    public string Name => StepName.FaceSwap;

    public StepBoxUse BoxUse => StepBoxUse.None;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.FaceSwap!;
        var models = run.Request.ModelsDirectory!;
        var notes = new List<string>();

        // The repository's stand-in det_10g.onnx finds no face in a photo, so a folder of stand-ins detects with BlazeFace.
        var standInDetector = settings.Detector == FaceSwapDetector.Scrfd ? ModelRegistry.StandInDetectorNote(models) : null;
        if (standInDetector is not null)
        {
            notes.Add(standInDetector);
            run.Services.Logger.LogInformation("{Note}", standInDetector);
        }

        var paths = new FaceSwapModelPaths(
            Path.Combine(models, ModelRegistry.ArcFace.FileName),
            Path.Combine(models, ModelRegistry.Inswapper.FileName),
            settings.Detector == FaceSwapDetector.Scrfd && standInDetector is null ? Path.Combine(models, ModelRegistry.Det10g.FileName) : null);
        var swapper = run.Services.Swappers.Get(paths, ExecutionDevice.Parse(run.Request.Device), line =>
        {
            notes.Add(line);
            run.Services.Logger.LogInformation("{Note}", line);
        });
        var facePhoto = await run.Folder.ReadVerifiedAsync(run.Manifest.Inputs.Face!, cancellationToken)
            ?? throw new PipelineException($"{run.Folder.File(PortraitPipeline.FaceFileName)} is missing or changed.") { Step = Name };
        using var source = await FaceImages.LoadAsync(facePhoto, cancellationToken);
        var request = new FaceSwapRequest
        {
            SourceFaceIndex = settings.SourceFaceIndex,
            TargetFaceIndices = (run.Request.FaceIndex ?? settings.TargetFaceIndex) is { } index ? [index] : null,
        };
        var pixels = await run.PixelsAsync(cancellationToken);
        FaceSwapResult swap;
        try
        {
            swap = swapper.Swap(source, pixels, request, cancellationToken);
        }
        catch (FaceSelectionException e)
        {
            var which = e.Message.StartsWith("source", StringComparison.Ordinal) ? run.Request.FacePath ?? PortraitPipeline.FaceFileName : run.Request.TemplatePath;
            throw new PipelineException($"{Path.GetFileName(which)}: {e.Message} Use a photo with one clearly visible frontal face, or choose one with faceswap.source_face_index / --face-index.", e) { Step = Name };
        }

        using (swap)
        {
            var target = swap.TargetFaces[swap.SwappedTargetIndices[0]];
            run.Face = ToDetectedFace(target);
            ColourCorrectionRecord? correction = null;
            if (settings.ColourCorrection)
            {
                var applied = ColourTransfer.Apply(swap.Image, pixels, run.Face);
                correction = new ColourCorrectionRecord(
                    [Math.Round(applied.SwappedMean.L, 2), Math.Round(applied.SwappedMean.A, 2), Math.Round(applied.SwappedMean.B, 2)],
                    [Math.Round(applied.TemplateMean.L, 2), Math.Round(applied.TemplateMean.A, 2), Math.Round(applied.TemplateMean.B, 2)]);
            }

            var image = EncodedImage.FromPng(swap.Image);
            record.Outputs.Add(await run.Folder.WriteAsync("faceswap.png", image, cancellationToken));
            run.Current = image;
            record.SetResult(new FaceSwapStepResult(
                swapper.DetectorName,
                run.Request.Device,
                run.Request.StandInModels ? "tiny stand-in models, not insightface's (a real swap needs insightface's det_10g.onnx and w600k_r50.onnx from buffalo_l.zip, and inswapper_128.onnx, in the models folder)" : models,
                notes,
                swap.SourceFaces.Count,
                swap.TargetFaces.Count,
                swap.SwappedTargetIndices,
                FaceRecord.From(run.Face),
                swap.TimingsMs.ToDictionary(t => t.Key, t => Math.Round(t.Value, 1)),
                correction,
                Math.Round(SkinTone.Measure(swap.Image, run.Face).DeltaE, 2)));
        }
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        run.Current = outputs[0];
        run.Face = record.ResultAs<FaceSwapStepResult>()?.Face.ToDetectedFace();
    }

    /// <summary>The five insightface points as the detector's six landmarks (ears at the box's sides, eye height).</summary>
    private static DetectedFace ToDetectedFace(SwapFace face)
    {
        var p = face.Points;
        var mouth = new PointF((p.ImageLeftMouth.X + p.ImageRightMouth.X) / 2, (p.ImageLeftMouth.Y + p.ImageRightMouth.Y) / 2);
        var eyeY = (p.ImageLeftEye.Y + p.ImageRightEye.Y) / 2;
        return new DetectedFace(
            face.Box,
            [p.ImageLeftEye, p.ImageRightEye, p.Nose, mouth, new PointF(face.Box.Left, eyeY), new PointF(face.Box.Right, eyeY)],
            face.Score);
    }
}
