using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Miaoya.Imaging;
using Miaoya.Limits;
using Miaoya.Runner;

namespace Miaoya.Server;

/// <summary>The <c>application/json</c> form of a submission: the same names as the multipart form, images as base64 or <c>data:</c> URLs.</summary>
internal sealed partial class SubmissionReader
{
    private async Task<SubmissionForm> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", $"not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FieldProblemException(StatusCodes.Status400BadRequest, "body", "expected a JSON object.");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("template" or "template_name" or "face" or "faces" or "recipe" or "recipe_yaml" or "lora" or "trigger" or "identity" or "seed" or "overrides" or "face_index" or "candidates" or "people"))
                {
                    throw new FieldProblemException(StatusCodes.Status400BadRequest, property.Name, "unknown field.");
                }
            }

            return Checked(new SubmissionForm
            {
                Template = Base64Image(root, "template"),
                TemplateName = JsonString(root, "template_name"),
                Faces = Faces(root),
                Recipe = JsonString(root, "recipe"),
                RecipeYaml = JsonString(root, "recipe_yaml"),
                Lora = JsonString(root, "lora"),
                Trigger = JsonStrings(root, "trigger"),
                Identity = JsonString(root, "identity"),
                Seed = JsonInteger(root, "seed", long.MinValue, long.MaxValue, "an integer (-1: random)"),
                Overrides = JsonStrings(root, "overrides"),
                FaceIndex = (int?)JsonInteger(root, "face_index", int.MinValue, int.MaxValue, "an integer (0 = the largest face)"),
                Candidates = (int?)JsonInteger(root, "candidates", int.MinValue, int.MaxValue, $"an integer, 1..{JobSubmission.MaxCandidates}"),
                People = root.TryGetProperty("people", out var people) ? People(people) : [],
            });
        }
    }

    /// <summary>
    /// The person's face photos: <c>face</c> (one image) or <c>faces</c> (an array of images, at most
    /// <see cref="JobSubmission.MaxFacePhotos"/>), not both; a problem with one of the list names it (<c>faces[1]</c>).
    /// </summary>
    private List<UploadedImage> Faces(JsonElement root)
    {
        var hasList = root.TryGetProperty("faces", out var list) && list.ValueKind != JsonValueKind.Null;
        if (Base64Image(root, "face") is { } one)
        {
            return hasList
                ? throw new FieldProblemException(StatusCodes.Status400BadRequest, "faces", "give face (one photo) or faces (a list of photos), not both.")
                : [one];
        }

        if (!hasList)
        {
            return [];
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "faces", "expected an array of images, each a base64 string or a data: URL.");
        }

        if (list.GetArrayLength() > JobSubmission.MaxFacePhotos)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, "faces", $"{list.GetArrayLength()} face photos; at most {JobSubmission.MaxFacePhotos} are used.");
        }

        return list.EnumerateArray().Select((v, i) => ImageValue(v, $"faces[{i}]") ?? throw new FieldProblemException(StatusCodes.Status400BadRequest, $"faces[{i}]", "expected an image, not null.")).ToList();
    }

    private UploadedImage? Base64Image(JsonElement root, string field) =>
        root.TryGetProperty(field, out var value) ? ImageValue(value, field) : null;

    /// <summary>One image of the JSON form, <paramref name="field"/> naming it in problems; null for a JSON null.</summary>
    private UploadedImage? ImageValue(JsonElement value, string field)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "expected the image as a base64 string or a data: URL.");
        }

        EncodedImage image;
        try
        {
            image = EncodedImage.FromBase64(Text(value, field));
        }
        catch (InvalidImageDataException e)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, e.Message);
        }

        if (image.Length > options.MaxImageBytes)
        {
            throw new FieldProblemException(StatusCodes.Status413PayloadTooLarge, field, $"the image has {image.Length} bytes; at most {options.MaxImageBytes} are accepted per image.");
        }

        return Check(field, image, null);
    }

    /// <summary>A JSON number that is a whole number in range; a string, a fraction or anything else names the field.</summary>
    private static long? JsonInteger(JsonElement root, string key, long min, long max, string expected, string? at = null)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var field = at is null ? key : $"{at}.{key}";
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"must be {expected}, not a JSON {value.ValueKind.ToString().ToLowerInvariant()}.");
        }

        return value.TryGetInt64(out var number) && number >= min && number <= max
            ? number
            : throw new FieldProblemException(StatusCodes.Status400BadRequest, field, $"must be {expected}; {UserText.Quote(value.GetRawText())} is not one.");
    }

    /// <summary>A JSON string's text; one that is no text (an unpaired UTF-16 surrogate, "\ud800") names its field.</summary>
    private static string Text(JsonElement value, string field)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "not valid text: it holds an unpaired UTF-16 surrogate.");
        }
    }

    private static string? JsonString(JsonElement root, string key, string? at = null)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var field = at is null ? key : $"{at}.{key}";
        return value.ValueKind == JsonValueKind.String
            ? Text(value, field) is { Length: > 0 } text && !string.IsNullOrWhiteSpace(text) ? text : null
            : throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "expected a string.");
    }

    private static string[] JsonStrings(JsonElement root, string field)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [Text(value, field)];
        }

        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
        {
            return value.EnumerateArray().Select(v => Text(v, field)).ToArray();
        }

        throw new FieldProblemException(StatusCodes.Status400BadRequest, field, "expected a string or an array of strings.");
    }
}
