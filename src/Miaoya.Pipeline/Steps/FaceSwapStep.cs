using System.Globalization;
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
        if (run.HasPeople)
        {
            await SwapPeopleAsync(run, record, swapper, notes, models, cancellationToken);
            return;
        }

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
        var result = record.ResultAs<FaceSwapStepResult>();
        if (run.HasPeople)
        {
            foreach (var person in run.People)
            {
                person.Face = result?.People?.FirstOrDefault(p => p.FaceIndex == person.FaceIndex)?.Face?.ToDetectedFace()
                    ?? throw new PipelineException($"step {Name}: the manifest holds no face for face {person.FaceIndex}.") { Step = Name };
            }

            return;
        }

        run.Face = result?.Face.ToDetectedFace();
    }

    /// <summary>
    /// Several people: each person's first photo swapped into their face (counted left to right on the template by the
    /// run's detector), one person after another on the running result. The swapper counts faces its own way (largest
    /// first, with its own detector), so each person's face is found among the swapper's detections as the one that
    /// overlaps it most.
    /// </summary>
    private async Task SwapPeopleAsync(RunContext run, StepRecord record, FaceSwapper swapper, List<string> notes, string models, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.FaceSwap!;
        var pixels = await run.PixelsAsync(cancellationToken);
        var templateName = Path.GetFileName(run.Request.TemplatePath);
        var found = run.Services.Detector.Detect(pixels, cancellationToken);
        var current = pixels.Clone();
        try
        {
            var people = new List<PersonFace>();
            var swapped = new List<int>();
            var timings = new Dictionary<string, double>();
            var sourceFaces = 0;
            ColourCorrectionRecord? correction = null;
            foreach (var person in run.People)
            {
                DetectedFace wanted;
                try
                {
                    wanted = FaceSelection.SelectLeftToRight(found, person.FaceIndex, templateName, "--person");
                }
                catch (FaceSelectionException e)
                {
                    throw new PipelineException(e.Message, e) { Step = Name, InputField = "person" };
                }

                var targets = swapper.Detect(current, cancellationToken);
                var target = Enumerable.Range(0, targets.Count).Select(i => (Index: i, Overlap: Overlap(targets[i].Box, wanted.Box))).DefaultIfEmpty((Index: -1, Overlap: 0.0)).MaxBy(t => t.Overlap);
                if (target.Index < 0 || target.Overlap < 0.3)
                {
                    throw new PipelineException(string.Create(CultureInfo.InvariantCulture, $"{templateName}: the face swapper's {swapper.DetectorName} detector finds no face where face {person.FaceIndex} is (x {wanted.Box.X:0}, y {wanted.Box.Y:0}); it found {targets.Count}.")) { Step = Name };
                }

                var (photoName, photo) = (await FacePhotos.ReadPersonAsync(run, person.FaceIndex, Name, cancellationToken))[0];
                using var source = await FaceImages.LoadAsync(photo, cancellationToken);
                FaceSwapResult swap;
                try
                {
                    swap = swapper.Swap(source, current, new FaceSwapRequest { SourceFaceIndex = settings.SourceFaceIndex, TargetFaceIndices = [target.Index] }, cancellationToken);
                }
                catch (FaceSelectionException e)
                {
                    throw new PipelineException($"{Path.GetFileName(photoName)}: {e.Message} Use a photo with one clearly visible frontal face.", e) { Step = Name };
                }

                using (swap)
                {
                    person.Face = ToDetectedFace(swap.TargetFaces[target.Index]);
                    if (settings.ColourCorrection)
                    {
                        var applied = ColourTransfer.Apply(swap.Image, pixels, person.Face);
                        correction ??= new ColourCorrectionRecord(
                            [Math.Round(applied.SwappedMean.L, 2), Math.Round(applied.SwappedMean.A, 2), Math.Round(applied.SwappedMean.B, 2)],
                            [Math.Round(applied.TemplateMean.L, 2), Math.Round(applied.TemplateMean.A, 2), Math.Round(applied.TemplateMean.B, 2)]);
                    }

                    current.Dispose();
                    current = swap.Image.Clone();
                    sourceFaces += swap.SourceFaces.Count;
                    swapped.Add(target.Index);
                    foreach (var (stage, ms) in swap.TimingsMs)
                    {
                        timings[stage] = Math.Round(timings.GetValueOrDefault(stage) + ms, 1);
                    }
                }

                var file = await run.Folder.WriteAsync($"{Name}-{person.Tag}.png", EncodedImage.FromPng(current), cancellationToken);
                record.Outputs.Add(file);
                people.Add(new PersonFace(person.FaceIndex, FaceRecord.From(person.Face), file.File, Math.Round(SkinTone.Measure(current, person.Face).DeltaE, 2)));
            }

            var image = EncodedImage.FromPng(current);
            record.Outputs.Insert(0, await run.Folder.WriteAsync("faceswap.png", image, cancellationToken));
            run.Current = image;
            record.SetResult(new FaceSwapStepResult(
                swapper.DetectorName,
                run.Request.Device,
                run.Request.StandInModels ? "tiny stand-in models, not insightface's (a real swap needs insightface's det_10g.onnx and w600k_r50.onnx from buffalo_l.zip, and inswapper_128.onnx, in the models folder)" : models,
                notes,
                sourceFaces,
                found.Count,
                swapped,
                people[0].Face!,
                timings,
                correction,
                people.Max(p => p.DeltaE ?? 0),
                people));
        }
        finally
        {
            current.Dispose();
        }
    }

    /// <summary>Intersection over union of two boxes.</summary>
    private static double Overlap(RectangleF a, RectangleF b)
    {
        var i = RectangleF.Intersect(a, b);
        if (i.Width <= 0 || i.Height <= 0)
        {
            return 0;
        }

        var inter = (double)i.Width * i.Height;
        return inter / ((a.Width * a.Height) + (b.Width * b.Height) - inter);
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
