using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.Pipeline;

/// <summary>
/// A generation step's ControlNet maps with the unit each came from. The box returns one map per unit that ran, in the
/// order the units were sent (an embedding unit returns its input image: sd-webui-controlnet
/// scripts/supported_preprocessor.py:196-205), so map <c>i</c> belongs to the <c>i</c>-th enabled unit of the
/// recorded request.
/// </summary>
public static class ControlNetMaps
{
    /// <summary>
    /// Each <c>STEP-controlnet-N</c> output of <paramref name="step"/> with a label such as "softedge_pidinet, weight 0.75";
    /// a several-person step's <c>STEP-face-F-controlnet-N</c> is labelled from face F's own request, "face F, softedge_pidinet, weight 0.75".
    /// </summary>
    public static IReadOnlyList<(string File, string Label)> Of(StepRecord step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var calls = RecordedCall.Of(step);
        var maps = new List<(string, string)>();
        foreach (var output in step.Outputs)
        {
            var name = Path.GetFileNameWithoutExtension(output.File);
            var marker = name.LastIndexOf("-controlnet-", StringComparison.Ordinal);
            if (marker < 0 || !int.TryParse(name[(marker + "-controlnet-".Length)..], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                continue;
            }

            var prefix = name[..marker];
            var call = calls.FirstOrDefault(c => c.FilePrefix(step.Name) == prefix);
            var units = (call?.Request["alwayson_scripts"]?["controlnet"]?["args"] as JsonArray ?? [])
                .OfType<JsonObject>()
                .Where(u => u["enabled"] is not JsonValue enabled || !enabled.TryGetValue(out bool on) || on)
                .ToList();
            var label = index < units.Count
                ? string.Create(CultureInfo.InvariantCulture, $"{Text(units[index]["module"])}, weight {Text(units[index]["weight"])}")
                : string.Create(CultureInfo.InvariantCulture, $"ControlNet map {index + 1}");
            maps.Add((output.File, call?.FaceIndex is { } face ? string.Create(CultureInfo.InvariantCulture, $"face {face}, {label}") : label));
        }

        return maps;
    }

    private static string Text(JsonNode? node) => node is JsonValue value && value.TryGetValue(out string? s) ? s : node?.ToJsonString() ?? "?";
}
