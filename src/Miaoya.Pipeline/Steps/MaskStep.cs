using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi.ControlNet;

namespace Miaoya.Pipeline;

/// <summary><c>mask</c> (V1, V2): the face (or face and neck) mask, from the built-in detector, the box's openpose, or a file.</summary>
internal sealed class MaskStep : IPortraitStep
{
    /// <summary>The resolution the box's openpose face detector is asked to work at.</summary>
    private const int DetectResolution = 512;

    public string Name => StepName.Mask;

    public StepBoxUse BoxUse => StepBoxUse.None;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Mask!;
        var pixels = await run.PixelsAsync(cancellationToken);
        var (width, height) = (pixels.Width, pixels.Height);
        var maskFile = run.Request.MaskFile ?? (settings.Source == MaskSource.File ? settings.File : null);
        IReadOnlyList<DetectedFace> faces;
        string source;
        if (settings.Source == MaskSource.Openpose && maskFile is null)
        {
            var detect = await BoxCalls.RunAsync(run, record, BoxCalls.Needs(run, Name, generation: false), (box, ct) => box.Client.DetectAsync(
                new ControlNetDetectRequest { ControlnetModule = "openpose_faceonly", ControlnetInputImages = [run.Template], ControlnetProcessorRes = DetectResolution },
                ct), cancellationToken);
            faces = OpenPoseFaces.From(detect, width, height, DetectResolution);
            source = "openpose";
        }
        else
        {
            faces = run.Services.Detector.Detect(pixels, cancellationToken).OrderByDescending(f => f.Size).ToArray();
            source = maskFile is null ? "detector" : "file";
        }

        EncodedImage mask;
        if (maskFile is not null)
        {
            mask = await InputFiles.LoadMaskAsync(maskFile, width, height, cancellationToken);
            run.Face = faces.Count == 0 ? null : faces[Math.Clamp(run.Request.FaceIndex ?? 0, 0, faces.Count - 1)];
        }
        else
        {
            var templateName = Path.GetFileName(run.Request.TemplatePath);
            if (faces.Count == 0 && source == "openpose")
            {
                throw new PipelineException($"{templateName}: the box's openpose face detector found no face. Use a photo with one clearly visible frontal face, set mask.source: detector, or give a mask file with --mask.") { Step = Name };
            }

            run.Face = FaceSelection.Select(faces, run.Request.FaceIndex, templateName);
            mask = FaceMasks.BuildPng(width, height, run.Face, new FaceMaskOptions
            {
                Kind = settings.Kind == MaskKind.FaceNeck ? FaceMaskKind.FaceAndNeck : FaceMaskKind.Face,
                Grow = (float)settings.Grow,
                FeatherFraction = (float)settings.Feather,
                NeckLength = (float)settings.NeckLength,
            });
        }

        run.Mask = mask;
        record.SetResult(new MaskResult(
            source,
            faces.Count,
            run.Face is { } face ? FaceRecord.From(face) : null,
            run.Face is { } measured ? Math.Round(SkinTone.Measure(pixels, measured).DeltaE, 2) : null));
        record.Outputs.Add(await run.Folder.WriteAsync("mask.png", mask, cancellationToken));
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        run.Mask = outputs[0];
        run.Face = record.ResultAs<MaskResult>()?.Face?.ToDetectedFace();
    }
}
