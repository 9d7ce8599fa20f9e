using System.Globalization;
using Miaoya.Limits;
using Miaoya.Recipes;
using Miaoya.Runner;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Cli.Commands;

/// <summary>
/// One person of a several-person identity: the face they take (from 0, left to right), their LoRA, their face photos and
/// their LoRA's trigger words.
/// </summary>
internal sealed record BatchPerson(int FaceIndex, string? Lora, IReadOnlyList<string> Faces)
{
    /// <summary>Their LoRA's trigger words, in their prompt only.</summary>
    public IReadOnlyList<string> Trigger { get; init; } = [];

    /// <summary>
    /// How the person goes into a job id: <c>INDEX=LORA|photo|photo</c>, then their trigger words after a NUL (which no
    /// path holds) when they have any, so the ids of people without trigger words stay what they were.
    /// </summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{FaceIndex}={Lora}|{string.Join('|', Faces)}")
        + (Trigger.Count > 0 ? "\0trigger=" + string.Join(',', Trigger) : "");
}

/// <summary>
/// An identity's <c>people</c> (docs/multi-person.md): several people in one template, each with the face they take,
/// their LoRA and their face photos; the checks <c>run --person</c> makes that need no template (the faces on each
/// template are checked with the rest of an entry before anything is queued).
/// </summary>
internal sealed partial class BatchFile
{
    private static readonly string[] PersonKeys = ["face_index", "lora", "trigger", "face"];

    /// <summary>
    /// An identity's <c>people</c>: a list of <c>{face_index, lora, trigger, face}</c>, one person per face (counted from 0
    /// left to right), at most <see cref="JobSubmission.MaxPeople"/>; the same shape as the job API's <c>people</c>. A
    /// person's <c>trigger</c> is written as an identity's (words, or a list of them) and needs their <c>lora</c>.
    /// </summary>
    private List<BatchPerson> ParsePeople(YamlMappingNode map, string path)
    {
        var people = new List<BatchPerson>();
        if (Get(map, "people") is not { } node)
        {
            return people;
        }

        var items = Items(node, $"{path}.people").ToList();
        if (items.Count > JobSubmission.MaxPeople)
        {
            Problem($"{path}.people", $"{items.Count} people; at most {JobSubmission.MaxPeople} are taken", node);
        }

        foreach (var (item, k) in items)
        {
            var at = $"{path}.people[{k}]";
            if (item is not YamlMappingNode person)
            {
                Problem(at, "expected a mapping with face_index (the face, from 0 left to right), lora, trigger (words, or a list of them) and face (a photo, or a list of photos)", item);
                continue;
            }

            CheckKeys(person, at, PersonKeys);
            var indexText = Scalar(person, "face_index", at, required: true);
            var index = -1;
            if (indexText is not null && (!int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out index) || index < 0))
            {
                Problem($"{at}.face_index", $"\"{UserText.Quote(indexText)}\" is not a face index (0, 1, 2, … counting the template's faces left to right)", Get(person, "face_index"));
                index = -1;
            }
            else if (index >= 0 && people.FirstOrDefault(p => p.FaceIndex == index) is { } earlier)
            {
                Problem($"{at}.face_index", $"people[{people.IndexOf(earlier)}] already takes face {index}; give each face one person", Get(person, "face_index"));
            }

            var lora = NormalLora(Scalar(person, "lora", at, required: false), person, at);

            var trigger = ParseTrigger(person, at);
            if (trigger.Count > 0 && lora is null)
            {
                Problem($"{at}.trigger", "trigger words but no lora; a trigger word calls up the person's LoRA: give lora too, or leave trigger out", Get(person, "trigger"));
            }

            var faces = ParseFaces(person, at);
            if (lora is null && faces.Count == 0 && indexText is not null)
            {
                Problem(at, "the person has neither a lora nor a face photo; give lora, face, or both, as the recipes need", person);
            }

            if (index >= 0)
            {
                people.Add(new BatchPerson(index, lora, faces) { Trigger = trigger });
            }
        }

        return people;
    }

    /// <summary>What each recipe needs of each person of a several-person identity (as <c>run --person</c> checks it).</summary>
    private void CheckPeople(YamlMappingNode root, BatchRecipe recipe, int i, BatchIdentity identity, int j)
    {
        var node = Seq(root, "identities")?.Children[j];
        if (recipe.HasCandidates)
        {
            Problem($"identities[{j}].people", $"recipe {recipe.Label} (recipes[{i}]) renders candidates and keeps the one most like the person; with several people no one image is most like all of them", node);
        }

        foreach (var (person, k) in identity.People.Select((p, k) => (p, k)))
        {
            if (person.Lora is null && !recipe.HasIdentity && recipe.Pipeline != PipelineKind.V3)
            {
                Problem($"identities[{j}].people[{k}].lora", $"missing: recipe {recipe.Label} (recipes[{i}]) takes each person from their face LoRA (face photos alone need a recipe with an identity section, or V3)", node);
            }

            if (person.Faces.Count == 0 && (recipe.HasIdentity || recipe.Pipeline == PipelineKind.V3))
            {
                Problem($"identities[{j}].people[{k}].face", recipe.Pipeline == PipelineKind.V3
                    ? $"missing: recipe {recipe.Label} (recipes[{i}]) swaps each person's face in and needs their photo"
                    : $"missing: recipe {recipe.Label} (recipes[{i}]) takes each person's identity from face photos (one path or a list)", node);
            }
        }
    }
}
