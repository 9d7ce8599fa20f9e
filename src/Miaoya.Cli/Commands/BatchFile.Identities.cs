using Miaoya.Limits;
using Miaoya.Pipeline;
using Miaoya.Runner;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Cli.Commands;

/// <summary>A batch file's <c>identities</c>: each one's name, LoRA, trigger words and face photos (its people: BatchFile.People.cs).</summary>
internal sealed partial class BatchFile
{
    private List<BatchIdentity> ParseIdentities(YamlNode? node)
    {
        var identities = new List<BatchIdentity>();
        foreach (var (item, i) in Items(node, "identities"))
        {
            var path = $"identities[{i}]";
            if (item is not YamlMappingNode map)
            {
                Problem(path, "expected a mapping with name, lora, trigger and face (a photo, or a list of photos)", item);
                continue;
            }

            CheckKeys(map, path, IdentityKeys);
            var name = Scalar(map, "name", path, required: true);
            var lora = Scalar(map, "lora", path, required: false);
            if (name is not null)
            {
                if (name.Length > InputLimits.Text.MaxNameChars || !name.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.'))
                {
                    Problem($"{path}.name", $"\"{UserText.Quote(name)}\": use 1-{InputLimits.Text.MaxNameChars} letters, digits, '-', '_' or '.'", Get(map, "name"));
                }
                else if (identities.Any(x => x.Name == name))
                {
                    Problem($"{path}.name", $"\"{name}\" is used by an earlier identity", Get(map, "name"));
                }
            }

            lora = NormalLora(lora, map, path);
            var trigger = ParseTrigger(map, path);
            var faces = ParseFaces(map, path);
            var people = ParsePeople(map, path);
            if (people.Count > 0 && (lora is not null || faces.Count > 0 || trigger.Count > 0))
            {
                Problem($"{path}.people", "an identity with people gives each person their own lora, trigger and face; leave out the identity's lora, face and trigger", Get(map, "people"));
            }

            if (name is not null)
            {
                identities.Add(new BatchIdentity(name, lora, trigger, faces) { People = people });
            }
        }

        return identities;
    }

    /// <summary>
    /// A mapping's <c>trigger</c> (an identity's or a person's): words, or a list of them, checked as prompt words (no
    /// prompt syntax, within the limits).
    /// </summary>
    /// <summary>The <c>lora</c> of an identity or a person as <c>NAME:WEIGHT</c>; a bad one is a problem at PATH.lora (and stays as written).</summary>
    private string? NormalLora(string? lora, YamlMappingNode map, string path)
    {
        if (lora is null)
        {
            return null;
        }

        try
        {
            return LoraChoice.Parse(lora).ToString();
        }
        catch (ArgumentException e)
        {
            Problem($"{path}.lora", e.Message.Replace("--lora: ", "", StringComparison.Ordinal).Split(" (Parameter", 2)[0], Get(map, "lora"));
            return lora;
        }
    }

    private List<string> ParseTrigger(YamlMappingNode map, string path)
    {
        var trigger = new List<string>();
        switch (Get(map, "trigger"))
        {
            case null:
                break;
            case YamlScalarNode { Value: { } words }:
                trigger.Add(words);
                break;
            case YamlSequenceNode seq:
                foreach (var (w, j) in seq.Children.Select((w, j) => (w, j)))
                {
                    if (w is YamlScalarNode { Value: { Length: > 0 } word })
                    {
                        trigger.Add(word);
                    }
                    else
                    {
                        Problem($"{path}.trigger[{j}]", "expected words", w);
                    }
                }

                break;
            case var other:
                Problem($"{path}.trigger", "expected words, or a list of them", other);
                break;
        }

        if (PromptWords.TriggerProblem(trigger) is { } triggerProblem)
        {
            Problem($"{path}.trigger", triggerProblem, Get(map, "trigger"));
        }

        return trigger;
    }

    /// <summary>A mapping's <c>face</c>: one photo's path or a list of them (at most <see cref="JobSubmission.MaxFacePhotos"/>), relative to the file.</summary>
    private List<string> ParseFaces(YamlMappingNode map, string path)
    {
        var faces = new List<string>();
        var faceNode = Get(map, "face");
        IEnumerable<(YamlNode Node, string Path)> faceItems = faceNode switch
        {
            null => [],
            YamlSequenceNode seq => seq.Children.Select((f, k) => (f, $"{path}.face[{k}]")),
            _ => [(faceNode, $"{path}.face")],
        };
        foreach (var (faceItem, facePath) in faceItems)
        {
            if (faceItem is not YamlScalarNode { Value: { Length: > 0 } text })
            {
                Problem(facePath, "expected a photo's path (or a list of them)", faceItem);
                continue;
            }

            var face = System.IO.Path.GetFullPath(text, _directory);
            if (!File.Exists(face))
            {
                Problem(facePath, $"{face}: no such file", faceItem);
            }

            faces.Add(face);
        }

        if (faces.Count > JobSubmission.MaxFacePhotos)
        {
            Problem($"{path}.face", $"{faces.Count} photos; at most {JobSubmission.MaxFacePhotos} are used", faceNode);
        }

        return faces;
    }
}
