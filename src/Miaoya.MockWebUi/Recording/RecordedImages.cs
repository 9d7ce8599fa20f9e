using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Recording;

/// <summary>
/// Base64 images in JSON bodies, kept as files beside a recording's mappings. A string that decodes to a PNG, JPEG, WebP
/// or GIF (plain base64 or a <c>data:image/…;base64,</c> URI) becomes <c>@image:images/&lt;sha256&gt;.&lt;ext&gt;</c>, its
/// data: prefix kept in front; <see cref="Inline"/> turns the reference back into the same text.
/// </summary>
public static class RecordedImages
{
    /// <summary>What a reference to an image file starts with.</summary>
    public const string Marker = "@image:";

    /// <summary>Shorter strings are never images (an 8×8 PNG is over 100 base64 characters).</summary>
    private const int MinimumLength = 64;

    /// <summary>
    /// Replaces every base64 image in <paramref name="node"/> by a reference, in place, and calls <paramref name="save"/>
    /// with each image's relative path and bytes (null: only compute the references, as replay does for a request).
    /// </summary>
    /// <returns>The node (a bare string node is replaced, so use the result).</returns>
    public static JsonNode? Externalise(JsonNode? node, Action<string, byte[]>? save) =>
        MapStrings(node, text => ToReference(text, save) is { } reference ? JsonValue.Create(reference) : null);

    /// <summary>The reference for <paramref name="text"/> when it is a base64 image, else null.</summary>
    public static string? ToReference(string text, Action<string, byte[]>? save)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < MinimumLength)
        {
            return null;
        }

        var prefix = "";
        var payload = text;
        if (text.StartsWith("data:image/", StringComparison.Ordinal))
        {
            var comma = text.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0)
            {
                return null;
            }

            prefix = text[..(comma + 1)];
            payload = text[(comma + 1)..];
        }

        var bytes = new byte[(payload.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(payload, bytes, out var written) || ExtensionOf(bytes.AsSpan(0, written)) is not { } extension)
        {
            return null;
        }

        var data = bytes[..written];
        // A re-encoding with other padding or line breaks would give other text for the same bytes: keep the exact text then.
        if (!string.Equals(Convert.ToBase64String(data), payload, StringComparison.Ordinal))
        {
            return null;
        }

        var path = $"images/{Convert.ToHexStringLower(SHA256.HashData(data))}.{extension}";
        save?.Invoke(path, data);
        return prefix + Marker + path;
    }

    /// <summary>Replaces every reference in <paramref name="node"/> by the base64 of its file under <paramref name="directory"/>, in place.</summary>
    /// <exception cref="FileNotFoundException">A referenced image is missing.</exception>
    public static JsonNode? Inline(JsonNode? node, string directory) => MapStrings(node, text =>
    {
        if (text.IndexOf(Marker, StringComparison.Ordinal) is not (var at and >= 0))
        {
            return null;
        }

        var relative = text[(at + Marker.Length)..];
        if (relative.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new InvalidDataException($"Image reference '{relative}' leaves the recording folder.");
        }

        return JsonValue.Create(text[..at] + Convert.ToBase64String(File.ReadAllBytes(Path.Combine(directory, relative))));
    });

    /// <summary>Walks <paramref name="node"/>, replacing in place each string value <paramref name="map"/> gives a node for (null: keep it).</summary>
    /// <returns>The node (a bare string node is replaced, so use the result).</returns>
    private static JsonNode? MapStrings(JsonNode? node, Func<string, JsonNode?> map)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToArray())
                {
                    var child = obj[name];
                    var replaced = MapStrings(child, map);
                    if (!ReferenceEquals(replaced, child))
                    {
                        obj[name] = replaced;
                    }
                }

                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var child = array[i];
                    var replaced = MapStrings(child, map);
                    if (!ReferenceEquals(replaced, child))
                    {
                        array[i] = replaced;
                    }
                }

                return array;
            case JsonValue value when value.TryGetValue<string>(out var text) && map(text) is { } mapped:
                return mapped;
            default:
                return node;
        }
    }

    private static string? ExtensionOf(ReadOnlySpan<byte> data) => data switch
    {
        [0x89, 0x50, 0x4E, 0x47, ..] => "png",
        [0xFF, 0xD8, 0xFF, ..] => "jpg",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "webp",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "gif",
        _ => null,
    };
}
