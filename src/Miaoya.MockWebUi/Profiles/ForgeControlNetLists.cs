using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// The listings of Forge's built-in ControlNet, computed as lib_controlnet/global_state.py does
/// (forge@dfdcbab:extensions-builtin/sd_forge_controlnet/lib_controlnet/global_state.py; reForge's is the same but for a
/// model filter by SD version, which keeps every SD1.5 model of this mock).
/// </summary>
internal static class ForgeControlNetLists
{
    /// <summary>The preprocessor named exactly <paramref name="name"/>, or null (global_state.py:56-57: a dict lookup, no aliases).</summary>
    public static ForgePreprocessor? Find(UnitDialect dialect, string? name) =>
        name is null ? null : Array.Find(ForgePreprocessors.Of(dialect), p => p.Name == name);

    /// <summary>
    /// 'None' first, then by str(sorting_priority).zfill(8) + name, descending (global_state.py:64-71).
    /// </summary>
    public static List<ForgePreprocessor> Sorted(UnitDialect dialect)
    {
        var all = ForgePreprocessors.Of(dialect);
        var rest = all.Where(p => p.Name != "None")
            .OrderByDescending(p => p.Priority.ToString("D8", CultureInfo.InvariantCulture) + p.Name, StringComparer.Ordinal);
        return [.. all.Where(p => p.Name == "None"), .. rest];
    }

    /// <summary>
    /// ['None'] + "stem [hash]" sorted by file name (global_state.py:28-49,113-131, sort_by "name"): the same models and
    /// short hashes as the A1111 profiles (model_hash, forge@dfdcbab:modules/sd_models.py:218-230), so recipes resolve.
    /// </summary>
    public static List<string> Models(Lacking lacking) =>
        ["None", .. ControlNetModels.All.Where(m => m != "None" && !lacking.CnModel(m)).OrderBy(m => m, StringComparer.Ordinal)];

    /// <summary>GET /controlnet/module_list: {"module_list": [...]} with no module_detail; alias_names is not a parameter (lib_controlnet/api.py:47-56).</summary>
    public static JsonObject ModuleList(UnitDialect dialect) =>
        new() { ["module_list"] = Strings(Sorted(dialect).Select(p => p.Name)) };

    /// <summary>GET /controlnet/control_types (lib_controlnet/api.py:58-80; global_state.py:86-110,134-171).</summary>
    public static JsonObject ControlTypes(UnitDialect dialect, Lacking lacking)
    {
        var models = Models(lacking);
        var sorted = Sorted(dialect);
        // tags: 'All' + sorted(set(tags)) (global_state.py:86-92)
        var tags = sorted.SelectMany(p => p.Tags).Distinct().Order(StringComparer.Ordinal).ToList();
        var types = new JsonObject
        {
            ["All"] = Type(sorted.Select(p => p.Name), models, "none", "None"), // global_state.py:142-149
        };
        foreach (var tag in tags)
        {
            var filtered = sorted.Where(p => p.Name == "None" || p.Tags.Contains(tag)).ToList();
            var filters = filtered.SelectMany(p => p.Filters).ToList();
            var tagModels = models.Where(m => m == "None" || filters.Any(f => m.Contains(f, StringComparison.OrdinalIgnoreCase))).ToList();
            var defaultModel = "None";
            if (tagModels.Count > 1)
            {
                // the first whose name before "[" holds "11", else the second (global_state.py:157-164)
                defaultModel = tagModels.FirstOrDefault(m => m.Split('[')[0].Contains("11", StringComparison.Ordinal)) ?? tagModels[1];
            }

            var defaultOption = filtered.Count == 1 ? filtered[0].Name : filtered[1].Name; // global_state.py:59-62
            types[tag] = Type(filtered.Select(p => p.Name), tagModels, defaultOption, defaultModel);
        }

        return new JsonObject { ["control_types"] = types };
    }

    private static JsonObject Type(IEnumerable<string> modules, IEnumerable<string> models, string defaultOption, string defaultModel) => new()
    {
        ["module_list"] = Strings(modules),
        ["model_list"] = Strings(models),
        ["default_option"] = defaultOption,
        ["default_model"] = defaultModel,
    };

    private static JsonArray Strings(IEnumerable<string> items) => new([.. items.Select(s => (JsonNode)s)]);
}
