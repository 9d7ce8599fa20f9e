using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.Server;

namespace Miaoya.MockWebUi.Recording;

/// <summary>
/// Serves a recording back: a request is answered with the recorded answer to the same method, path, query and body (JSON
/// compared regardless of key order, images by their content). Equal requests recorded several times are answered in the
/// recorded order, the last answer repeating. A request never recorded gets a 404 naming the closest recorded one and how
/// it differs.
/// </summary>
public sealed class ReplayServer : IDisposable
{
    private readonly string _directory;
    private readonly IReadOnlyList<RecordedExchange> _exchanges;
    private readonly Dictionary<string, RecordedExchange[]> _byRequest;
    private readonly ConcurrentDictionary<string, int> _served = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, string> _bodies = new();
    private int _misses;
    private bool _disposed;

    private ReplayServer(string directory, int port, bool listenOnAllInterfaces)
    {
        _directory = Path.GetFullPath(directory);
        _exchanges = RecordingFolder.Load(_directory);
        _byRequest = _exchanges.GroupBy(e => e.RequestKey(), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        WireMock = CatchAllServer.Start(port, listenOnAllInterfaces, ReplayAsync);
        Url = CatchAllServer.LoopbackUrl(WireMock);
    }

    public Uri Url { get; }

    /// <summary>How many exchanges the recording holds.</summary>
    public int ExchangeCount => _exchanges.Count;

    /// <summary>Requests answered with 404 because nothing recorded matched.</summary>
    public int Misses => Volatile.Read(ref _misses);

    public WireMockServer WireMock { get; }

    /// <summary>Serves the recording in <paramref name="directory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">It is not a recording.</exception>
    /// <exception cref="InvalidDataException">A mapping cannot be read.</exception>
    public static ReplayServer Start(string directory, int port = 0, bool listenOnAllInterfaces = false)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return new ReplayServer(directory, port, listenOnAllInterfaces);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        WireMock.Stop();
        WireMock.Dispose();
    }

    /// <summary>Finds the answer for a request, or explains the closest recorded request.</summary>
    public (RecordedExchange? Match, string? Problem) Find(string method, string path, IReadOnlyDictionary<string, string[]> query, string? body)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(query);
        var (json, text) = RecordingFolder.Split(body);
        json = RecordedImages.Externalise(json, save: null);
        path = RecordingFolder.NormalisePath(path);
        var sorted = new SortedDictionary<string, string[]>(query.ToDictionary(q => q.Key, q => q.Value), StringComparer.Ordinal);
        var key = RecordedExchange.RequestKey(method, path, sorted, json, text);
        if (_byRequest.TryGetValue(key, out var candidates))
        {
            var index = _served.AddOrUpdate(key, 0, (_, n) => n + 1);
            return (candidates[Math.Min(index, candidates.Length - 1)], null);
        }

        return (null, Explain(method.ToUpperInvariant(), path, sorted, json, text));
    }

    private Task<IResponseMessage> ReplayAsync(IRequestMessage request)
    {
        var body = request.Body ?? (request.BodyAsBytes is { Length: > 0 } bytes ? Encoding.UTF8.GetString(bytes) : null);
        var query = (request.Query ?? new Dictionary<string, WireMock.Types.WireMockList<string>>()).ToDictionary(q => q.Key, q => q.Value.ToArray(), StringComparer.Ordinal);
        var (match, problem) = Find(request.Method, request.AbsolutePath, query, body);
        if (match is null)
        {
            Interlocked.Increment(ref _misses);
            return Task.FromResult<IResponseMessage>(RecordingProxy.Answer(404, "application/json", new JsonObject
            {
                ["error"] = "NotRecorded",
                ["detail"] = problem,
            }.ToJsonString()));
        }

        var answer = _bodies.GetOrAdd(match.Sequence, _ => match.ResponseJson is { } json
            ? RecordedImages.Inline(json.DeepClone(), _directory)!.ToJsonString()
            : match.ResponseText ?? "");
        return Task.FromResult<IResponseMessage>(RecordingProxy.Answer(match.StatusCode, match.ContentType, answer));
    }

    private string Explain(string method, string path, IReadOnlyDictionary<string, string[]> query, JsonNode? json, string? text)
    {
        var asked = method + " " + path + RecordedExchange.QueryString(query);
        if (_exchanges.Count == 0)
        {
            return $"replay: no recorded exchange for {asked}: the recording {_directory} is empty.";
        }

        var closest = _exchanges
            .OrderBy(e => e.Path == path ? 0 : 1)
            .ThenBy(e => string.Equals(e.Method, method, StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenBy(e => RecordedExchange.QueryString(e.Query) == RecordedExchange.QueryString(query) ? 0 : 1)
            .ThenBy(e => e.Path == path ? 0 : -CommonPrefix(e.Path, path))
            .First();
        string difference;
        if (closest.Path != path)
        {
            difference = "nothing was recorded at this path";
        }
        else if (!string.Equals(closest.Method, method, StringComparison.OrdinalIgnoreCase))
        {
            difference = $"the method differs ({closest.Method} was recorded)";
        }
        else if (RecordedExchange.QueryString(closest.Query) != RecordedExchange.QueryString(query))
        {
            difference = $"the query differs (recorded: '{RecordedExchange.QueryString(closest.Query)}')";
        }
        else
        {
            difference = "the body differs: " + (json is not null && closest.RequestJson is not null
                ? FirstDifference(closest.RequestJson, json, "$")
                : $"recorded {Shorten(closest.RequestJson?.ToJsonString() ?? closest.RequestText ?? "(none)")}, got {Shorten(json?.ToJsonString() ?? text ?? "(none)")}");
        }

        return $"replay: no recorded exchange for {asked}; the closest recorded request is {closest.Describe()} (mappings/{closest.FileName}): {difference}.";
    }

    /// <summary>Where two JSON values first differ, e.g. "at $.seed: recorded 7, got 8".</summary>
    public static string FirstDifference(JsonNode? recorded, JsonNode? got, string at)
    {
        switch (recorded, got)
        {
            case (JsonObject a, JsonObject b):
                foreach (var (name, value) in a.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!b.TryGetPropertyValue(name, out var other))
                    {
                        return $"at {at}.{name}: recorded {Shorten(value?.ToJsonString() ?? "null")}, missing now";
                    }

                    if (RecordedExchange.Canonical(value) != RecordedExchange.Canonical(other))
                    {
                        return FirstDifference(value, other, at + "." + name);
                    }
                }

                var extra = b.Select(p => p.Key).Where(k => !a.ContainsKey(k)).Order(StringComparer.Ordinal).First();
                return $"at {at}.{extra}: not recorded, now {Shorten(b[extra]?.ToJsonString() ?? "null")}";
            case (JsonArray a, JsonArray b):
                for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
                {
                    if (RecordedExchange.Canonical(a[i]) != RecordedExchange.Canonical(b[i]))
                    {
                        return FirstDifference(a[i], b[i], string.Create(CultureInfo.InvariantCulture, $"{at}[{i}]"));
                    }
                }

                return string.Create(CultureInfo.InvariantCulture, $"at {at}: recorded {a.Count} items, got {b.Count}");
            default:
                return $"at {at}: recorded {Shorten(recorded?.ToJsonString() ?? "null")}, got {Shorten(got?.ToJsonString() ?? "null")}";
        }
    }

    private static int CommonPrefix(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
        {
            n++;
        }

        return n;
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";
}
