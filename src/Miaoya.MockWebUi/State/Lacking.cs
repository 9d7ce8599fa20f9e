using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// What the box lacks (<see cref="MockWebUiOptions.Without"/>, read at each request): an extension whose routes answer 404,
/// or names left out of the listings.
/// </summary>
internal sealed class Lacking(ISet<string> without)
{
    /// <summary>True when the box lacks <paramref name="name"/> (an extension, a checkpoint's model_name, a LoRA, an embedding…).</summary>
    public bool Name(string name) => without.Contains(name);

    /// <summary>True when the box lacks the ControlNet model <paramref name="title"/> ("name [hash]", compared without its hash).</summary>
    public bool CnModel(string title)
    {
        var bracket = title.IndexOf(" [", StringComparison.Ordinal);
        return Name(bracket > 0 ? title[..bracket] : title);
    }

    /// <summary>Drops the objects whose <paramref name="key"/> names something lacking (a lacking ControlNet also loses its always-on script).</summary>
    public JsonArray Filter(JsonArray items, string key)
    {
        foreach (var item in items.ToArray())
        {
            if (item?[key]?.GetValue<string>() is { } name && Name(name))
            {
                items.Remove(item);
            }
        }

        return items;
    }

    public JsonObject FilterEmbeddings(JsonObject embeddings)
    {
        if (embeddings["loaded"] is JsonObject loaded)
        {
            foreach (var name in loaded.Select(p => p.Key).Where(Name).ToArray())
            {
                loaded.Remove(name);
            }
        }

        return embeddings;
    }

    public JsonArray FilterExtensions(JsonArray extensions)
    {
        foreach (var item in extensions.ToArray())
        {
            var name = item?["name"]?.GetValue<string>() ?? "";
            if ((Name("controlnet") && name.Contains("controlnet", StringComparison.Ordinal))
                || (Name(IdentityCatalog.EvaClipLacking) && name == IdentityCatalog.EvaClipExtension)
                || (Name("tagger") && name.Contains("tagger", StringComparison.Ordinal))
                || (Name("rembg") && name.Contains("rembg", StringComparison.Ordinal)))
            {
                extensions.Remove(item);
            }
        }

        return extensions;
    }
}
