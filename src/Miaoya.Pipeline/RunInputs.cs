using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Recipes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Pipeline;

/// <summary>
/// Everything about a run's inputs that can be checked on this machine, checked before the run's first remote call and
/// before anything is written: the LoRA, trigger words, seed, face index, device and mask file, then (once the template
/// is decoded) that the template has the face the recipe's mask needs. A failure is a <see cref="PipelineException"/>
/// with <see cref="PipelineException.InputField"/> set: bad input, exit 2 / HTTP 400, never a resume hint.
/// </summary>
internal static class RunInputs
{

    public static void Check(RunRequest request)
    {
        var recipe = request.Recipe;
        if (Environment.GetEnvironmentVariable(PortraitPipeline.DisableInsightfaceVariable) is "1" or "true"
            && RecipeLicences.NonCommercial(recipe).FirstOrDefault(p => p.Where != "pipeline") is { } part)
        {
            // V3's own refusal (InputFiles) keeps its wording; this covers identity units and the ArcFace scorer.
            throw Bad("recipe", $"recipe {recipe.Name}: {part.Where}: {part.What}, so it is disabled on this deployment ({PortraitPipeline.DisableInsightfaceVariable}=1). Use a recipe without it, such as v1-face or v2 with the person's LoRA{(part.Where == "candidates.scorer" ? ", or candidates.scorer: sface" : "")}.");
        }

        if (request.People.Count > 0)
        {
            CheckPeople(request);
        }
        else if (request.Lora is null && recipe.Identity is null)
        {
            throw Bad("lora", $"recipe {recipe.Name} takes the person from their face LoRA: give --lora NAME[:WEIGHT] (or use a recipe with an identity section, such as v4-faceid, with --face PHOTO).");
        }

        if (request.People.Count == 0 && (recipe.Identity is not null || recipe.Candidates is not null) && request.FacePaths.Count == 0)
        {
            throw Bad("face", recipe.Identity is not null
                ? $"recipe {recipe.Name} takes the person's identity from face photos: give --face PHOTO (one or several)."
                : $"recipe {recipe.Name} scores its candidates against the person's face photos: give --face PHOTO (one or several).");
        }

        if (request.FacePaths.Count > RunRequest.MaxFacePhotos)
        {
            throw Bad("face", $"--face: {request.FacePaths.Count} photos; at most {RunRequest.MaxFacePhotos} are used.");
        }

        if (request.Lora is { } choice && LoraChoice.NameProblem(choice.Name) is { } lora)
        {
            throw Bad("lora", $"--lora: '{Limits.UserText.Quote(choice.Name)}' {lora}.");
        }

        if (request.Lora?.Weight is { } weight && (!double.IsFinite(weight) || weight is < 0 or > 2))
        {
            throw Bad("lora", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--lora: weight {weight} is outside 0..2."));
        }

        if (PromptWords.TriggerProblem(request.TriggerWords) is { } trigger)
        {
            throw Bad("trigger", $"--trigger: {trigger}.");
        }

        if (PromptWords.SeedProblem(request.Seed) is { } seed)
        {
            throw Bad("seed", $"--seed: {seed}.");
        }

        if (request.FaceIndex is < 0)
        {
            throw Bad("face_index", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--face-index {request.FaceIndex}: faces are counted from 0 (the largest)."));
        }

        try
        {
            ExecutionDevice.Parse(request.Device);
        }
        catch (FormatException e)
        {
            throw Bad("device", e.Message);
        }

        if (recipe.Candidates is { } candidates)
        {
            CheckScorer(request, candidates);
        }

        if (request.MaskFile is { } mask && !File.Exists(mask))
        {
            throw Bad("mask", $"mask file {mask}: not found.");
        }
    }

    /// <summary>
    /// A several-person run: not mixed with the one-person options, one person per face, each with what the recipe
    /// takes a person from (a LoRA, face photos, or either), and no recipe part that works on the whole image for one person.
    /// </summary>
    private static void CheckPeople(RunRequest request)
    {
        var recipe = request.Recipe;
        if (request.Lora is not null || request.FacePaths.Count > 0)
        {
            throw Bad(request.Lora is not null ? "lora" : "face", "--person gives each person their own LoRA and face photos (--person INDEX=LORA[:WEIGHT], --person-face INDEX=PHOTO); --lora and --face are for a one-person run and cannot be added to it.");
        }

        if (request.FaceIndex is not null)
        {
            throw Bad("face_index", "--face-index picks the one face of a one-person run; with --person each person names their own face (INDEX, counted from 0 left to right).");
        }

        if (request.MaskFile is not null || recipe.Mask?.Source == MaskSource.File)
        {
            throw Bad("mask", $"{(request.MaskFile is not null ? "--mask" : $"recipe {recipe.Name}: mask.source: file")} gives one mask for one face; a several-person run masks each person's face itself (mask.source: detector or openpose).");
        }

        if (request.TriggerWords.Count > 0)
        {
            throw Bad("trigger", "--trigger: trigger words would go into every person's prompt (and the whole-image pass); with --person give each person their LoRA's trigger words with --person-trigger INDEX=WORD.");
        }

        if (recipe.Candidates is not null)
        {
            throw Bad("recipe", $"recipe {recipe.Name} renders candidates and keeps the one most like the person; with several people no one image is most like all of them. Use a recipe without candidates (or --set candidates=null) with --person.");
        }

        if (recipe.Finish is not null)
        {
            throw Bad("recipe", $"recipe {recipe.Name} ends in an ID photo (finish), which shows one person; use a recipe without a finish section with --person.");
        }

        var seen = new HashSet<int>();
        foreach (var person in request.People)
        {
            var who = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--person {person.FaceIndex}");
            if (person.FaceIndex < 0)
            {
                throw Bad("person", $"{who}: faces are counted from 0 (the leftmost face).");
            }

            if (!seen.Add(person.FaceIndex))
            {
                throw Bad("person", $"{who}: two people are given for face {person.FaceIndex}; give each face one person (faces are counted from 0, left to right).");
            }

            if (person.Lora is null && person.FacePaths.Count == 0)
            {
                throw Bad("person", $"{who}: the person has neither a LoRA nor face photos; give --person {person.FaceIndex}=LORA[:WEIGHT] and/or --person-face {person.FaceIndex}=PHOTO.");
            }

            if (person.TriggerWords.Count > 0 && person.Lora is null)
            {
                throw Bad("person", $"{who}: trigger words are given but no LoRA; a trigger word calls up a LoRA: give --person {person.FaceIndex}=LORA[:WEIGHT] too, or leave the trigger out.");
            }

            if (person.Lora is null && recipe.Identity is null && recipe.Pipeline != PipelineKind.V3)
            {
                throw Bad("person", $"{who}: recipe {recipe.Name} takes each person from their face LoRA: give --person {person.FaceIndex}=LORA[:WEIGHT] (face photos alone need a recipe with an identity section, or V3).");
            }

            if (person.FacePaths.Count == 0 && (recipe.Identity is not null || recipe.Pipeline == PipelineKind.V3))
            {
                throw Bad("person", recipe.Pipeline == PipelineKind.V3
                    ? $"{who}: recipe {recipe.Name} swaps each person's face in: give --person-face {person.FaceIndex}=PHOTO."
                    : $"{who}: recipe {recipe.Name} takes each person's identity from face photos: give --person-face {person.FaceIndex}=PHOTO (one or several).");
            }

            if (person.FacePaths.Count > RunRequest.MaxFacePhotos)
            {
                throw Bad("person", $"{who}: {person.FacePaths.Count} photos; at most {RunRequest.MaxFacePhotos} are used per person.");
            }

            if (person.Lora is { } choice && LoraChoice.NameProblem(choice.Name) is { } lora)
            {
                throw Bad("person", $"{who}: LoRA '{Limits.UserText.Quote(choice.Name)}' {lora}.");
            }

            if (PromptWords.TriggerProblem(person.TriggerWords) is { } trigger)
            {
                throw Bad("person", $"{who}: trigger {trigger}.");
            }

            if (person.Lora?.Weight is { } weight && (!double.IsFinite(weight) || weight is < 0 or > 2))
            {
                throw Bad("person", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{who}: LoRA weight {weight} is outside 0..2."));
            }
        }
    }

    /// <summary>
    /// When the recipe's mask comes from the built-in detector, the same detection the mask step runs: no face, or no
    /// face at <see cref="RunRequest.FaceIndex"/>, is refused now rather than after the tagger's call.
    /// </summary>
    public static void CheckFaces(RunRequest request, Image<Rgb24> template, IFaceDetector? detector, CancellationToken cancellationToken)
    {
        var mask = request.Recipe.Mask;
        if (request.People.Count > 0)
        {
            // Each person's face, counted left to right, must be there; openpose finds faces on the box, later.
            if (detector is not null && mask?.Source != MaskSource.Openpose)
            {
                var found = detector.Detect(template, cancellationToken);
                foreach (var person in request.People)
                {
                    try
                    {
                        FaceSelection.SelectLeftToRight(found, person.FaceIndex, Path.GetFileName(request.TemplatePath), "--person");
                    }
                    catch (FaceSelectionException e)
                    {
                        throw Bad(found.Count == 0 ? "template" : "person", e.Message);
                    }
                }
            }

            return;
        }

        if (detector is null || mask is null || mask.Source != MaskSource.Detector || request.MaskFile is not null)
        {
            return;
        }

        var faces = detector.Detect(template, cancellationToken);
        try
        {
            FaceSelection.Select(faces, request.FaceIndex, Path.GetFileName(request.TemplatePath));
        }
        catch (FaceSelectionException e)
        {
            throw Bad(faces.Count == 0 ? "template" : "face_index", e.Message);
        }
    }

    /// <summary>The candidates' scorer model: where it is and whether this deployment may use it.</summary>
    private static void CheckScorer(RunRequest request, CandidatesSettings candidates)
    {
        // The ArcFace scorer on a deployment that disables insightface was refused with the other non-commercial parts.
        var word = RecipeYaml.Word(candidates.Scorer);
        var path = SelectStep.ScorerModelPath(request, candidates);
        if (request.ModelsDirectory is null || !File.Exists(path))
        {
            var file = Path.GetFileName(path);
            var where = Likeness.FaceScorer.Origin(SelectStep.KindOf(candidates));
            throw Bad("models", request.ModelsDirectory is null
                ? $"scoring candidates (candidates.scorer {word}) needs {file}: give --models DIR holding it (from {where})."
                : $"--models {request.ModelsDirectory}: missing {file}, the candidates' {word} scorer (from {where}).");
        }
    }

    private static PipelineException Bad(string field, string message) => new(message) { Step = "template", InputField = field };
}
