using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;

namespace Miaoya.WebUi;

/// <summary>
/// How the server names samplers: A1111 v1.8.0 and v1.9.4 answer an unknown name with 404 (modules/api/api.py:43-48);
/// v1.10.1 parses composite names and silently replaces unknown ones (modules/sd_samplers.py:100-123).
/// </summary>
public enum SamplerDialect
{
    /// <summary>A1111 up to 1.8: composite names only ("DPM++ SDE Karras"); unknown names are a 404.</summary>
    Combined,

    /// <summary>A1111 1.9.x: split names ("DPM++ SDE") plus a scheduler; composite names are a 404.</summary>
    Split,

    /// <summary>A1111 1.10+: split names preferred, composite parsed; unknown names silently replaced.</summary>
    SplitOrCombined,
}

/// <summary>What one WebUI box offers, read from the server itself by <see cref="WebUiClient.ProbeAsync"/>.</summary>
public sealed partial record WebUiCapabilities
{
    /// <summary>Scheduler labels A1111 1.10 strips from the end of a composite sampler name (sd_samplers.py:100-129).</summary>
    private static readonly string[] KnownSchedulerLabels =
    [
        "Karras", "Exponential", "Uniform", "SGM Uniform", "KL Optimal", "Align Your Steps", "Simple", "Normal", "DDIM", "Beta", "Polyexponential",
    ];

    public required Uri BaseUrl { get; init; }

    public required SamplerDialect SamplerDialect { get; init; }

    /// <summary>Which server answers (detected from routes only one of them has); A1111 unless the probe found another.</summary>
    public WebUiBackend Backend { get; init; } = WebUiBackend.A1111;

    /// <summary>The version the backend reports, where it has a route for it (SD.Next's /sdapi/v1/version); null otherwise.</summary>
    public string? BackendVersion { get; init; }

    /// <summary>A short description of the server, e.g. "A1111 ≥ 1.10" (the version its sampler dialect implies), "Forge".</summary>
    public string WebUiVersion => Backend switch
    {
        WebUiBackend.A1111 => SamplerDialect switch
        {
            SamplerDialect.Combined => "A1111 ≤ 1.8",
            SamplerDialect.Split => "A1111 1.9",
            _ => "A1111 ≥ 1.10",
        },
        _ when BackendVersion is { } version => $"{Backend.DisplayName()} {version}",
        _ => Backend.DisplayName(),
    };

    public required IReadOnlyList<SamplerInfo> Samplers { get; init; }

    /// <summary>Empty before A1111 1.9.1 (no <c>/sdapi/v1/schedulers</c>).</summary>
    public required IReadOnlyList<SchedulerInfo> Schedulers { get; init; }

    public required IReadOnlyList<SdModel> Checkpoints { get; init; }

    public required IReadOnlyList<LoraInfo> Loras { get; init; }

    public required IReadOnlyList<string> Embeddings { get; init; }

    /// <summary>Titles (lower case) of the scripts usable in <c>alwayson_scripts</c>.</summary>
    public required IReadOnlyList<string> AlwaysOnScripts { get; init; }

    public required IReadOnlyList<ExtensionInfo> Extensions { get; init; }

    /// <summary>ControlNet API version: 3 = pydantic units (CN 1.1.448+), 2 = dataclass units; null = not installed.</summary>
    public int? ControlNetApiVersion { get; init; }

    public IReadOnlyList<string> ControlNetModels { get; init; } = [];

    /// <summary>
    /// Module internal names and UI labels together (the A1111 extension's unit accepts either, supported_preprocessor.py:127-128);
    /// on Forge and reForge the UI labels only, the one form they accept.
    /// </summary>
    public IReadOnlyList<string> ControlNetModules { get; init; } = [];

    /// <summary>Internal module name → UI label, where the box lists both (the A1111 extension); empty elsewhere.</summary>
    public IReadOnlyDictionary<string, string> ControlNetModuleLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>ControlNet built into the backend (Forge, reForge), answering without <c>/controlnet/version</c>.</summary>
    public bool HasBuiltInControlNet { get; init; }

    public int ControlNetUnitCount { get; init; } = 3;

    /// <summary>Tagger models; empty when the tagger is absent.</summary>
    public IReadOnlyList<string> TaggerModels { get; init; } = [];

    public TaggerFlavor TaggerFlavor { get; init; }

    public bool HasRembg { get; init; }

    /// <summary>The extras upscalers' names (<c>GET /sdapi/v1/upscalers</c>), "None" included.</summary>
    public IReadOnlyList<string> Upscalers { get; init; } = [];

    /// <summary>The face restorers' names (<c>GET /sdapi/v1/face-restorers</c>: CodeFormer, GFPGAN on a stock A1111).</summary>
    public IReadOnlyList<string> FaceRestorers { get; init; } = [];

    public bool HasControlNet => ControlNetApiVersion is not null || HasBuiltInControlNet;

    public bool HasTagger => TaggerModels.Count > 0;

    /// <summary>
    /// Turns a sampler as a recipe writes it ("DPM++ SDE Karras", or "DPM++ SDE" with scheduler "Karras") into the
    /// names this server accepts. Throws <see cref="WebUiRequestException"/> naming the closest known names.
    /// </summary>
    public (string SamplerName, string? Scheduler) ResolveSampler(string sampler, string? scheduler = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sampler);
        var problems = new List<string>();
        var resolved = ResolveSampler(sampler, scheduler, problems);
        if (problems.Count > 0)
        {
            throw new WebUiRequestException("sampler", problems);
        }

        return resolved;
    }

    /// <summary>Every problem the server would reject or silently change in this request.</summary>
    public IReadOnlyList<string> Check(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var problems = new List<string>();
        if (request.SamplerName is { } sampler)
        {
            var (name, scheduler) = ResolveSampler(sampler, request.Scheduler, problems);
            // A scheduler may be sent by name or label; only the sampler's own form differs between versions.
            if (problems.Count == 0 && name != sampler && SamplerDialect != SamplerDialect.SplitOrCombined)
            {
                problems.Add($"sampler_name: \"{sampler}\" with scheduler \"{request.Scheduler}\" must be sent as \"{name}\"{(scheduler is null ? "" : $" + scheduler \"{scheduler}\"")} on {WebUiVersion}.");
            }
        }
        else if (request.Scheduler is { } lonelyScheduler)
        {
            CheckScheduler(lonelyScheduler, problems);
        }

        if (request.OverrideSettings?.TryGetValue("sd_model_checkpoint", out var checkpointNode) == true
            && checkpointNode is JsonValue checkpointValue && checkpointValue.TryGetValue(out string? checkpoint))
        {
            if (FindCheckpoint(checkpoint) is null)
            {
                // Unknown checkpoints in override_settings are dropped silently (processing.py:828-830).
                problems.Add($"override_settings.sd_model_checkpoint: unknown checkpoint \"{checkpoint}\"; {NameMatcher.Suggest(checkpoint, Checkpoints.Select(c => c.Title))}.");
            }
        }

        CheckLoras("prompt", request.Prompt, problems);
        CheckLoras("negative_prompt", request.NegativePrompt, problems);

        if (request.AlwaysOnScripts is { } scripts)
        {
            foreach (var key in scripts.Keys)
            {
                if (!AlwaysOnScripts.Contains(key.ToLowerInvariant()))
                {
                    problems.Add($"alwayson_scripts.{key}: the server has no always-on script \"{key}\" (it would answer 422); {NameMatcher.Suggest(key, AlwaysOnScripts)}.");
                }
            }

            if (scripts.ControlNet is { } controlNet)
            {
                CheckControlNet(controlNet.Args, problems);
            }
        }

        return problems;
    }

    /// <summary>The checkpoint an identifier names, by the ids A1111 accepts (sd_models.py:88-100), or null.</summary>
    public SdModel? FindCheckpoint(string identifier) =>
        Checkpoints.FirstOrDefault(c =>
            identifier == c.Title
            || identifier == c.ModelName
            || identifier == c.Filename
            || identifier == Path.GetFileNameWithoutExtension(c.Filename)
            || identifier == Path.GetFileName(c.Filename)
            || (c.Hash is not null && identifier == c.Hash)
            || (c.Sha256 is not null && (identifier == c.Sha256 || identifier == c.Sha256[..Math.Min(10, c.Sha256.Length)]))
            || identifier == StripHash(c.Title));

    /// <summary>The ControlNet model a name resolves to, by CN's own rules (controlnet.py:76-89), or null.</summary>
    public string? FindControlNetModel(string name)
    {
        if (ControlNetModels.Contains(name))
        {
            return name;
        }

        if (name.Contains('[', StringComparison.Ordinal))
        {
            return null; // a wrong [hash] never resolves
        }

        var lowered = name.ToLowerInvariant();
        var byStem = ControlNetModels.FirstOrDefault(m => StripHash(m).Equals(lowered, StringComparison.OrdinalIgnoreCase));
        return byStem ?? ControlNetModels
            .Where(m => m != "None" && StripHash(m).Contains(lowered, StringComparison.OrdinalIgnoreCase))
            .OrderBy(m => m.Length)
            .FirstOrDefault();
    }

    /// <summary>
    /// The module name to send for <paramref name="module"/>: its UI label, the one form both ControlNet APIs accept (the A1111
    /// extension takes a label or an internal name; Forge's <c>global_state.get_preprocessor</c> looks up labels only,
    /// forge@dfdcbab lib_controlnet/global_state.py:52-53). Null when the box offers neither.
    /// </summary>
    public string? ResolveControlNetModule(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return ControlNetModuleLabels.TryGetValue(module, out var label) ? label
            : ControlNetModules.Contains(module, StringComparer.Ordinal) ? module
            : null;
    }

    /// <summary>
    /// The model name to send for <paramref name="model"/>: exactly as the box lists it (<c>name [hash]</c>), the one form both
    /// APIs accept (Forge looks models up by exact name only, global_state.py:113-131). "None" stays; null when not found.
    /// </summary>
    public string? ResolveControlNetModel(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Equals("None", StringComparison.Ordinal) ? model : FindControlNetModel(model);
    }

    /// <summary>Why the box cannot run ControlNet units, naming the backend: null when it can.</summary>
    public string? ControlNetAbsence => HasControlNet ? null : Backend switch
    {
        WebUiBackend.SdNext => "SD.Next has no sd-webui-controlnet API (every /controlnet/* route answers 404): its control runs through its own "
            + "POST /sdapi/v1/control, which Miaoya does not speak yet. Run ControlNet recipes on an A1111, Forge or reForge box.",
        WebUiBackend.Forge or WebUiBackend.ReForge => $"{Backend.DisplayName()}'s built-in ControlNet is disabled (/controlnet/model_list answers 404); enable sd_forge_controlnet in its Extensions tab.",
        _ => "the ControlNet extension is not installed on this server (/controlnet/version answers 404).",
    };

    private (string, string?) ResolveSampler(string sampler, string? scheduler, List<string> problems)
    {
        var names = Samplers.Select(s => s.Name).ToList();
        if (SamplerDialect == SamplerDialect.Combined)
        {
            var combined = scheduler is null || scheduler.Equals("automatic", StringComparison.OrdinalIgnoreCase)
                ? sampler
                : $"{sampler} {Label(scheduler)}";
            if (!names.Contains(combined))
            {
                problems.Add($"sampler_name: \"{combined}\" is not a sampler on {BaseUrl} ({WebUiVersion}, composite names such as \"DPM++ SDE Karras\"); {NameMatcher.Suggest(combined, names)}.");
            }

            return (combined, null);
        }

        var baseName = sampler;
        var parsedScheduler = scheduler;
        if (!names.Contains(sampler))
        {
            foreach (var label in SchedulerLabels().OrderByDescending(l => l.Length))
            {
                if (sampler.EndsWith(" " + label, StringComparison.Ordinal))
                {
                    baseName = sampler[..^(label.Length + 1)];
                    parsedScheduler ??= label;
                    break;
                }
            }
        }

        if (!names.Contains(baseName))
        {
            problems.Add($"sampler_name: \"{sampler}\" is not a sampler on {BaseUrl} ({WebUiVersion}; it would {(SamplerDialect == SamplerDialect.Split ? "answer 404" : "silently use DPM++ 2M")}); {NameMatcher.Suggest(baseName, names)}.");
            return (sampler, scheduler);
        }

        if (parsedScheduler is null)
        {
            return (baseName, null);
        }

        var resolvedScheduler = CheckScheduler(parsedScheduler, problems);
        return (baseName, resolvedScheduler);
    }

    private string? CheckScheduler(string scheduler, List<string> problems)
    {
        if (SamplerDialect == SamplerDialect.Combined)
        {
            problems.Add($"scheduler: \"{scheduler}\" cannot be sent separately to {WebUiVersion}, which ignores the field; use a composite sampler name.");
            return null;
        }

        var match = Schedulers.FirstOrDefault(s =>
            s.Name.Equals(scheduler, StringComparison.OrdinalIgnoreCase) || s.Label.Equals(scheduler, StringComparison.OrdinalIgnoreCase));
        if (match is null)
        {
            problems.Add($"scheduler: \"{scheduler}\" is not a scheduler on {BaseUrl} (it would silently become Automatic); {NameMatcher.Suggest(scheduler, Schedulers.Select(s => s.Label))}.");
            return scheduler;
        }

        return match.Name;
    }

    private static string Label(string scheduler) =>
        KnownSchedulerLabels.FirstOrDefault(l => l.Equals(scheduler, StringComparison.OrdinalIgnoreCase)
            || l.Replace(" ", "_", StringComparison.Ordinal).Equals(scheduler, StringComparison.OrdinalIgnoreCase))
        ?? scheduler;

    private IEnumerable<string> SchedulerLabels() =>
        Schedulers.Count == 0 ? KnownSchedulerLabels : Schedulers.Select(s => s.Label).Concat(KnownSchedulerLabels).Distinct();

    private void CheckLoras(string field, string text, List<string> problems)
    {
        foreach (Match match in LoraTag().Matches(text))
        {
            var name = match.Groups["name"].Value;
            if (!Loras.Any(l => l.Name == name || l.Alias == name))
            {
                problems.Add($"{field}: LoRA \"{name}\" in \"{match.Value}\" is not installed (the WebUI would skip it); {NameMatcher.Suggest(name, Loras.Select(l => l.Name))}.");
            }
        }
    }

    private void CheckControlNet(IReadOnlyList<ControlNetUnit> units, List<string> problems)
    {
        if (ControlNetAbsence is { } absence)
        {
            problems.Add($"alwayson_scripts.controlnet: {absence}");
            return;
        }

        if (units.Count > ControlNetUnitCount)
        {
            problems.Add($"alwayson_scripts.controlnet.args: {units.Count} units, but the server has {ControlNetUnitCount} slots (control_net_unit_count); the extra units would be dropped silently.");
        }

        for (var i = 0; i < units.Count; i++)
        {
            var unit = units[i];
            var prefix = $"alwayson_scripts.controlnet.args[{i}]";
            problems.AddRange(unit.Validate().Select(p => $"{prefix}.{p}"));
            if (!ControlNetModules.Any(m => m.Equals(unit.Module, StringComparison.Ordinal)))
            {
                problems.Add($"{prefix}.module: {ModuleProblem(unit.Module)}");
            }

            if (!unit.IsModelFree && unit.Model != "None" && FindControlNetModel(unit.Model) is not { } model)
            {
                problems.Add($"{prefix}.model: \"{unit.Model}\" is not a ControlNet model on this server; {NameMatcher.Suggest(unit.Model, ControlNetModels.Where(m => m != "None"))}.");
            }
            else if (Backend.HasForgeControlNet() && unit.Model != "None" && !ControlNetModels.Contains(unit.Model, StringComparer.Ordinal))
            {
                // Forge: controlnet_filename_dict[name], a KeyError for anything but the listed name (lib_controlnet/global_state.py:113-131).
                problems.Add($"{prefix}.model: {Backend.DisplayName()} finds ControlNet models by their exact listed name only; send \"{FindControlNetModel(unit.Model)}\", not \"{unit.Model}\".");
            }

            if (Backend == WebUiBackend.ReForge && unit.ControlMode != ControlNetControlMode.Balanced)
            {
                // reForge turns control_mode into its ControlMode enum (lib_controlnet/external_code.py:95-110, :331) and then
                // compares it with the enum's string value (scripts/controlnet.py:515-521), so every unit runs as Balanced.
                problems.Add($"{prefix}.control_mode: reForge runs every unit as Balanced whatever control_mode says (its enum is compared with a string), so \"{ControlModeName(unit.ControlMode)}\" would be ignored silently; use Balanced, or run this recipe on A1111 or Forge.");
            }

            if (Backend.HasForgeControlNet() && unit.LowVram)
            {
                // Forge's ControlNetUnit has no low_vram field, and from_dict keeps only its own fields (lib_controlnet/external_code.py:157-222).
                problems.Add($"{prefix}.low_vram: {Backend.DisplayName()}'s ControlNet has no such setting and would drop it silently (it manages VRAM itself); leave it off.");
            }
        }
    }

    private static string ControlModeName(ControlNetControlMode mode) => mode switch
    {
        ControlNetControlMode.MyPromptIsMoreImportant => "My prompt is more important",
        ControlNetControlMode.ControlNetIsMoreImportant => "ControlNet is more important",
        _ => "Balanced",
    };

    /// <summary>Why a module name is not on the box, with what to send instead.</summary>
    public string ModuleProblem(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (Backend.HasForgeControlNet() && module.Contains("pulid", StringComparison.OrdinalIgnoreCase))
        {
            return $"\"{module}\": {Backend.DisplayName()} has no PuLID preprocessor (requested in lllyasviel/stable-diffusion-webui-forge#722, not built); run PuLID recipes on an A1111 box with sd-webui-controlnet ≥ 1.1.441.";
        }

        return Backend.HasForgeControlNet()
            ? $"\"{module}\" is not a ControlNet preprocessor on {Backend.DisplayName()}, which accepts UI labels only (softedge_pidinet, not pidinet); {NameMatcher.Suggest(module, ControlNetModules)}."
            : $"\"{module}\" is not a ControlNet module on this server; {NameMatcher.Suggest(module, ControlNetModules)}.";
    }

    private static string StripHash(string title)
    {
        var bracket = title.LastIndexOf(" [", StringComparison.Ordinal);
        return bracket > 0 && title.EndsWith(']') ? title[..bracket] : title;
    }

    [GeneratedRegex(@"<lora:(?<name>[^:>]+)(:[^>]*)?>", RegexOptions.CultureInvariant)]
    private static partial Regex LoraTag();
}
