namespace Miaoya.Recipes.Parsing;

/// <summary>The <c>identity</c> and <c>candidates</c> sections, and the checks that tie model names to <c>model_family</c>.</summary>
internal static partial class RecipeMapper
{
    /// <summary>Each method's preprocessor (sd-webui-controlnet@56cec5b scripts/preprocessor/legacy/preprocessor_compiled.py:380-500, scripts/preprocessor/pulid.py).</summary>
    private static readonly Dictionary<IdentityMethod, string> IdentityModules = new()
    {
        [IdentityMethod.FaceId] = "ip-adapter_face_id",
        [IdentityMethod.FaceIdPlus] = "ip-adapter_face_id_plus",
        [IdentityMethod.FaceIdPortrait] = "ip-adapter_face_id",
        [IdentityMethod.InstantId] = "instant_id_face_embedding",
        [IdentityMethod.PuLid] = "ip-adapter_pulid",
    };

    /// <summary>
    /// The word the extension looks for in the model's file name to pick the architecture
    /// (sd-webui-controlnet@56cec5b scripts/ipadapter/ipadapter_model.py:278-282, scripts/controlnet_model_guess.py:233-234):
    /// a renamed file silently gets another architecture, so the recipe must name a file that carries it.
    /// </summary>
    private static readonly Dictionary<IdentityMethod, string> IdentityModelWord = new()
    {
        [IdentityMethod.FaceId] = "faceid",
        [IdentityMethod.FaceIdPlus] = "faceid",
        [IdentityMethod.FaceIdPortrait] = "portrait",
        [IdentityMethod.InstantId] = "instant_id",
        [IdentityMethod.PuLid] = "pulid",
    };

    /// <summary>The identity section of a recipe of <paramref name="pipeline"/> whose generation steps are <paramref name="generationSteps"/>.</summary>
    private static IdentitySettings? MapIdentity(Section s, PipelineKind? pipeline, IReadOnlyList<string> generationSteps, List<(Section Section, string Key, string? Model)> models)
    {
        var method = s.Enum<IdentityMethod>("method", null);
        // A detail pass re-renders the face, so it carries the identity units too unless steps says otherwise.
        string[] defaultSteps = [pipeline == PipelineKind.V3 ? StepName.Img2Img : StepName.Inpaint, .. generationSteps.Where(g => g == StepName.Detail)];
        var steps = s.Has("steps") ? s.StringList("steps") : defaultSteps;
        if (steps is { Count: 0 })
        {
            s.Report("steps", $"name at least one generation step ({string.Join(", ", generationSteps)})");
        }

        foreach (var step in steps ?? [])
        {
            if (!generationSteps.Contains(step, StringComparer.Ordinal))
            {
                s.Report("steps", $"'{Limits.UserText.Quote(step)}' is not a generation step of this recipe; use {string.Join(" or ", generationSteps)}");
            }
        }

        var module = s.String("module", required: false);
        if (method is { } m && module is not null && module != IdentityModules[m])
        {
            s.Report("module", $"method {EnumWords.Of(m)} runs the preprocessor {IdentityModules[m]}, not {module}");
        }

        var model = s.String("model", required: true);
        models.Add((s, "model", model));
        if (method is { } mm && model is not null && !model.Contains(IdentityModelWord[mm], StringComparison.OrdinalIgnoreCase))
        {
            s.Report(
                "model",
                $"'{model}' lacks \"{IdentityModelWord[mm]}\" in its name, and sd-webui-controlnet picks the {EnumWords.Of(mm)} architecture from the model's file name; name the file as released (e.g. {ExampleModel(mm)})");
        }

        var weight = s.Number("weight", null, 0, 2);
        var guidanceStart = s.Number("guidance_start", 0, 0, 1);
        var guidanceEnd = s.Number("guidance_end", 1, 0, 1);
        if (guidanceStart is { } gs && guidanceEnd is { } ge && gs > ge)
        {
            s.Report("guidance_start", $"guidance_start {gs} is after guidance_end {ge}; need 0 <= guidance_start <= guidance_end <= 1");
        }

        var controlMode = s.Enum<ControlModeKind>("control_mode", ControlModeKind.Balanced);
        var lora = s.String("lora", required: false);
        if (lora is not null && (lora.IndexOfAny([':', '<', '>']) >= 0 || lora.Trim().Length == 0))
        {
            s.Report("lora", $"'{Limits.UserText.Quote(lora)}' is not a LoRA name: it goes into the prompt as <lora:NAME:WEIGHT>, so no ':', '<' or '>'");
        }

        var loraWeight = s.Number("lora_weight", 0.6, 0, 2);
        var cropPadding = s.Number("crop_padding", 0.25, 0, 1);
        var cropSize = s.Integer("crop_size", 512, 64, 1024);
        PulidMode? pulidMode = null;
        if (method == IdentityMethod.PuLid)
        {
            pulidMode = s.Enum<PulidMode>("pulid_mode", PulidMode.Fidelity);
        }
        else if (s.Has("pulid_mode"))
        {
            s.Report("pulid_mode", "only PuLID reads pulid_mode; remove it or set method: pulid");
        }

        IdentityKeypointsSettings? keypoints = null;
        if (method == IdentityMethod.InstantId)
        {
            if (s.Child("keypoints", RecipeSchema.IdentityKeypoints, required: false) is { } k)
            {
                keypoints = MapKeypoints(k);
                models.Add((k, "model", keypoints.Model));
            }
            else
            {
                s.Report("keypoints", "InstantID needs its keypoints unit (module instant_id_face_keypoints, model such as control_instant_id_sdxl), sent right after the embedding unit");
            }
        }
        else if (s.Has("keypoints"))
        {
            s.Report("keypoints", "only InstantID has a keypoints unit; remove it or set method: instantid");
        }

        if (method is null)
        {
            return null;
        }

        return new IdentitySettings
        {
            Method = method.Value,
            Steps = steps ?? defaultSteps,
            Module = module ?? IdentityModules[method.Value],
            Model = model ?? string.Empty,
            Weight = weight ?? 0,
            GuidanceStart = guidanceStart ?? 0,
            GuidanceEnd = guidanceEnd ?? 1,
            ControlMode = controlMode ?? ControlModeKind.Balanced,
            Lora = lora,
            LoraWeight = loraWeight ?? 0.6,
            CropPadding = cropPadding ?? 0.25,
            CropSize = cropSize ?? 512,
            PulidMode = pulidMode,
            Keypoints = keypoints,
        };
    }

    private static string ExampleModel(IdentityMethod method) => method switch
    {
        IdentityMethod.FaceId => "ip-adapter-faceid_sd15",
        IdentityMethod.FaceIdPlus => "ip-adapter-faceid-plusv2_sd15",
        IdentityMethod.FaceIdPortrait => "ip-adapter-faceid-portrait_sd15",
        IdentityMethod.InstantId => "ip-adapter_instant_id_sdxl",
        _ => "ip-adapter_pulid_sdxl_fp16",
    };

    private static IdentityKeypointsSettings MapKeypoints(Section s)
    {
        var module = s.String("module", required: false) ?? "instant_id_face_keypoints";
        if (module != "instant_id_face_keypoints")
        {
            s.Report("module", $"InstantID's second unit runs instant_id_face_keypoints, not {module}");
        }

        var model = s.String("model", required: true);
        if (model is not null && !model.Contains("instant_id", StringComparison.OrdinalIgnoreCase))
        {
            s.Report("model", $"'{model}' lacks \"instant_id\" in its name, which sd-webui-controlnet needs to load it as InstantID's ControlNet (scripts/controlnet_model_guess.py:233-234); e.g. control_instant_id_sdxl");
        }

        var weight = s.Number("weight", null, 0, 2);
        var guidanceStart = s.Number("guidance_start", 0, 0, 1);
        var guidanceEnd = s.Number("guidance_end", 1, 0, 1);
        var controlMode = s.Enum<ControlModeKind>("control_mode", ControlModeKind.Balanced);
        var image = s.Enum<UnitImageSource>("image", UnitImageSource.Template);
        return new IdentityKeypointsSettings(
            module, model ?? string.Empty, weight ?? 0, guidanceStart ?? 0, guidanceEnd ?? 1, controlMode ?? ControlModeKind.Balanced, image ?? UnitImageSource.Template);
    }

    private static CandidatesSettings MapCandidates(Section s)
    {
        var d = CandidatesSettings.Default;
        var count = s.Integer("count", d.Count, 1, 16);
        var scorer = s.Enum<ScorerChoice>("scorer", d.Scorer);
        var minSimilarity = s.Number("min_similarity", d.MinSimilarity, 0, 1);
        var minRatio = s.Number("min_ratio", d.MinRatio, 0, 2);
        return new CandidatesSettings(count ?? d.Count, scorer ?? d.Scorer, minSimilarity ?? d.MinSimilarity, minRatio ?? d.MinRatio);
    }

    /// <summary>
    /// Every model the recipe names whose file name says it belongs to the other family is refused here, naming both: on
    /// the box the mix fails late with an opaque SD-version mismatch from the extension.
    /// </summary>
    private static void CheckFamilies(Section root, ModelFamily family, string? baseModel, IEnumerable<(Section Section, string Key, string? Model)> models, IdentityMethod? method, Section? identity)
    {
        var other = family == ModelFamily.Sd15 ? ModelFamily.Sdxl : ModelFamily.Sd15;
        if (baseModel is not null && ModelFamilies.Guess(baseModel) == other)
        {
            root.Report("base_model", $"{baseModel} looks like an {ModelFamilies.Label(other)} checkpoint but model_family is {EnumWords.Of(family)}; set model_family: {EnumWords.Of(other)} (and use {ModelFamilies.Label(other)} ControlNet models) or pick an {ModelFamilies.Label(family)} checkpoint");
        }

        foreach (var (section, key, model) in models)
        {
            if (model is not null && ModelFamilies.Guess(model) == other)
            {
                section.Report(
                    key,
                    $"{model} is an {ModelFamilies.Label(other)} model but the recipe's model_family is {EnumWords.Of(family)} (base_model {baseModel}); the box would fail with an SD-version mismatch. Use an {ModelFamilies.Label(family)} model or change model_family and base_model together");
            }
        }

        if (identity is not null && method is IdentityMethod.InstantId or IdentityMethod.PuLid && family != ModelFamily.Sdxl)
        {
            identity.Report("method", $"{EnumWords.Of(method.Value)} has SDXL models only; set model_family: sdxl with an SDXL base_model, or use faceid_plus on SD1.5");
        }
    }
}
