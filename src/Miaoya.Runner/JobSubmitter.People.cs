using System.Globalization;
using Miaoya.Pipeline;
using Miaoya.Recipes;

namespace Miaoya.Runner;

/// <summary>
/// Several-person jobs (<see cref="JobSubmission.People"/>): the checks <c>miaoya run --person</c> makes
/// (<c>RunInputs.CheckPeople</c> in the pipeline), worded for the job API and naming the person's field
/// (<c>people[1].face_index</c>); the run itself is the pipeline's (<see cref="RunRequest.People"/>).
/// </summary>
public sealed partial class JobSubmitter
{
    /// <summary>
    /// The people of a submission, checked before anything is written: not mixed with the one-person fields, at most
    /// <see cref="JobSubmission.MaxPeople"/>, one person per face, each with what the recipe takes a person from, and
    /// each LoRA also against the boxes.
    /// </summary>
    private async Task CheckPeopleAsync(JobSubmission submission, Recipe recipe, CancellationToken cancellationToken)
    {
        const string OnePerson = "is for a one-person job; with people each person gives their own face_index, lora and faces.";
        if (submission.Lora is not null)
        {
            throw new JobSubmissionException("lora", $"lora {OnePerson}");
        }

        if (submission.FacePaths.Count > 0)
        {
            throw new JobSubmissionException("face", "face photos (face, faces) are for a one-person job; with people each person's photos go in their faces.");
        }

        if (submission.FaceIndex is not null)
        {
            throw new JobSubmissionException("face_index", $"face_index {OnePerson}");
        }

        if (submission.Candidates is not null || recipe.Candidates is not null)
        {
            throw new JobSubmissionException(submission.Candidates is not null ? "candidates" : "recipe", $"{(submission.Candidates is not null ? "candidates" : $"recipe {recipe.Name}")} renders candidates and keeps the one most like the person; with several people no one image is most like all of them. Use a recipe without candidates with people.");
        }

        if (submission.TriggerWords.Count > 0)
        {
            throw new JobSubmissionException("trigger", "trigger words would go into every person's prompt (and the whole-image pass); with people give each person their LoRA's trigger words in people[N].trigger.");
        }

        if (recipe.Finish is not null)
        {
            throw new JobSubmissionException("recipe", $"recipe {recipe.Name} ends in an ID photo (finish), which shows one person; use a recipe without a finish section with people.");
        }

        if (submission.People.Count > JobSubmission.MaxPeople)
        {
            throw new JobSubmissionException("people", $"{submission.People.Count} people; at most {JobSubmission.MaxPeople} are taken.");
        }

        var seen = new Dictionary<int, int>();
        for (var i = 0; i < submission.People.Count; i++)
        {
            var person = submission.People[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"people[{i}]");
            if (person.FaceIndex < 0)
            {
                throw new JobSubmissionException($"{at}.face_index", "faces are counted from 0 (the leftmost face).");
            }

            if (seen.TryGetValue(person.FaceIndex, out var earlier))
            {
                throw new JobSubmissionException($"{at}.face_index", string.Create(CultureInfo.InvariantCulture, $"people[{earlier}] already takes face {person.FaceIndex}; give each face one person (faces are counted from 0, left to right)."));
            }

            seen[person.FaceIndex] = i;
            LoraChoice? lora = null;
            if (person.Lora is not null)
            {
                try
                {
                    lora = LoraChoice.Parse(person.Lora);
                }
                catch (ArgumentException e)
                {
                    throw new JobSubmissionException($"{at}.lora", e.Message.Replace("--lora: ", "", StringComparison.Ordinal), e);
                }
            }

            if (lora is null && person.FacePaths.Count == 0)
            {
                throw new JobSubmissionException(at, "the person has neither a lora nor faces; give their face LoRA (lora), face photos (faces), or both, as the recipe needs.");
            }

            // As RunInputs.CheckPeople checks --person-trigger: plain words, and only with the LoRA they call up.
            if (PromptWords.TriggerProblem(person.TriggerWords) is { } triggerProblem)
            {
                throw new JobSubmissionException($"{at}.trigger", $"{triggerProblem.Replace("--lora", "lora", StringComparison.Ordinal)}.");
            }

            if (person.TriggerWords.Count > 0 && lora is null)
            {
                throw new JobSubmissionException($"{at}.trigger", "trigger words but no lora; a trigger word calls up the person's LoRA: give lora too, or leave trigger out.");
            }

            if (lora is null && recipe.Identity is null && recipe.Pipeline != PipelineKind.V3)
            {
                throw new JobSubmissionException($"{at}.lora", $"recipe {recipe.Name} takes each person from their face LoRA: give lora (name, with lora_weight or as name:weight); face photos alone need a recipe with an identity section (such as v4-faceid), or V3.");
            }

            if (person.FacePaths.Count == 0 && (recipe.Identity is not null || recipe.Pipeline == PipelineKind.V3))
            {
                throw new JobSubmissionException($"{at}.faces", recipe.Pipeline == PipelineKind.V3
                    ? $"recipe {recipe.Name} swaps each person's face in: give a face photo of the person."
                    : $"recipe {recipe.Name} takes each person's identity from face photos: give one or several.");
            }

            if (person.FacePaths.Count > JobSubmission.MaxFacePhotos)
            {
                throw new JobSubmissionException($"{at}.faces", $"{person.FacePaths.Count} face photos; at most {JobSubmission.MaxFacePhotos} are used per person.");
            }

            if (person.FacePaths.FirstOrDefault(p => !File.Exists(p)) is { } missing)
            {
                throw new JobSubmissionException($"{at}.faces", $"face photo {missing} does not exist.");
            }

            if (lora is not null && _loraProblem is not null && await _loraProblem(lora.Name, cancellationToken) is { } loraProblem)
            {
                throw new JobSubmissionException($"{at}.lora", loraProblem);
            }
        }
    }

    /// <summary>
    /// The submission's people as the pipeline takes them, by face left to right as <c>run --person</c> gives them, each
    /// with their trigger words (their LoRAs were checked by <see cref="CheckPeopleAsync"/>).
    /// </summary>
    private static PersonRequest[] Persons(JobSubmission submission) =>
        submission.People.OrderBy(p => p.FaceIndex)
            .Select(p => new PersonRequest(p.FaceIndex, p.Lora is { } l ? LoraChoice.Parse(l) : null, p.FacePaths) { TriggerWords = p.TriggerWords })
            .ToArray();

    /// <summary>
    /// A problem the pipeline found with one person of a several-person job (their face is not on the template, a photo of
    /// theirs has no face or several), as that person's field: <c>people[i].faces[j]</c> when the message names one of
    /// their photos, else <c>people[i].face_index</c>; the pipeline's <c>--person N</c> reads <c>face_index N</c>. Null
    /// for other problems and one-person jobs.
    /// </summary>
    private static (string Field, string Message)? PersonProblem(Exception e, JobSubmission submission)
    {
        if (submission.People.Count == 0 || e is not PipelineException { InputField: "person" or "face" } problem)
        {
            return null;
        }

        for (var i = 0; i < submission.People.Count; i++)
        {
            for (var j = 0; j < submission.People[i].FacePaths.Count; j++)
            {
                if (problem.Message.Contains(submission.People[i].FacePaths[j], StringComparison.Ordinal))
                {
                    return (string.Create(CultureInfo.InvariantCulture, $"people[{i}].faces[{j}]"), problem.Message);
                }
            }
        }

        if (problem.InputField != "person")
        {
            return null;
        }

        var message = problem.Message.Replace("--person ", "face_index ", StringComparison.Ordinal);
        for (var i = 0; i < submission.People.Count; i++)
        {
            var index = submission.People[i].FaceIndex.ToString(CultureInfo.InvariantCulture);
            if (problem.Message.Contains($"--person {index} ", StringComparison.Ordinal) || problem.Message.Contains($"--person {index}:", StringComparison.Ordinal))
            {
                return (string.Create(CultureInfo.InvariantCulture, $"people[{i}].face_index"), message);
            }
        }

        return ("people", message);
    }
}
