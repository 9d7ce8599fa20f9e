using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>A ControlNet preprocessor as the extension registers it (Profiles/&lt;profile&gt;/controlnet-preprocessors.json).</summary>
internal sealed record CnModule(string Name, string Label, bool ModelFree, string Tag, bool RequiresMask, bool ReturnsTensor, string[] Tags, JsonArray Sliders);

/// <summary>
/// ControlNet's listings per profile: the preprocessors of the pinned extension commit in <c>get_sorted_preprocessors</c>
/// order, <c>/controlnet/module_list</c>, <c>/controlnet/control_types</c> and model lookup.
/// </summary>
internal sealed class ControlNetCatalog
{
    private static readonly Dictionary<string, ControlNetCatalog> ByFolder = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();
    private readonly Dictionary<string, string[]> _filterAliases;
    private readonly string[] _unionTags;
    private readonly Dictionary<string, int> _priorities;
    private ControlNetCatalog? _withEvaClip;

    private ControlNetCatalog(JsonObject data)
    {
        var entries = data["preprocessors"]!.AsArray().Select(n => n!.AsObject()).ToArray();
        Modules = [.. entries.Select(Module)];
        _priorities = entries.ToDictionary(p => p["name"]!.GetValue<string>(), p => p["priority"]!.GetValue<int>(), StringComparer.Ordinal);
        _filterAliases = data["filter_aliases"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.AsArray().Select(a => a!.GetValue<string>()).ToArray(), StringComparer.Ordinal);
        _unionTags = [.. data["union_tags"]!.AsArray().Select(a => a!.GetValue<string>())];
    }

    private ControlNetCatalog(ControlNetCatalog source, CnModule extra, int priority)
    {
        _filterAliases = source._filterAliases;
        _unionTags = source._unionTags;
        _priorities = new Dictionary<string, int>(source._priorities, StringComparer.Ordinal) { [extra.Name] = priority };
        // get_sorted_preprocessors (supported_preprocessor.py:130-136): "none", then str(priority).zfill(8) + label, descending
        string Key(CnModule m) => _priorities[m.Name].ToString("D8", System.Globalization.CultureInfo.InvariantCulture) + m.Label;
        var list = source.Modules.ToList();
        var at = list.FindIndex(1, m => string.CompareOrdinal(Key(m), Key(extra)) < 0);
        list.Insert(at < 0 ? list.Count : at, extra);
        Modules = list;
    }

    /// <summary>Every preprocessor, "none" first, then by priority and label, descending (supported_preprocessor.py:130-136).</summary>
    public IReadOnlyList<CnModule> Modules { get; }

    /// <summary>The sd-webui-controlnet catalogue of an A1111 profile (see <see cref="ProfileTraits.DataFolder"/>).</summary>
    public static ControlNetCatalog For(MockWebUiProfile profile) => For(ProfileData.Folder(profile));

    /// <summary>The catalogue in Profiles/<paramref name="folder"/>/controlnet-preprocessors.json.</summary>
    public static ControlNetCatalog For(string folder)
    {
        lock (Gate)
        {
            if (!ByFolder.TryGetValue(folder, out var catalog))
            {
                catalog = new ControlNetCatalog(ProfileData.Load(folder, "controlnet-preprocessors.json"));
                ByFolder[folder] = catalog;
            }

            return catalog;
        }
    }

    /// <summary>
    /// The catalogue of <paramref name="folder"/> on a box with or without sd-webui-controlnet-evaclip, whose one
    /// preprocessor (<see cref="IdentityCatalog.EvaClipModule"/>) joins the list in its sorted place.
    /// </summary>
    public static ControlNetCatalog For(string folder, bool evaClip)
    {
        var plain = For(folder);
        if (!evaClip)
        {
            return plain;
        }

        lock (Gate)
        {
            return plain._withEvaClip ??= new ControlNetCatalog(plain, IdentityCatalog.EvaClipModule, IdentityCatalog.EvaClipPriority);
        }
    }

    /// <summary>Label first, then internal name (Preprocessor.get_preprocessor, supported_preprocessor.py:126-128).</summary>
    public CnModule? FindModule(string? name) =>
        name is null ? null : Modules.FirstOrDefault(m => m.Label == name) ?? Modules.FirstOrDefault(m => m.Name == name);

    /// <summary>GET /controlnet/module_list: names or labels, and module_detail keyed the same (external_code.py get_modules_detail).</summary>
    public JsonObject ModuleList(bool aliasNames)
    {
        var list = new JsonArray();
        var detail = new JsonObject();
        foreach (var m in Modules)
        {
            var key = aliasNames ? m.Label : m.Name;
            list.Add(key);
            // get_modules_detail looks each key up label-first, as the module lookup does
            var found = FindModule(key)!;
            detail[key] = new JsonObject { ["model_free"] = found.ModelFree, ["sliders"] = found.Sliders.DeepClone() };
        }

        return new JsonObject { ["module_list"] = list, ["module_detail"] = detail };
    }

    /// <summary>GET /controlnet/control_types for a box with <paramref name="models"/> ("None" first), global_state.py select_control_type.</summary>
    public JsonObject ControlTypes(IReadOnlyList<string> models)
    {
        var tags = Modules.SelectMany(m => m.Tags).Distinct().Order(StringComparer.Ordinal).Prepend("All");
        var types = new JsonObject();
        foreach (var tag in tags)
        {
            types[tag] = tag == "All"
                ? Type([.. Modules.Select(m => m.Label)], models, "none", "None")
                : FilteredType(tag, models);
        }

        return new JsonObject { ["control_types"] = types };
    }

    private JsonObject FilteredType(string tag, IReadOnlyList<string> models)
    {
        var pattern = tag.ToLowerInvariant();
        var filters = new HashSet<string>(StringComparer.Ordinal) { pattern };
        filters.UnionWith(_filterAliases.GetValueOrDefault(pattern, []));
        if (_unionTags.Contains(pattern))
        {
            filters.Add("union");
        }

        // sd_version is UNKNOWN from the API, compatible with every model
        var filtered = models.Where(m => m.Equals("none", StringComparison.OrdinalIgnoreCase)
            || filters.Any(f => m.ToLowerInvariant().Contains(f, StringComparison.Ordinal))).ToList();
        var defaultModel = filtered.Count == 1 ? "None" : filtered[1];
        var with11 = filtered.FirstOrDefault(m => m.Split('[')[0].Contains("11", StringComparison.Ordinal));
        if (filtered.Count > 1 && with11 is not null)
        {
            defaultModel = with11;
        }

        var modules = Modules.Where(m => m.Tags.Contains(tag) || m.Label == "none").Select(m => m.Label).ToList();
        return Type(modules, filtered, modules.Count == 1 ? modules[0] : modules[1], defaultModel);
    }

    private static JsonObject Type(List<string> modules, IEnumerable<string> models, string defaultOption, string defaultModel) => new()
    {
        ["module_list"] = new JsonArray([.. modules.Select(x => (JsonNode)x)]),
        ["model_list"] = new JsonArray([.. models.Select(x => (JsonNode)x)]),
        ["default_option"] = defaultOption,
        ["default_model"] = defaultModel,
    };

    /// <summary>
    /// CN model lookup: exact "stem [hash]", then lower-case stem, then shortest stem containing the text
    /// (sd-webui-controlnet v1.1.455 scripts/controlnet.py:76-89, find_closest_lora_model_name).
    /// </summary>
    public static string? ResolveModel(string name)
    {
        var real = ControlNetModels.All.Where(m => m != "None").ToArray();
        var exact = Array.Find(real, m => m == name);
        if (exact is not null)
        {
            return exact;
        }

        var lower = name.ToLowerInvariant();
        static string Stem(string m) => m[..m.IndexOf(" [", StringComparison.Ordinal)].ToLowerInvariant();
        var byStem = Array.Find(real, m => Stem(m) == lower);
        if (byStem is not null)
        {
            return byStem;
        }

        return real.Where(m => Stem(m).Contains(lower, StringComparison.Ordinal)).OrderBy(m => Stem(m).Length).FirstOrDefault();
    }

    private static CnModule Module(JsonObject p)
    {
        var tags = p["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray();
        return new CnModule(
            p["name"]!.GetValue<string>(),
            p["label"]!.GetValue<string>(),
            p["model_free"]!.GetValue<bool>(),
            tags.Length > 0 ? tags[0] : "",
            p["requires_mask"]!.GetValue<bool>(),
            !p["returns_image"]!.GetValue<bool>(),
            tags,
            p["sliders"]!.AsArray());
    }
}
