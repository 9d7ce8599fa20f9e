using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>One option the WebUI registers: its default, and whether <c>POST /options</c> may change it.</summary>
/// <param name="Default">The OptionInfo default.</param>
/// <param name="RestrictApi">restrict_api=True: <c>opts.set(..., is_api=True)</c> leaves it (A1111 modules/options.py:155-156).</param>
/// <param name="Hidden">component_args visible=False: setattr raises and set returns False, so it is left (options.py:105-108, 158-161).</param>
internal sealed record WebUiOption(JsonNode? Default, bool RestrictApi, bool Hidden);

/// <summary>
/// The options a profile's WebUI has (Profiles/&lt;profile&gt;/webui-options.json, generated from A1111's
/// modules/shared_options.py, its built-in extensions and ControlNet's on_ui_settings by Profiles/tools/webui_options.py).
/// </summary>
internal static class WebUiOptionSet
{
    /// <summary>Every saveable option of <paramref name="profile"/>, in registration order.</summary>
    public static IReadOnlyList<KeyValuePair<string, WebUiOption>> For(MockWebUiProfile profile) => For(ProfileTraits.For(profile));

    /// <summary>
    /// Every saveable option of the profile, in registration order: those of <see cref="ProfileTraits.DataFolder"/>, then its
    /// <see cref="ProfileTraits.ExtraOptions"/> (Forge's and reForge's own settings, which a client may set).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, WebUiOption>> For(ProfileTraits traits)
    {
        var options = ProfileData.Load(traits.DataFolder, "webui-options.json")["options"]!.AsObject();
        return [.. options.Select(p => new KeyValuePair<string, WebUiOption>(p.Key, new WebUiOption(
            p.Value!["default"]?.DeepClone(), p.Value["restrict_api"]!.GetValue<bool>(), p.Value["hidden"]!.GetValue<bool>()))),
            .. traits.ExtraOptions.Where(p => !options.ContainsKey(p.Key))
                .Select(p => new KeyValuePair<string, WebUiOption>(p.Key, new WebUiOption(p.Value?.DeepClone(), RestrictApi: false, Hidden: false)))];
    }

    /// <summary>Python's <c>==</c> on two JSON values as json.loads gives them: 1 == 1.0 == True, [1] == [1.0].</summary>
    public static bool PythonEquals(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        if (Number(a) is { } x && Number(b) is { } y)
        {
            return x == y;
        }

        return (a, b) switch
        {
            (JsonArray l, JsonArray r) => l.Count == r.Count && l.Zip(r).All(p => PythonEquals(p.First, p.Second)),
            (JsonObject l, JsonObject r) => l.Count == r.Count && l.All(p => r.TryGetPropertyValue(p.Key, out var v) && PythonEquals(p.Value, v)),
            _ => JsonNode.DeepEquals(a, b),
        };
    }

    private static double? Number(JsonNode n) => n.GetValueKind() switch
    {
        JsonValueKind.Number => double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture), // any CLR number behind the node
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        _ => null,
    };
}
