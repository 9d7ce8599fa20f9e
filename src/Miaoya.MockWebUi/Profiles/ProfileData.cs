using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>The per-profile JSON files under Profiles/ (embedded resources), parsed once each.</summary>
internal static class ProfileData
{
    private static readonly Dictionary<string, JsonObject> Cache = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>Profiles/<paramref name="folder"/>/<paramref name="file"/>; callers clone what they hand out.</summary>
    public static JsonObject Load(string folder, string file)
    {
        var name = $"Miaoya.MockWebUi.Profiles.{folder}/{file}";
        lock (Gate)
        {
            if (Cache.TryGetValue(name, out var cached))
            {
                return cached;
            }

            var assembly = typeof(ProfileData).Assembly;
            using var stream = assembly.GetManifestResourceStream(name)
                ?? assembly.GetManifestResourceStream(name.Replace('/', '\\'))
                ?? throw new InvalidOperationException($"Embedded resource {name} is missing.");
            var json = JsonNode.Parse(stream)!.AsObject();
            Cache[name] = json;
            return json;
        }
    }

    /// <summary>The folder of a profile's data files.</summary>
    public static string Folder(MockWebUiProfile profile) => ProfileTraits.For(profile).DataFolder;
}
