using System.Globalization;
using System.Text.Json;
using Miaoya.Imaging;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Doctor;

/// <summary>
/// Checks boxes against what recipes need: API reachable and authorised, WebUI version and flags, the ControlNet,
/// tagger and rembg extensions (versions against the manifest's pins), tagger models, checkpoint, LoRA, embeddings,
/// ControlNet modules, models and unit slots, samplers and schedulers. Fix hints come from <see cref="WebUiManifest"/>.
/// </summary>
public static class WebUiDoctor
{
    private static readonly string[] ShownFlags = ["api", "listen", "nowebui", "xformers", "medvram", "lowvram", "no_half", "enable_insecure_extension_access"];

    /// <summary>Checks every box concurrently; the reports keep the boxes' order.</summary>
    /// <param name="boxes">One client per box.</param>
    /// <param name="recipes">The recipes the boxes must serve.</param>
    /// <param name="lora">The person's LoRA to look for (given at run time); null = not checked.</param>
    /// <param name="manifest">Where fix hints come from.</param>
    /// <param name="deepFace">
    /// <c>--deep</c>: a photo with one face; each identity preprocessor the recipes use runs once on it through
    /// <c>POST /controlnet/detect</c>. Null: nothing is run.
    /// </param>
    /// <param name="cancellationToken">Cancels the probes.</param>
    public static async Task<DoctorReport> CheckAsync(
        IReadOnlyList<WebUiClient> boxes, IReadOnlyList<Recipe> recipes, string? lora, WebUiManifest manifest, EncodedImage? deepFace = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(recipes);
        ArgumentNullException.ThrowIfNull(manifest);
        var reports = await Task.WhenAll(boxes.Select(b => CheckBoxAsync(b, recipes, lora, manifest, deepFace, cancellationToken)));
        return new DoctorReport(recipes.Select(r => r.Name).ToArray(), reports);
    }

    /// <summary>One box's table; with <paramref name="deepFace"/>, the identity preprocessors run once on it (<c>--deep</c>).</summary>
    public static async Task<BoxReport> CheckBoxAsync(
        WebUiClient client, IReadOnlyList<Recipe> recipes, string? lora, WebUiManifest manifest, EncodedImage? deepFace = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(recipes);
        ArgumentNullException.ThrowIfNull(manifest);
        var url = client.Endpoint.BaseUrl;
        WebUiCapabilities box;
        try
        {
            box = await client.ProbeAsync(cancellationToken);
        }
        catch (WebUiApiException e) when (e.StatusCode is 401 or 403)
        {
            var fix = client.Endpoint.Username is null
                ? "the box runs with --api-auth: pass its credentials with --auth user:password"
                : $"the credentials of user {client.Endpoint.Username} are not accepted: check --auth against the box's --api-auth";
            return new BoxReport(url, null, [new("API", DoctorStatus.Missing, $"answers {e.StatusCode} {(e.StatusCode == 401 ? "Unauthorized" : "Forbidden")}: not authorised", fix)]);
        }
        catch (WebUiUnsupportedBackendException e)
        {
            return new BoxReport(url, e.Backend.DisplayName(), [new("backend", DoctorStatus.Missing, e.Message,
                "point miaoya at an A1111, Forge or reForge box (SD.Next runs recipes without ControlNet only)")]);
        }
        catch (WebUiApiException e) when (e.StatusCode == 404)
        {
            return new BoxReport(url, null, [new("API", DoctorStatus.Missing, $"{url} answers but has no /sdapi/v1 routes (404)",
                $"start the WebUI with --api (and --listen to reach it from other machines); the compose file's webui service does: webui-extensions/manifest.yaml pins {manifest.WebUi.Version}")]);
        }
        catch (WebUiException e)
        {
            return new BoxReport(url, null, [new("API", DoctorStatus.Missing, $"not reachable: {e.Message}",
                "start the WebUI with --api --listen and check the URL, port and firewall (docker-compose up webui starts one)")]);
        }

        var rows = new List<DoctorRow>
        {
            new("API", DoctorStatus.Ok, client.Endpoint.Username is null ? "reachable" : $"reachable, authorised as {client.Endpoint.Username}"),
        };
        rows.Add(VersionRow(box, manifest));
        rows.AddRange(await FlagRowsAsync(client, cancellationToken));

        var needs = recipes
            .SelectMany(r => RecipeRequirements.Of(r).Select(q => (Recipe: r.Name, Need: q)))
            .GroupBy(x => (x.Need.Kind, x.Need.Name))
            .Select(g => (g.Key.Kind, g.Key.Name, Recipes: (IReadOnlyList<string>)g.Select(x => x.Recipe).Distinct().ToArray(), g.First().Need.Where))
            .ToList();
        IReadOnlyList<string> RecipesOf(RequirementKind kind) => needs.Where(n => n.Kind == kind).SelectMany(n => n.Recipes).Distinct().ToArray();

        rows.Add(BackendRow(box, RecipesOf(RequirementKind.ControlNet)));

        // Extensions first: without ControlNet its modules and models cannot be listed.
        rows.Add(box.HasBuiltInControlNet
            ? new("ControlNet", DoctorStatus.Ok, $"built into {box.Backend.DisplayName()}, {box.ControlNetUnitCount} unit slots (control_net_unit_count)", null, RecipesOf(RequirementKind.ControlNet))
            : ExtensionRow(box, manifest, "controlnet", "ControlNet", box.HasControlNet, RecipesOf(RequirementKind.ControlNet),
                box.HasControlNet ? $"API v{box.ControlNetApiVersion}, {box.ControlNetUnitCount} unit slots" : box.ControlNetAbsence!));
        rows.Add(ExtensionRow(box, manifest, "tagger", "WD14 tagger", box.HasTagger, RecipesOf(RequirementKind.Tagger),
            box.HasTagger ? $"{box.TaggerFlavor}, {box.TaggerModels.Count} models" : "not installed (/tagger/v1/interrogators answers 404)"));
        rows.Add(ExtensionRow(box, manifest, "rembg", "rembg", box.HasRembg, [], box.HasRembg ? "installed" : "not installed"));

        foreach (var (kind, name, needers, where) in needs)
        {
            var row = kind switch
            {
                RequirementKind.Tagger or RequirementKind.ControlNet => null,
                RequirementKind.TaggerModel => TaggerModelRow(box, name, manifest),
                RequirementKind.ControlNetUnits => UnitsRow(box, name, recipes.Where(r => needers.Contains(r.Name))),
                RequirementKind.ControlNetModule when name == RecipeRequirements.EvaClipModule => IdentityRows.EvaClipRow(box, manifest),
                RequirementKind.ControlNetModule => ModuleRow(box, name, manifest),
                RequirementKind.Lora when where == "identity.lora" => IdentityRows.CompanionLoraRow(box, name, manifest),
                RequirementKind.ControlNetModel => ControlNetModelRow(box, name, manifest),
                RequirementKind.Checkpoint => CheckpointRow(box, name, manifest),
                RequirementKind.Embedding => EmbeddingRow(box, name, manifest),
                RequirementKind.Sampler => SamplerRow(box, name, manifest),
                RequirementKind.Upscaler => ExtrasModelRow(box, "upscaler", name, box.Upscalers, manifest),
                RequirementKind.FaceRestorer => ExtrasModelRow(box, "face_restorer", name, box.FaceRestorers, manifest),
                _ => null,
            };
            if (row is not null)
            {
                rows.Add(row with { Recipes = needers });
            }
        }

        if (!needs.Any(n => n.Kind == RequirementKind.TaggerModel) && box.HasTagger)
        {
            rows.Add(new("tagger model", DoctorStatus.Ok, $"the recipes take the box's first: {box.TaggerModels[0]}", null, RecipesOf(RequirementKind.Tagger)));
        }

        rows.AddRange(IdentityRows.FileNameRows(box, recipes));
        if (deepFace is not null)
        {
            rows.AddRange(await IdentityRows.DeepRowsAsync(client, box, recipes, deepFace, manifest, cancellationToken));
        }

        rows.Add(LoraRow(box, lora, manifest, recipes.Select(r => r.Name).ToArray()));
        rows.AddRange(PreflightRows(box, recipes, lora, rows));
        return new BoxReport(url, box.WebUiVersion, rows);
    }

    /// <summary>Which server answers, and what that means for the recipes: Forge's rules, or SD.Next's missing ControlNet API.</summary>
    private static DoctorRow BackendRow(WebUiCapabilities box, IReadOnlyList<string> controlNetRecipes)
    {
        var name = box.Backend.DisplayName() + (box.BackendVersion is { } v ? $" {v}" : "");
        return box.Backend switch
        {
            WebUiBackend.Forge or WebUiBackend.ReForge => new("backend", DoctorStatus.Ok,
                $"{name} (no /controlnet/version; built-in ControlNet): units go with UI-label modules, exact \"name [hash]\" models, a plain base64 image and mask_image, string enums"),
            WebUiBackend.SdNext when controlNetRecipes.Count > 0 => new("backend", DoctorStatus.Missing,
                $"{name}: {box.ControlNetAbsence}", "run these recipes on an A1111, Forge or reForge box", controlNetRecipes),
            WebUiBackend.SdNext => new("backend", DoctorStatus.Warning, $"{name}: no recipe checked needs ControlNet, which it lacks"),
            _ => new("backend", DoctorStatus.Ok, box.HasControlNet ? $"{name} with sd-webui-controlnet" : name),
        };
    }

    private static DoctorRow VersionRow(WebUiCapabilities box, WebUiManifest manifest) =>
        new("WebUI version", DoctorStatus.Ok,
            $"{box.WebUiVersion} ({(box.SamplerDialect == SamplerDialect.Combined ? "composite sampler names" : "sampler + scheduler")}); the manifest pins {manifest.WebUi.Version}");

    private static async Task<IReadOnlyList<DoctorRow>> FlagRowsAsync(WebUiClient client, CancellationToken cancellationToken)
    {
        var rows = new List<DoctorRow>();
        IReadOnlyDictionary<string, JsonElement> flags;
        try
        {
            flags = await client.GetCmdFlagsAsync(cancellationToken);
        }
        catch (WebUiException e)
        {
            return [new("cmd flags", DoctorStatus.Warning, $"/sdapi/v1/cmd-flags could not be read: {e.Message}")];
        }

        bool Flag(string name) => flags.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.True;
        bool Set(string name) => flags.TryGetValue(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined or JsonValueKind.False);
        var on = ShownFlags.Where(Flag).Select(f => "--" + f.Replace('_', '-'));
        rows.Add(new("cmd flags", Flag("api") || Flag("nowebui") ? DoctorStatus.Ok : DoctorStatus.Warning,
            $"{string.Join(" ", on)}{(Set("api_auth") ? " --api-auth (set)" : "")}",
            Flag("api") || Flag("nowebui") ? null : "the API answered, but --api is not in the flags: start the WebUI with --api"));
        if (Flag("listen") && !Set("api_auth"))
        {
            rows.Add(new("API access", DoctorStatus.Warning, "--listen without --api-auth: anyone on the network can use the box",
                "add --api-auth user:password to COMMANDLINE_ARGS and pass --auth to miaoya"));
        }

        if (Flag("lowvram") || Flag("medvram"))
        {
            rows.Add(new("memory flags", DoctorStatus.Warning, $"{(Flag("lowvram") ? "--lowvram" : "--medvram")}: every generation is slower",
                "drop it on a GPU with 8 GB or more"));
        }

        if (Flag("enable_insecure_extension_access"))
        {
            rows.Add(new("extension access", DoctorStatus.Warning, "--enable-insecure-extension-access: extensions can be installed over the network",
                "drop the flag; install extensions with webui-extensions/install-extensions.sh"));
        }

        try
        {
            var options = await client.GetOptionsAsync(cancellationToken);
            // samples_save does not matter here: every generation request sends save_images: false, and the API turns that
            // into do_not_save_samples/do_not_save_grid (modules/api/api.py, text2imgapi/img2imgapi "Override __init__
            // params"). Two options still write files whatever the request says: A1111's save_init_img (the init image,
            // i.e. the person's portrait in a V2/V3 pass) and ControlNet's control_net_detectmap_autosaving (its maps).
            var writers = new (string Key, string Where)[]
            {
                ("save_init_img", "Settings → Saving images → untick \"Save init images when using img2img\""),
                ("control_net_detectmap_autosaving", "Settings → ControlNet → untick \"Allow detectmap auto saving\""),
            }.Where(o => options.TryGetValue(o.Key, out var on) && on.ValueKind == JsonValueKind.True).ToArray();
            rows.Add(writers.Length == 0
                ? new("saved copies", DoctorStatus.Ok, "none: requests send save_images: false, and save_init_img and ControlNet's detectmap autosaving are off")
                : new("saved copies", DoctorStatus.Warning,
                    $"{string.Join(" and ", writers.Select(w => w.Key))} on: the box writes copies of the person's images to its disk whatever a request says",
                    string.Join("; ", writers.Select(w => w.Where)) + $" (or POST {{{string.Join(", ", writers.Select(w => $"\"{w.Key}\": false"))}}} to /sdapi/v1/options)"));
        }
        catch (WebUiException e)
        {
            rows.Add(new("saved copies", DoctorStatus.Warning, $"/sdapi/v1/options could not be read: {e.Message}"));
        }

        return rows;
    }

    private static DoctorRow ExtensionRow(
        WebUiCapabilities box, WebUiManifest manifest, string id, string title, bool present, IReadOnlyList<string> needers, string detail)
    {
        var pin = manifest.Extension(id) ?? throw new InvalidOperationException($"webui-extensions/manifest.yaml has no extension '{id}'.");
        if (!present)
        {
            var required = needers.Count > 0;
            return new(title, required ? DoctorStatus.Missing : DoctorStatus.Warning,
                required ? detail : $"{detail}; no recipe checked needs it ({pin.Why})", pin.InstallHint, needers);
        }

        var installed = box.Extensions.FirstOrDefault(e => e.Remote is { } remote && RemoteIs(remote, pin.Slug));
        if (installed?.CommitHash is not { } commit)
        {
            return new(title, DoctorStatus.Ok, $"{detail}; commit unknown (not in /sdapi/v1/extensions)", null, needers);
        }

        var known = pin.KnownCommits.TryGetValue(commit, out var version) ? $" = {version}" : "";
        var fork = installed.Remote!.Contains(pin.Slug, StringComparison.OrdinalIgnoreCase) ? "" : $" from {installed.Remote}";
        if (commit.Equals(pin.Commit, StringComparison.OrdinalIgnoreCase))
        {
            return new(title, DoctorStatus.Ok, $"{detail}; commit {commit[..8]}{known} (pinned)", null, needers);
        }

        return new(title, DoctorStatus.Warning, $"{detail}; commit {commit[..Math.Min(8, commit.Length)]}{known}{fork}, the manifest pins {pin.Commit[..8]}{(pin.Version == pin.Commit[..8] ? "" : $" = {pin.Version}")}",
            pin.InstallHint, needers);
    }

    /// <summary>
    /// Whether a git remote is the pinned repository or a fork of it: its last path segment is the repository's name, so that
    /// sd-webui-controlnet-evaclip is not taken for sd-webui-controlnet.
    /// </summary>
    internal static bool RemoteIs(string remote, string slug)
    {
        var last = remote.TrimEnd('/');
        last = last.EndsWith(".git", StringComparison.OrdinalIgnoreCase) ? last[..^4] : last;
        last = last[(last.LastIndexOfAny(['/', ':']) + 1)..];
        return last.Equals(slug.Split('/')[1], StringComparison.OrdinalIgnoreCase);
    }

    private static DoctorRow TaggerModelRow(WebUiCapabilities box, string name, WebUiManifest manifest)
    {
        if (!box.HasTagger || box.TaggerModels.Contains(name))
        {
            return new($"tagger model {name}", box.HasTagger ? DoctorStatus.Ok : DoctorStatus.Missing, box.HasTagger ? "offered" : "no tagger on the box",
                box.HasTagger ? null : manifest.Extension("tagger")!.InstallHint);
        }

        return new($"tagger model {name}", DoctorStatus.Missing, $"not offered; {NameMatcher.Suggest(name, box.TaggerModels)}",
            $"use a model the tagger lists (interrogate.model, or null for the first); {manifest.Model("tagger_model", null)?.InstallHint()}");
    }

    private const string NeedsControlNet = "needs the ControlNet extension (see its row)";

    private static DoctorRow UnitsRow(WebUiCapabilities box, string count, IEnumerable<Recipe> needers)
    {
        var needed = int.Parse(count, CultureInfo.InvariantCulture);
        var title = $"ControlNet slots for {needed} units";
        // Identity units count too (InstantID takes two): "v4-faceid: 3 + 1 identity unit".
        var identity = string.Join("; ", needers.Where(r => r.Identity is not null).Select(r =>
            $"{r.Name}: {needed - r.Identity!.UnitCount} + {r.Identity.UnitCount} identity unit{(r.Identity.UnitCount == 1 ? "" : "s")}"));
        identity = identity.Length == 0 ? "" : $" ({identity})";
        if (!box.HasControlNet || needed <= box.ControlNetUnitCount)
        {
            return new(title, box.HasControlNet ? DoctorStatus.Ok : DoctorStatus.Missing,
                box.HasControlNet ? $"{needed} of {box.ControlNetUnitCount}{identity}" : NeedsControlNet);
        }

        return new(title, DoctorStatus.Missing, $"{needed} units enabled{identity}, the box has {box.ControlNetUnitCount} (the rest would be dropped silently)",
            $"Settings → ControlNet → \"Multi-ControlNet: ControlNet unit number\" to {needed} or more (control_net_unit_count), then restart the WebUI");
    }

    private static DoctorRow ModuleRow(WebUiCapabilities box, string module, WebUiManifest manifest)
    {
        var pin = manifest.Extension("controlnet")!;
        if (!box.HasControlNet)
        {
            return new($"ControlNet module {module}", DoctorStatus.Missing, NeedsControlNet);
        }

        return box.ResolveControlNetModule(module) is { } sent
            ? new($"ControlNet module {module}", DoctorStatus.Ok, sent == module ? "available" : $"available, sent as its UI label {sent}")
            : new($"ControlNet module {module}", DoctorStatus.Missing, box.ModuleProblem(module),
                box.HasBuiltInControlNet ? $"use the UI label {box.Backend.DisplayName()} lists" : $"preprocessors ship with the extension: {pin.InstallHint}");
    }

    private static DoctorRow ControlNetModelRow(WebUiCapabilities box, string model, WebUiManifest manifest)
    {
        var entry = manifest.Model("controlnet_model", model);
        var hint = entry is null ? $"put {model}.pth (or .safetensors) in models/ControlNet/" : entry.InstallHint();
        if (!box.HasControlNet)
        {
            return new($"ControlNet model {model}", DoctorStatus.Missing, $"{NeedsControlNet}; the model file too", hint);
        }

        return box.FindControlNetModel(model) is { } found
            ? new($"ControlNet model {model}", DoctorStatus.Ok, found)
            : new($"ControlNet model {model}", DoctorStatus.Missing, $"not on the box; {NameMatcher.Suggest(model, box.ControlNetModels.Where(m => m != "None"))}",
                hint + " (then the model list refreshes by itself)");
    }

    private static DoctorRow CheckpointRow(WebUiCapabilities box, string name, WebUiManifest manifest)
    {
        var entry = manifest.Model("checkpoint", name);
        var hint = (entry?.InstallHint() ?? $"put {name}.safetensors in models/Stable-diffusion/") + ", then POST /sdapi/v1/refresh-checkpoints (or restart)";
        if (box.FindCheckpoint(name) is not { } found)
        {
            return new($"checkpoint {name}", DoctorStatus.Missing, $"not on the box; {NameMatcher.Suggest(name, box.Checkpoints.Select(c => c.Title))}", hint);
        }

        if (entry is { Sha256.Length: > 0 } && found.Sha256 is { Length: > 0 } sha && !sha.Equals(entry.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return new($"checkpoint {name}", DoctorStatus.Warning, $"{found.Title}: sha256 {sha[..10]}…, the manifest's file is {entry.Sha256[..10]}… (another file under the same name)", hint);
        }

        var matches = entry is { Sha256.Length: > 0 } && found.Sha256 is { Length: > 0 };
        return new($"checkpoint {name}", DoctorStatus.Ok, matches ? $"{found.Title}, sha256 as in the manifest" : found.Title);
    }

    private static DoctorRow EmbeddingRow(WebUiCapabilities box, string name, WebUiManifest manifest)
    {
        if (box.Embeddings.Contains(name, StringComparer.Ordinal))
        {
            return new($"embedding {name}", DoctorStatus.Ok, "loaded");
        }

        var hint = (manifest.Model("embedding", name)?.InstallHint() ?? $"put {name}.pt (or .safetensors) in embeddings/")
            + "; the WebUI loads embeddings made for the loaded checkpoint's model family only";
        return new($"embedding {name}", DoctorStatus.Missing, $"not loaded; {NameMatcher.Suggest(name, box.Embeddings)}", hint);
    }

    /// <summary>An upscaler or face restorer of the finishing passes, by the name the box lists it under.</summary>
    private static DoctorRow ExtrasModelRow(WebUiCapabilities box, string kind, string name, IReadOnlyList<string> offered, WebUiManifest manifest)
    {
        var title = $"{(kind == "upscaler" ? "upscaler" : "face restorer")} {name}";
        if (offered.Contains(name, StringComparer.Ordinal))
        {
            return new(title, DoctorStatus.Ok, "listed");
        }

        var list = kind == "upscaler" ? "GET /sdapi/v1/upscalers" : "GET /sdapi/v1/face-restorers";
        return new(title, DoctorStatus.Missing, $"not listed ({list}); {NameMatcher.Suggest(name, offered.Where(o => o != "None"))}",
            manifest.Model(kind, name)?.InstallHint() ?? $"install it on the box, or name one the box lists in the recipe");
    }

    private static DoctorRow SamplerRow(WebUiCapabilities box, string name, WebUiManifest manifest)
    {
        var bar = name.IndexOf('|', StringComparison.Ordinal);
        var (sampler, scheduler) = bar < 0 ? (name, (string?)null) : (name[..bar], name[(bar + 1)..]);
        var title = $"sampler {sampler}{(scheduler is null ? "" : $" + {scheduler}")}";
        try
        {
            var (resolved, resolvedScheduler) = box.ResolveSampler(sampler, scheduler);
            return new(title, DoctorStatus.Ok, $"sent as \"{resolved}\"{(resolvedScheduler is null ? "" : $" + scheduler \"{resolvedScheduler}\"")}");
        }
        catch (WebUiRequestException e)
        {
            return new(title, DoctorStatus.Missing, string.Join(" ", e.Problems),
                $"change the recipe's sampler to one the box lists, or run the WebUI the manifest pins ({manifest.WebUi.Version}, commit {manifest.WebUi.Commit[..8]})");
        }
    }

    private static DoctorRow LoraRow(WebUiCapabilities box, string? lora, WebUiManifest manifest, IReadOnlyList<string> recipes)
    {
        var entry = manifest.Model("lora", null);
        if (lora is null)
        {
            return new("LoRA", DoctorStatus.Warning, $"not checked (the person's LoRA is given at run time; pass --lora NAME); the box has {box.Loras.Count}", null, recipes);
        }

        return box.Loras.Any(l => l.Name == lora || l.Alias == lora)
            ? new($"LoRA {lora}", DoctorStatus.Ok, "on the box", null, recipes)
            : new($"LoRA {lora}", DoctorStatus.Missing, $"not on the box; {NameMatcher.Suggest(lora, box.Loras.Select(l => l.Name))}",
                (entry?.InstallHint(lora) ?? $"put {lora}.safetensors in models/Lora/") + ", then POST /sdapi/v1/refresh-loras", recipes);
    }

    /// <summary>
    /// The run's own preflight as a safety net: whatever it would refuse that no row above already marks missing
    /// becomes a row, so doctor never passes a box a run would reject.
    /// </summary>
    internal static IEnumerable<DoctorRow> PreflightRows(WebUiCapabilities box, IReadOnlyList<Recipe> recipes, string? lora, IReadOnlyList<DoctorRow> rows)
    {
        var missing = rows.Where(r => r.Status == DoctorStatus.Missing).ToList();
        var choice = new LoraChoice(lora ?? (box.Loras.Count > 0 ? box.Loras[0].Name : "none"));
        foreach (var recipe in recipes)
        {
            if (missing.Any(r => r.Recipes.Contains(recipe.Name)))
            {
                continue; // the recipe already has a missing row; preflight would only say it again in other words
            }

            var problems = Preflight.Check(recipe, box, lora is null ? null : choice).ToList();
            if (problems.Count > 0)
            {
                yield return new($"preflight of {recipe.Name}", DoctorStatus.Missing, string.Join(" ", problems),
                    "see the message; miaoya run would refuse this recipe on this box", [recipe.Name]);
            }
        }
    }
}
