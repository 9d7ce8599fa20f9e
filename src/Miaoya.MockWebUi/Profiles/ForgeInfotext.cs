using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// What Forge's ControlNet writes for a unit that runs: extra_generation_params["ControlNet {i}"] (Infotext.write_infotext,
/// forge@dfdcbab:extensions-builtin/sd_forge_controlnet/lib_controlnet/infotext.py:62-63,84-94), before any unit is
/// processed (scripts/controlnet.py:549-550). reForge's infotext.py is the same file.
/// </summary>
internal static class ForgeInfotext
{
    /// <summary>serialize_unit (lib_controlnet/infotext.py:31-42): "Module: …, Model: …, …", values of -1 left out, "" when a value holds ',' or ':'.</summary>
    public static string Serialize(Dictionary<string, JsonNode?> d, string module, string model, string resize, string control, string hr)
    {
        var fields = new List<(string Name, string? Value)>
        {
            ("Module", module),
            ("Model", model),
            ("Weight", d.TryGetValue("weight", out var w) && w is not null ? PyValues.PyStr(w) : "1.0"),
            ("Resize Mode", resize),
            ("Processor Res", MinusOneIsHidden(d, "processor_res", "-1")),
            ("Threshold A", MinusOneIsHidden(d, "threshold_a", "-1")),
            ("Threshold B", MinusOneIsHidden(d, "threshold_b", "-1")),
            ("Guidance Start", d.TryGetValue("guidance_start", out var gs) && gs is not null ? PyValues.PyStr(gs) : "0.0"),
            ("Guidance End", d.TryGetValue("guidance_end", out var ge) && ge is not null ? PyValues.PyStr(ge) : "1.0"),
            ("Pixel Perfect", d.TryGetValue("pixel_perfect", out var pp) && pp is not null ? PyValues.PyStr(pp) : "False"),
            ("Control Mode", control),
            ("Hr Option", hr),
        };
        var shown = fields.Where(f => f.Value is not null).ToList();
        if (shown.Any(f => f.Value!.Contains(',', StringComparison.Ordinal) || f.Value.Contains(':', StringComparison.Ordinal)))
        {
            return ""; // "Unexpected tokens encountered" (infotext.py:38-40)
        }

        return string.Join(", ", shown.Select(f => f.Name + ": " + f.Value));
    }

    private static string? MinusOneIsHidden(Dictionary<string, JsonNode?> d, string key, string fallback)
    {
        if (!d.TryGetValue(key, out var n) || n is null)
        {
            return fallback == "-1" ? null : fallback;
        }

        return n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() == -1 ? null : PyValues.PyStr(n);
    }
}
