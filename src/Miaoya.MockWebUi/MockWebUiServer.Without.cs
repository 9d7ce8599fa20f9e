using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>What the box lacks (<see cref="MockWebUiOptions.Without"/>): extensions whose routes answer 404, names left out of listings.</summary>
public sealed partial class MockWebUiServer
{
    private bool Lacks(string what) => _options.Without.Contains(what);

    private bool LacksRoute(string path) =>
        (Lacks("controlnet") && path.StartsWith("/controlnet/", StringComparison.Ordinal))
        || (Lacks("tagger") && path.StartsWith("/tagger/", StringComparison.Ordinal))
        || (Lacks("rembg") && path == "/rembg");

    private bool LacksCnModel(string title)
    {
        var bracket = title.IndexOf(" [", StringComparison.Ordinal);
        return Lacks(bracket > 0 ? title[..bracket] : title);
    }

    /// <summary>Drops the objects whose <paramref name="key"/> names something lacking (a lacking ControlNet also loses its always-on script).</summary>
    private JsonArray Without(JsonArray items, string key)
    {
        foreach (var item in items.ToArray())
        {
            if (item?[key]?.GetValue<string>() is { } name && Lacks(name))
            {
                items.Remove(item);
            }
        }

        return items;
    }

    private JsonObject WithoutEmbeddings(JsonObject embeddings)
    {
        if (embeddings["loaded"] is JsonObject loaded)
        {
            foreach (var name in loaded.Select(p => p.Key).Where(Lacks).ToArray())
            {
                loaded.Remove(name);
            }
        }

        return embeddings;
    }

    private JsonArray WithoutExtensions(JsonArray extensions)
    {
        foreach (var item in extensions.ToArray())
        {
            var name = item?["name"]?.GetValue<string>() ?? "";
            if ((Lacks("controlnet") && name.Contains("controlnet", StringComparison.Ordinal))
                || (Lacks("tagger") && name.Contains("tagger", StringComparison.Ordinal))
                || (Lacks("rembg") && name.Contains("rembg", StringComparison.Ordinal)))
            {
                extensions.Remove(item);
            }
        }

        return extensions;
    }
}
