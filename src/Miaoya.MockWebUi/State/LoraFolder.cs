using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>The LoRAs of <see cref="MockWebUiOptions.LoraDirectory"/>, as found at the last scan (start-up and refresh-loras).</summary>
internal sealed class LoraFolder
{
    private readonly MockWebUiOptions _options;
    private string[] _scanned = [];

    public LoraFolder(MockWebUiOptions options)
    {
        _options = options;
        Scan();
    }

    /// <summary>Rescans the folder the options name now (POST /sdapi/v1/refresh-loras).</summary>
    public void Scan()
    {
        var folder = _options.LoraDirectory;
        var found = folder is not null && Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal).ToArray()
            : [];
        Volatile.Write(ref _scanned, found);
    }

    /// <summary>The built-in LoRAs, then those found in the folder at the last scan.</summary>
    public JsonArray All()
    {
        var list = Catalog.Loras();
        foreach (var path in Volatile.Read(ref _scanned))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            list.Add(new JsonObject { ["name"] = name, ["alias"] = name, ["path"] = path, ["metadata"] = new JsonObject() });
        }

        return list;
    }
}
