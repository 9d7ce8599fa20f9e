using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Recording;

/// <summary>
/// One request and its answer as a recording keeps them: images as references (<see cref="RecordedImages"/>), no headers
/// but the response's Content-Type, no credentials. Saved as a WireMock mapping (<c>Request</c>: path, methods, params,
/// a JsonMatcher body; <c>Response</c>: status, headers, <c>BodyAsJson</c> or <c>Body</c>).
/// </summary>
public sealed class RecordedExchange
{
    // WireMock mapping keys (named apart from this class's properties of the same names).
    private const string PathKey = "Path";
    private const string StatusKey = "StatusCode";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Position in the recording (1, 2, …): among equal requests, the order they are answered on replay.</summary>
    public required int Sequence { get; init; }

    public required string Method { get; init; }

    /// <summary>The absolute path, without a trailing slash (but "/").</summary>
    public required string Path { get; init; }

    /// <summary>Query parameters by name (ordinal order), each with its values in the order sent.</summary>
    public required IReadOnlyDictionary<string, string[]> Query { get; init; }

    /// <summary>The request body: JSON (images as references), or null when there is none or it is not JSON (see <see cref="RequestText"/>).</summary>
    public JsonNode? RequestJson { get; init; }

    /// <summary>A request body that is not JSON, as sent; null when there is none or it is JSON.</summary>
    public string? RequestText { get; init; }

    public required int StatusCode { get; init; }

    public string ContentType { get; init; } = "application/json";

    /// <summary>The answer's JSON (images as references), or null (see <see cref="ResponseText"/>).</summary>
    public JsonNode? ResponseJson { get; init; }

    /// <summary>An answer that is not JSON, as received.</summary>
    public string? ResponseText { get; init; }

    /// <summary>The mapping's file name, e.g. <c>0007-post-sdapi-v1-txt2img.json</c>.</summary>
    public string FileName => string.Create(CultureInfo.InvariantCulture, $"{Sequence:D4}-{Method.ToLowerInvariant()}{Slug(Path)}.json");

    /// <summary>"POST /sdapi/v1/txt2img?a=1", for messages.</summary>
    public string Describe() => Method + " " + Path + QueryString(Query);

    /// <summary>What makes two requests the same to replay: method, path, query, and the body (JSON compared with keys in order).</summary>
    public string RequestKey() => RequestKey(Method, Path, Query, RequestJson, RequestText);

    public static string RequestKey(string method, string path, IReadOnlyDictionary<string, string[]> query, JsonNode? json, string? text) =>
        method.ToUpperInvariant() + " " + path + QueryString(query) + "\n" + (json is null ? text ?? "" : Canonical(json));

    public static string QueryString(IReadOnlyDictionary<string, string[]> query) => query.Count == 0
        ? ""
        : "?" + string.Join('&', query.OrderBy(q => q.Key, StringComparer.Ordinal).SelectMany(q => q.Value.Select(v => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(v))));

    /// <summary>JSON text with every object's keys sorted, so that key order does not count.</summary>
    public static string Canonical(JsonNode? node)
    {
        var builder = new StringBuilder();
        Write(node, builder);
        return builder.ToString();

        static void Write(JsonNode? node, StringBuilder builder)
        {
            switch (node)
            {
                case JsonObject obj:
                    builder.Append('{');
                    var first = true;
                    foreach (var (name, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        builder.Append(first ? "" : ",").Append(JsonSerializer.Serialize(name)).Append(':');
                        Write(value, builder);
                        first = false;
                    }

                    builder.Append('}');
                    break;
                case JsonArray array:
                    builder.Append('[');
                    for (var i = 0; i < array.Count; i++)
                    {
                        builder.Append(i == 0 ? "" : ",");
                        Write(array[i], builder);
                    }

                    builder.Append(']');
                    break;
                case null:
                    builder.Append("null");
                    break;
                default:
                    builder.Append(node.ToJsonString());
                    break;
            }
        }
    }

    /// <summary>The WireMock mapping of this exchange.</summary>
    public JsonObject ToMapping()
    {
        var request = new JsonObject
        {
            [PathKey] = new JsonObject { ["Matchers"] = new JsonArray(Matcher("ExactMatcher", Path)) },
            ["Methods"] = new JsonArray(Method),
        };
        if (Query.Count > 0)
        {
            request["Params"] = new JsonArray(Query.Select(q => (JsonNode)new JsonObject
            {
                ["Name"] = q.Key,
                ["Matchers"] = new JsonArray(q.Value.Select(v => (JsonNode)Matcher("ExactMatcher", v)).ToArray()),
            }).ToArray());
        }

        if (RequestJson is not null)
        {
            request["Body"] = new JsonObject { ["Matcher"] = new JsonObject { ["Name"] = "JsonMatcher", ["Pattern"] = RequestJson.DeepClone() } };
        }
        else if (RequestText is { Length: > 0 })
        {
            request["Body"] = new JsonObject { ["Matcher"] = Matcher("ExactMatcher", RequestText) };
        }

        var response = new JsonObject
        {
            [StatusKey] = StatusCode,
            ["Headers"] = new JsonObject { ["Content-Type"] = ContentType },
        };
        if (ResponseJson is not null)
        {
            response["BodyAsJson"] = ResponseJson.DeepClone();
        }
        else if (ResponseText is not null)
        {
            response["Body"] = ResponseText;
        }

        return new JsonObject
        {
            ["Title"] = string.Create(CultureInfo.InvariantCulture, $"{Sequence:D4} {Describe()}"),
            ["Priority"] = Sequence,
            ["Request"] = request,
            ["Response"] = response,
        };
    }

    /// <summary>The mapping as saved: indented, one file per exchange.</summary>
    public string ToMappingText() => ToMapping().ToJsonString(Indented) + "\n";

    /// <summary>Reads a mapping written by <see cref="ToMapping"/> (the images stay references).</summary>
    /// <exception cref="InvalidDataException">The file is not such a mapping.</exception>
    public static RecordedExchange FromMapping(JsonNode? mapping, string source)
    {
        try
        {
            var request = mapping!["Request"]!;
            var response = mapping["Response"]!;
            var query = new SortedDictionary<string, string[]>(StringComparer.Ordinal);
            foreach (var param in request["Params"]?.AsArray() ?? [])
            {
                query[param!["Name"]!.GetValue<string>()] = param["Matchers"]!.AsArray().Select(m => m!["Pattern"]!.GetValue<string>()).ToArray();
            }

            var bodyMatcher = request["Body"]?["Matcher"];
            var isJson = bodyMatcher?["Name"]?.GetValue<string>() == "JsonMatcher";
            return new RecordedExchange
            {
                Sequence = mapping["Priority"]?.GetValue<int>() ?? 0,
                Method = request["Methods"]!.AsArray()[0]!.GetValue<string>(),
                Path = request[PathKey]!["Matchers"]!.AsArray()[0]!["Pattern"]!.GetValue<string>(),
                Query = query,
                RequestJson = isJson ? bodyMatcher!["Pattern"]?.DeepClone() : null,
                RequestText = !isJson ? bodyMatcher?["Pattern"]?.GetValue<string>() : null,
                StatusCode = response[StatusKey]!.GetValue<int>(),
                ContentType = response["Headers"]?["Content-Type"]?.GetValue<string>() ?? "application/json",
                ResponseJson = response["BodyAsJson"]?.DeepClone(),
                ResponseText = response["Body"]?.GetValue<string>(),
            };
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or ArgumentOutOfRangeException)
        {
            throw new InvalidDataException($"{source}: not a recorded exchange (a WireMock mapping written by mock-webui --record-from): {e.Message}", e);
        }
    }

    private static JsonObject Matcher(string name, string pattern) => new() { ["Name"] = name, ["Pattern"] = pattern };

    private static string Slug(string path)
    {
        var builder = new StringBuilder();
        foreach (var c in path)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        }

        var slug = builder.ToString().TrimEnd('-');
        return slug.Length > 60 ? slug[..60] : slug;
    }
}
