using System.CommandLine;
using System.Text.Json.Nodes;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya probe [--webui URL]</c>: what a box offers, as the client sees it (the default box as every command's).</summary>
internal static class ProbeCommand
{
    public static Command Create()
    {
        var webui = CliOptions.WebUi();
        var auth = CliOptions.Auth();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every call" };
        var json = new Option<bool>("--json") { Description = "Print what the box offers as one JSON object (shape in docs/commands.md)" };
        var command = new Command("probe", "Probe a WebUI box: backend, version dialect, samplers, checkpoints, LoRAs, ControlNet, tagger.") { webui, auth, verbose, json };
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            using var session = new WebUiSession(CliOptions.Endpoint(result, result.GetValue(webui)), result.GetValue(verbose));
            var capabilities = await session.Client.ProbeAsync(cancellationToken);
            if (result.GetValue(json))
            {
                Console.WriteLine(CliJson.Write(ToJson(capabilities)));
            }
            else
            {
                Print(capabilities);
            }

            return 0;
        }));
        return command;
    }

    public static void Print(WebUiCapabilities c)
    {
        Console.WriteLine($"WebUI         {c.BaseUrl}  ({c.WebUiVersion}, sampler names: {c.SamplerDialect})");
        Console.WriteLine($"Backend       {c.Backend.DisplayName()}{(c.BackendVersion is { } v ? $" {v}" : "")}{BackendNote(c)}");
        Console.WriteLine($"Samplers      {string.Join(", ", c.Samplers.Select(s => s.Name))}");
        Console.WriteLine($"Schedulers    {(c.Schedulers.Count == 0 ? "(none: composite sampler names)" : string.Join(", ", c.Schedulers.Select(s => s.Label)))}");
        Console.WriteLine($"Checkpoints   {string.Join(", ", c.Checkpoints.Select(m => m.Title))}");
        Console.WriteLine($"LoRAs         {string.Join(", ", c.Loras.Select(l => l.Name))}");
        Console.WriteLine($"Embeddings    {string.Join(", ", c.Embeddings)}");
        Console.WriteLine($"ControlNet    {(c.HasControlNet ? $"{(c.ControlNetApiVersion is { } api ? $"API v{api}" : "built in")}, {c.ControlNetUnitCount} units, models: {string.Join(", ", c.ControlNetModels.Where(m => m != "None"))}" : "not available")}");
        Console.WriteLine($"Tagger        {(c.HasTagger ? $"{c.TaggerFlavor}, {c.TaggerModels.Count} models" : "not installed")}");
        Console.WriteLine($"rembg         {(c.HasRembg ? "installed" : "not installed")}");
        Console.WriteLine($"Always-on     {string.Join(", ", c.AlwaysOnScripts)}");
    }

    /// <summary>What <c>probe --json</c> prints: names as the box lists them, absent extensions as null.</summary>
    public static JsonObject ToJson(WebUiCapabilities c)
    {
        ArgumentNullException.ThrowIfNull(c);
        static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        return new JsonObject
        {
            ["url"] = c.BaseUrl.ToString(),
            ["backend"] = c.Backend.DisplayName(),
            ["backend_version"] = c.BackendVersion,
            ["server"] = c.WebUiVersion,
            ["sampler_dialect"] = c.SamplerDialect.ToString(),
            ["samplers"] = Strings(c.Samplers.Select(s => s.Name)),
            ["schedulers"] = Strings(c.Schedulers.Select(s => s.Name)),
            ["checkpoints"] = Strings(c.Checkpoints.Select(m => m.Title)),
            ["loras"] = Strings(c.Loras.Select(l => l.Name)),
            ["embeddings"] = Strings(c.Embeddings),
            ["controlnet"] = !c.HasControlNet ? null : new JsonObject
            {
                ["api_version"] = c.ControlNetApiVersion,
                ["built_in"] = c.HasBuiltInControlNet,
                ["unit_count"] = c.ControlNetUnitCount,
                ["models"] = Strings(c.ControlNetModels.Where(m => m != "None")),
                ["modules"] = Strings(c.ControlNetModules),
            },
            ["controlnet_absent_reason"] = c.ControlNetAbsence,
            ["tagger"] = !c.HasTagger ? null : new JsonObject { ["flavor"] = c.TaggerFlavor.ToString(), ["models"] = Strings(c.TaggerModels) },
            ["rembg"] = c.HasRembg,
            ["always_on_scripts"] = Strings(c.AlwaysOnScripts),
        };
    }

    private static string BackendNote(WebUiCapabilities c) => c.Backend switch
    {
        WebUiBackend.Forge or WebUiBackend.ReForge => " (ControlNet units sent with UI-label modules and exact model names)",
        WebUiBackend.SdNext => $" (ControlNet recipes refused: {c.ControlNetAbsence})",
        _ => "",
    };
}
