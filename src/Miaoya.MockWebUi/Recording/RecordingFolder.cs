using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Recording;

/// <summary>
/// A recording on disk: <c>mappings/NNNN-method-path.json</c> (one WireMock mapping per exchange) and <c>images/</c> (each
/// image once, named by its SHA-256). Writing redacts every credential it was told of, and the WebUI's own echoes of them
/// (<c>api_auth</c>, <c>gradio_auth</c> in <c>/sdapi/v1/cmd-flags</c>).
/// </summary>
public sealed class RecordingFolder
{
    /// <summary>What a redacted credential reads as in a recording.</summary>
    public const string Redacted = "<redacted>";

    private static readonly string[] SecretKeys = ["api_auth", "gradio_auth", "gradio_auth_path", "api_auth_file", "password", "hf_token", "civitai_token"];

    private readonly ConcurrentDictionary<string, byte> _secrets = new(StringComparer.Ordinal);
    private readonly Lock _images = new();
    private int _sequence;

    public RecordingFolder(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory = System.IO.Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(MappingsDirectory);
        // Appending to a folder continues its numbering, so the replay order stays the recording order.
        _sequence = System.IO.Directory.EnumerateFiles(MappingsDirectory, "*.json")
            .Select(f => int.TryParse(System.IO.Path.GetFileName(f).Split('-')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0)
            .Max();
    }

    public string Directory { get; }

    public string MappingsDirectory => System.IO.Path.Combine(Directory, "mappings");

    /// <summary>Adds credentials to keep out of the files: <c>user:password</c> (its Basic token and its password too) or any text.</summary>
    public void AddSecret(string? secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return;
        }

        _secrets.TryAdd(secret, 0);
        _secrets.TryAdd(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), 0);
        var colon = secret.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && secret.Length - colon - 1 >= 4)
        {
            _secrets.TryAdd(secret[(colon + 1)..], 0); // the password alone, when it is long enough not to match by chance
        }
    }

    /// <summary>Saves one exchange (images to images/, credentials redacted) and returns it as saved.</summary>
    public RecordedExchange Write(string method, string path, IReadOnlyDictionary<string, string[]> query, string? requestBody, int status, string? contentType, string? responseBody)
    {
        var (requestJson, requestText) = Split(requestBody);
        var (responseJson, responseText) = Split(responseBody);
        var exchange = new RecordedExchange
        {
            Sequence = Interlocked.Increment(ref _sequence),
            Method = method.ToUpperInvariant(),
            Path = RedactText(NormalisePath(path)),
            Query = new SortedDictionary<string, string[]>(query.ToDictionary(q => q.Key, q => q.Value.Select(RedactText).ToArray()), StringComparer.Ordinal),
            RequestJson = Redact(RecordedImages.Externalise(requestJson, SaveImage)),
            RequestText = requestText is null ? null : RedactText(requestText),
            StatusCode = status,
            ContentType = string.IsNullOrEmpty(contentType) ? "application/json" : contentType,
            ResponseJson = Redact(RecordedImages.Externalise(responseJson, SaveImage)),
            ResponseText = responseText is null ? null : RedactText(responseText),
        };
        WriteAtomically(System.IO.Path.Combine(MappingsDirectory, exchange.FileName), Encoding.UTF8.GetBytes(exchange.ToMappingText()));
        return exchange;
    }

    /// <summary>Every exchange of the recording at <paramref name="directory"/>, in recording order.</summary>
    /// <exception cref="DirectoryNotFoundException">There is no <c>mappings</c> folder.</exception>
    /// <exception cref="InvalidDataException">A mapping cannot be read.</exception>
    public static IReadOnlyList<RecordedExchange> Load(string directory)
    {
        var mappings = System.IO.Path.Combine(directory, "mappings");
        if (!System.IO.Directory.Exists(mappings))
        {
            throw new DirectoryNotFoundException($"{directory} is not a recording: it has no mappings/ folder (make one with mock-webui --record-from URL --record-dir DIR).");
        }

        var exchanges = new List<RecordedExchange>();
        foreach (var file in System.IO.Directory.EnumerateFiles(mappings, "*.json").Order(StringComparer.Ordinal))
        {
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{file}: not JSON: {e.Message}", e);
            }

            exchanges.Add(RecordedExchange.FromMapping(node, file));
        }

        return exchanges.OrderBy(e => e.Sequence).ToArray();
    }

    /// <summary>The absolute path, without a trailing slash (but "/").</summary>
    public static string NormalisePath(string path) => path.Length > 1 ? path.TrimEnd('/') : path;

    /// <summary>A body as JSON when it parses as JSON, else as text; (null, null) when empty.</summary>
    public static (JsonNode? Json, string? Text) Split(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return (null, null);
        }

        try
        {
            var node = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
            return node is null ? (null, body) : (node, null);
        }
        catch (JsonException)
        {
            return (null, body);
        }
    }

    private void SaveImage(string relative, byte[] data)
    {
        var file = System.IO.Path.Combine(Directory, relative);
        lock (_images)
        {
            if (!File.Exists(file))
            {
                System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
                WriteAtomically(file, data);
            }
        }
    }

    private JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToArray())
                {
                    if (SecretKeys.Contains(name, StringComparer.OrdinalIgnoreCase) && obj[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0)
                    {
                        obj[name] = Redacted;
                    }
                    else
                    {
                        var child = obj[name];
                        var replaced = Redact(child);
                        if (!ReferenceEquals(child, replaced))
                        {
                            obj[name] = replaced;
                        }
                    }
                }

                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var child = array[i];
                    var replaced = Redact(child);
                    if (!ReferenceEquals(child, replaced))
                    {
                        array[i] = replaced;
                    }
                }

                return array;
            case JsonValue value when value.TryGetValue<string>(out var text):
                var redacted = RedactText(text);
                return ReferenceEquals(redacted, text) ? node : JsonValue.Create(redacted);
            default:
                return node;
        }
    }

    private string RedactText(string text)
    {
        var result = text;
        foreach (var secret in _secrets.Keys.OrderByDescending(s => s.Length))
        {
            if (result.Contains(secret, StringComparison.Ordinal))
            {
                result = result.Replace(secret, Redacted, StringComparison.Ordinal);
            }
        }

        return result;
    }

    private static void WriteAtomically(string file, byte[] data)
    {
        var temporary = file + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture);
        File.WriteAllBytes(temporary, data);
        File.Move(temporary, file, overwrite: true);
    }
}
