using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Miaoya.Limits;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>
/// <c>people</c> of <c>POST /v1/jobs</c>: several people in one template (docs/multi-person.md), a list of
/// <c>{face_index, lora, lora_weight, trigger, faces}</c>. In JSON a list of objects, the photos as base64 or <c>data:</c> URLs;
/// in a multipart body the same list as the text of the field <c>people</c>, and each person's photos as file fields
/// <c>people[N].faces</c> (N: the person's place in the list, repeated for several). Problems name the person's field.
/// </summary>
internal sealed partial class SubmissionReader
{
    /// <summary>The keys of one person.</summary>
    private static readonly string[] PersonKeys = ["face_index", "lora", "lora_weight", "trigger", "faces"];

    /// <summary>The file field of person <paramref name="index"/>'s photos in a multipart body.</summary>
    public static string PersonFacesField(int index) => string.Create(CultureInfo.InvariantCulture, $"people[{index}].faces");

    /// <summary>The people of a JSON value (null: none); problems name the field, <c>people[1].lora</c>.</summary>
    private List<PersonForm> People(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null || value.ValueKind == JsonValueKind.Undefined)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Bad("people", "expected an array of people, each {\"face_index\": N, \"lora\": \"name\", \"lora_weight\": 0.8, \"trigger\": [\"word\"], \"faces\": [images]}.");
        }

        if (value.GetArrayLength() > JobSubmission.MaxPeople)
        {
            throw Bad("people", $"{value.GetArrayLength()} people; at most {JobSubmission.MaxPeople} are taken.");
        }

        var people = new List<PersonForm>();
        foreach (var (item, i) in value.EnumerateArray().Select((item, i) => (item, i)))
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"people[{i}]");
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Bad(at, "expected an object {\"face_index\": N, \"lora\": \"name\", \"lora_weight\": 0.8, \"trigger\": [\"word\"], \"faces\": [images]}.");
            }

            foreach (var property in item.EnumerateObject())
            {
                if (!PersonKeys.Contains(property.Name, StringComparer.Ordinal))
                {
                    throw Bad($"{at}.{UserText.Quote(property.Name)}", $"unknown field; a person has {string.Join(", ", PersonKeys)}.");
                }
            }

            var index = JsonInteger(item, "face_index", int.MinValue, int.MaxValue, "an integer: the face, counted from 0 left to right", at)
                ?? throw Bad($"{at}.face_index", "required: the face this person takes, counted from 0 left to right.");
            var lora = JsonString(item, "lora", at);
            if (lora is not null && UserText.Problem(lora, InputLimits.Text.MaxNameChars + 16) is { } loraProblem)
            {
                throw Bad($"{at}.lora", $"{loraProblem}.");
            }

            if (Weight(item, at) is { } weight)
            {
                if (lora is null)
                {
                    throw Bad($"{at}.lora_weight", "a weight without a lora; give lora too.");
                }

                if (lora.Contains(':', StringComparison.Ordinal))
                {
                    throw Bad($"{at}.lora_weight", "lora already gives a weight (name:weight); give it once.");
                }

                lora = $"{lora.Trim()}:{weight.ToString("R", CultureInfo.InvariantCulture)}";
            }

            var faces = new List<UploadedImage>();
            if (item.TryGetProperty("faces", out var list) && list.ValueKind != JsonValueKind.Null)
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    throw Bad($"{at}.faces", "expected an array of images, each a base64 string or a data: URL.");
                }

                if (list.GetArrayLength() > JobSubmission.MaxFacePhotos)
                {
                    throw Bad($"{at}.faces", $"{list.GetArrayLength()} face photos; at most {JobSubmission.MaxFacePhotos} are used per person.");
                }

                faces.AddRange(list.EnumerateArray().Select((v, j) => ImageValue(v, $"{at}.faces[{j}]") ?? throw Bad($"{at}.faces[{j}]", "expected an image, not null.")));
            }

            people.Add(new PersonForm((int)index, lora, faces) { Trigger = PersonTrigger(item, at) });
        }

        return people;
    }

    /// <summary>
    /// A multipart body's people: the field <c>people</c> (the JSON list) and the files <c>people[N].faces</c>, which
    /// join person N's photos; a file for a person the list does not have names its field.
    /// </summary>
    private List<PersonForm> FormPeople(Dictionary<string, List<UploadedImage>> files, Dictionary<string, List<string>> fields)
    {
        var people = new List<PersonForm>();
        if (Single(fields, "people") is { } text)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw Bad("people", $"not valid JSON: {e.Message} Give a JSON array of people, each {{\"face_index\": N, \"lora\": \"name\", \"lora_weight\": 0.8, \"trigger\": [\"word\"]}}, and their photos as files people[N].faces.");
            }

            using (document)
            {
                people = People(document.RootElement);
            }
        }

        for (var i = 0; i < JobSubmission.MaxPeople; i++)
        {
            if (!files.TryGetValue(PersonFacesField(i), out var photos))
            {
                continue;
            }

            if (i >= people.Count)
            {
                throw Bad(PersonFacesField(i), $"photos for people[{i}], but people lists {people.Count} {(people.Count == 1 ? "person" : "people")}; N in people[N].faces is the person's place in that list, from 0.");
            }

            var person = people[i];
            if (person.Faces.Count + photos.Count > JobSubmission.MaxFacePhotos)
            {
                throw Bad(PersonFacesField(i), $"{person.Faces.Count + photos.Count} face photos; at most {JobSubmission.MaxFacePhotos} are used per person.");
            }

            people[i] = person with { Faces = [.. person.Faces, .. photos] };
        }

        return people;
    }

    /// <summary>
    /// A person's <c>trigger</c>: their LoRA's trigger words, an array of strings or one string of comma-separated words
    /// (as the multipart form's top-level <c>trigger</c> is split), within the limits the top-level field has; whether they
    /// are plain words and the person has a LoRA is the submitter's check (<c>JobSubmitter.CheckPeopleAsync</c>).
    /// </summary>
    private static string[] PersonTrigger(JsonElement item, string at)
    {
        var field = $"{at}.trigger";
        if (!item.TryGetProperty("trigger", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        string[] words = value.ValueKind switch
        {
            JsonValueKind.String => Text(value, field).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            JsonValueKind.Array when value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String) => value.EnumerateArray().Select(v => Text(v, field)).ToArray(),
            _ => throw Bad(field, "expected a string of comma-separated words or an array of strings."),
        };
        var text = InputLimits.Text;
        if (words.Length > text.MaxWords)
        {
            throw Bad(field, $"{words.Length} trigger words; at most {text.MaxWords} are accepted.");
        }

        foreach (var word in words)
        {
            if (UserText.Problem(word, text.MaxWordChars) is { } problem)
            {
                throw Bad(field, $"{problem}.");
            }
        }

        return words;
    }

    /// <summary>A person's <c>lora_weight</c>: a number in 0..2, or null.</summary>
    private static double? Weight(JsonElement item, string at)
    {
        if (!item.TryGetProperty("lora_weight", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var weight) && double.IsFinite(weight) && weight is >= 0 and <= 2
            ? weight
            : throw Bad($"{at}.lora_weight", $"must be a number in 0..2; {UserText.Quote(value.GetRawText())} is not one.");
    }

    private static FieldProblemException Bad(string field, string message) => new(StatusCodes.Status400BadRequest, field, message);
}

/// <summary>One person of a submission as sent: their face, their LoRA (<c>name</c> or <c>name:weight</c>) and their photos.</summary>
internal sealed record PersonForm(int FaceIndex, string? Lora, IReadOnlyList<UploadedImage> Faces)
{
    /// <summary>Their LoRA's trigger words (<c>people[N].trigger</c>).</summary>
    public IReadOnlyList<string> Trigger { get; init; } = [];
}
