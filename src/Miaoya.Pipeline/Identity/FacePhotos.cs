using Miaoya.Faces;
using Miaoya.Imaging;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>The person's face photos as the identity step and the candidates' scorer read them.</summary>
internal static class FacePhotos
{
    /// <summary>The person's face photos as the manifest records them: face.png, face-2.png, … (a one-photo run records <c>face</c> alone).</summary>
    public static IReadOnlyList<FileRecord> Files(ManifestInputs inputs) => inputs.Faces ?? (inputs.Face is { } face ? [face] : []);

    /// <summary>
    /// Each face photo of the run folder, checked against the manifest's sha256, with its name as the user gave it (its
    /// source path; else its run-folder file). A missing or changed photo stops <paramref name="step"/>.
    /// </summary>
    public static async Task<IReadOnlyList<(string Name, EncodedImage Photo)>> ReadAsync(RunContext run, string step, CancellationToken cancellationToken)
    {
        var inputs = run.Manifest.Inputs;
        var files = Files(inputs);
        var photos = new List<(string, EncodedImage)>(files.Count);
        for (var i = 0; i < files.Count; i++)
        {
            var name = inputs.FaceSources?.ElementAtOrDefault(i) ?? (i == 0 ? inputs.FaceSource : null) ?? files[i].File;
            var encoded = await run.Folder.ReadVerifiedAsync(files[i], cancellationToken)
                ?? throw new PipelineException($"{run.Folder.File(files[i].File)} is missing or changed; the run cannot go on.") { Step = step };
            photos.Add((name, encoded));
        }

        return photos;
    }

    /// <summary>One person's face photos of a several-person run, checked against the manifest, named by their source paths.</summary>
    public static async Task<IReadOnlyList<(string Name, EncodedImage Photo)>> ReadPersonAsync(RunContext run, int faceIndex, string step, CancellationToken cancellationToken)
    {
        var person = run.Manifest.Inputs.People?.FirstOrDefault(p => p.FaceIndex == faceIndex)
            ?? throw new PipelineException($"the manifest records no person for face {faceIndex}; the run cannot go on.") { Step = step };
        var photos = new List<(string, EncodedImage)>(person.Faces.Count);
        for (var i = 0; i < person.Faces.Count; i++)
        {
            var encoded = await run.Folder.ReadVerifiedAsync(person.Faces[i], cancellationToken)
                ?? throw new PipelineException($"{run.Folder.File(person.Faces[i].File)} is missing or changed; the run cannot go on.") { Step = step };
            photos.Add((person.FaceSources.ElementAtOrDefault(i) ?? person.Faces[i].File, encoded));
        }

        return photos;
    }

    /// <summary>
    /// The one face of a face photo. None, or more than one, is bad input naming the photo: the extension's insightface
    /// takes the largest face with only a warning (Mikubill/sd-webui-controlnet@56cec5b scripts/preprocessor/legacy/processor.py:647-700),
    /// so a group photo would condition the image on whoever is biggest.
    /// </summary>
    public static DetectedFace SingleFace(SixLabors.ImageSharp.Image<Rgb24> photo, IFaceDetector detector, string name, CancellationToken cancellationToken)
    {
        var faces = detector.Detect(photo, cancellationToken);
        return faces.Count switch
        {
            1 => faces[0],
            0 => throw new PipelineException($"face photo {name}: no face found; give a photo with the person's face clearly visible and frontal.") { Step = "template", InputField = "face" },
            _ => throw new PipelineException($"face photo {name}: {faces.Count} faces found; give a photo of the person alone (or crop it to their face).") { Step = "template", InputField = "face" },
        };
    }
}
