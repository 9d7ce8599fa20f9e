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

        var options = new FaceMaskOptions
        {
            Kind = settings.Kind == MaskKind.FaceNeck ? FaceMaskKind.FaceAndNeck : FaceMaskKind.Face,
            Grow = (float)settings.Grow,
            FeatherFraction = (float)settings.Feather,
            NeckLength = (float)settings.NeckLength,
        };
        if (run.HasPeople)
        {
            await MaskPeopleAsync(run, record, pixels, faces, source, options, cancellationToken);
            return;
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
            mask = FaceMasks.BuildPng(width, height, run.Face, options);
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
        var result = record.ResultAs<MaskResult>();
        if (run.HasPeople)
        {
            // One mask per person, in the order of the result's people (and of the run's).
            foreach (var person in run.People)
            {
                var at = result?.People?.ToList().FindIndex(p => p.FaceIndex == person.FaceIndex) ?? -1;
                if (at < 0 || at >= outputs.Count)
                {
                    throw new PipelineException($"step {Name}: the manifest holds no mask for face {person.FaceIndex}.") { Step = Name };
                }

                person.Face = result!.People![at].Face?.ToDetectedFace();
                person.Mask = outputs[at];
            }

            return;
        }

        run.Mask = outputs[0];
        run.Face = result?.Face?.ToDetectedFace();
    }

    /// <summary>
    /// Several people: each person's face, counted left to right, gets its own mask (mask-face-N.png), white over that
    /// face only, so each person's inpaint call can touch no one else's face. Faces of the template that no person takes
    /// are left as they are.
    /// </summary>
    private async Task MaskPeopleAsync(
        RunContext run, StepRecord record, SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24> pixels,
        IReadOnlyList<DetectedFace> faces, string source, FaceMaskOptions options, CancellationToken cancellationToken)
    {
        var templateName = Path.GetFileName(run.Request.TemplatePath);
        var people = new List<PersonFace>();
        foreach (var person in run.People)
        {
            try
            {
                person.Face = FaceSelection.SelectLeftToRight(faces, person.FaceIndex, templateName, "--person");
            }
            catch (FaceSelectionException e)
            {
                throw new PipelineException(source == "openpose" ? $"{e.Message} (faces found by the box's openpose face detector)" : e.Message, e) { Step = Name, InputField = "person" };
            }

            person.Mask = FaceMasks.BuildPng(pixels.Width, pixels.Height, person.Face, options);
            var file = await run.Folder.WriteAsync($"mask-{person.Tag}.png", person.Mask, cancellationToken);
            record.Outputs.Add(file);
            people.Add(new PersonFace(person.FaceIndex, FaceRecord.From(person.Face), file.File, Math.Round(SkinTone.Measure(pixels, person.Face).DeltaE, 2)));
        }

        record.SetResult(new MaskResult(source, faces.Count, null, null, people));
    }
}
