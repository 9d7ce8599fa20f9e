namespace Miaoya.MockWebUi;

/// <summary>
/// One preprocessor of Forge's built-in ControlNet: its name (the only name the API takes: global_state.get_preprocessor is
/// a dict lookup, forge@dfdcbab:extensions-builtin/sd_forge_controlnet/lib_controlnet/global_state.py:56-57), its
/// sorting_priority (higher first), tags (its control types) and the model-file filters that pick its models.
/// </summary>
/// <param name="Name">Preprocessor name; for legacy preprocessors the key of legacy_preprocessors (legacy_preprocessors.py:114-120).</param>
/// <param name="Priority">sorting_priority (modules_forge/supported_preprocessor.py:32, default 0).</param>
/// <param name="Tags">Control types it belongs to.</param>
/// <param name="Filters">model_filename_filters: a model belongs to the type when its name contains one (case-insensitive).</param>
/// <param name="ModelFree">do_not_need_model: runs without a ControlNet model.</param>
/// <param name="Image">Its output is an image (false: a CLIP-vision/InsightFace embedding; /controlnet/detect answers
/// "Detect result is not image", lib_controlnet/api.py:21-25) (inference for the legacy ones from no_control_mode).</param>
internal sealed record ForgePreprocessor(string Name, int Priority, string[] Tags, string[] Filters, bool ModelFree = false, bool Image = true)
{
    /// <summary>The module record the mock's renderer and detected maps work with.</summary>
    public CnModule ToModule() => new(Name, Name, ModelFree, Tags.Length > 0 ? Tags[0] : "None", RequiresMask: false, ReturnsTensor: !Image, Tags, []);
}

/// <summary>
/// Every preprocessor Forge (dfdcbab) and reForge (3b56b26) register with add_supported_preprocessor. Paths are under
/// extensions-builtin/ unless they start with modules_forge/; legacy ones cite
/// forge_legacy_preprocessors/legacy_preprocessors/preprocessor_compiled.py:LINE (Forge's line, or reForge's for its own).
/// No PuLID anywhere: Forge has no such preprocessor.
/// </summary>
internal static class ForgePreprocessors
{
    // LegacyPreprocessor: filters = each tag lower-cased plus its aliases; "invert" matches no model
    // (forge@dfdcbab:extensions-builtin/forge_legacy_preprocessors/scripts/legacy_preprocessors.py:52-69,117-119). The alias
    // key 'instant-iD' is never equal to a lower-cased tag, so Instant-ID gets no aliases (:59, :67-69).
    private static readonly Dictionary<string, string[]> FilterAliases = new(StringComparer.Ordinal)
    {
        ["instructp2p"] = ["ip2p"],
        ["segmentation"] = ["seg"],
        ["normalmap"] = ["normal"],
        ["t2i-adapter"] = ["t2i_adapter", "t2iadapter", "t2ia"],
        ["ip-adapter"] = ["ip_adapter", "ipadapter"],
        ["openpose"] = ["openpose", "densepose"],
        ["instant-iD"] = ["instant_id", "instantid"],
    };

    /// <summary>Forge dfdcbab's preprocessors (63 and 'None').</summary>
    public static readonly ForgePreprocessor[] Forge =
    [
        // modules_forge/supported_preprocessor.py:75-100
        new("None", 10, [], []),
        new("canny", 100, ["Canny"], ["canny"]),
        // forge_preprocessor_inpaint/scripts/preprocessor_inpaint.py:16-21,32-35,98-101,163-167
        new("inpaint_global_harmonious", 0, ["Inpaint"], ["inpaint"]),
        new("inpaint_only", 0, ["Inpaint"], ["inpaint"]),
        new("inpaint_only+lama", 0, ["Inpaint"], ["inpaint"]),
        // forge_preprocessor_marigold/scripts/preprocessor_marigold.py:16-29,68
        new("depth_marigold", 100, ["Depth"], ["depth"]),
        // forge_preprocessor_normalbae/scripts/preprocessor_normalbae.py:16-29,77
        new("normalbae", 100, ["NormalMap"], ["normal"]),
        // forge_preprocessor_recolor/scripts/preprocessor_recolor.py:8-14,59-67
        new("recolor_intensity", 0, ["Recolor"], ["color", "recolor", "grey", "gray"]),
        new("recolor_luminance", 0, ["Recolor"], ["color", "recolor", "grey", "gray"]),
        // forge_preprocessor_reference/scripts/forge_reference.py:32-44,196-213
        new("reference_only", 100, ["Reference"], [], ModelFree: true),
        new("reference_adain", 0, ["Reference"], [], ModelFree: true),
        new("reference_adain+attn", 0, ["Reference"], [], ModelFree: true),
        // forge_preprocessor_revision/scripts/preprocessor_revision.py:64-69,99-111; priority 1 from
        // modules_forge/supported_preprocessor.py:114 (PreprocessorClipVision)
        new("CLIP-G (Revision)", 1, ["Revision"], ["Revision"], ModelFree: true, Image: false),
        new("CLIP-G (Revision ignore prompt)", 1, ["Revision"], ["Revision"], ModelFree: true, Image: false),
        // forge_preprocessor_tile/scripts/preprocessor_tile.py:13-18,32-35,87-90,98-102
        new("tile_resample", 0, ["Tile"], ["tile"]),
        new("tile_colorfix", 0, ["Tile"], ["tile"]),
        new("tile_colorfix+sharp", 0, ["Tile"], ["tile"]),
        // sd_forge_ipadapter/scripts/forge_ipadapter.py:14-19,56-66,88-108 (InstantID's priority ends at 10, :66)
        new("CLIP-ViT-H (IPAdapter)", 20, ["IP-Adapter"], ["IP-Adapter", "IP_Adapter"], Image: false),
        new("CLIP-ViT-bigG (IPAdapter)", 20, ["IP-Adapter"], ["IP-Adapter", "IP_Adapter"], Image: false),
        new("InsightFace+CLIP-H (IPAdapter)", 20, ["IP-Adapter"], ["IP-Adapter", "IP_Adapter"], Image: false),
        new("InsightFace (InstantID)", 10, ["Instant-ID"], ["Instant-ID", "Instant_ID"], Image: false),
        // legacy: preprocessor_compiled.py:LINE (instant_id_face_embedding, :380, is commented out in Forge)
        Legacy("invert (from white bg & black line)", 20, 19, ["Canny", "Lineart", "Scribble", "Sketch", "MLSD"]),
        Legacy("animal_openpose", 0, 35, ["OpenPose"]),
        Legacy("blur_gaussian", 0, 56, ["Tile", "Blur"]),
        Legacy("densepose (pruple bg & purple torso)", 0, 113, ["OpenPose"]),
        Legacy("densepose_parula (black bg & blue torso)", 0, 134, ["OpenPose"]),
        Legacy("depth_anything", 0, 155, ["Depth"]),
        Legacy("depth_anything_v2", 0, 171, ["Depth"]),
        Legacy("depth_hand_refiner", 0, 187, ["Depth"]),
        Legacy("depth_leres", 0, 208, ["Depth"]),
        Legacy("depth_leres++", 0, 241, ["Depth"]),
        Legacy("depth_midas", 100, 274, ["Depth"]),
        Legacy("depth_zoe", 0, 295, ["Depth"]),
        Legacy("dw_openpose_full", 0, 311, ["OpenPose"]),
        Legacy("instant_id_face_keypoints", 0, 396, ["Instant-ID"]),
        Legacy("lineart_anime", 0, 492, ["Lineart"]),
        Legacy("lineart_anime_denoise", 0, 508, ["Lineart"]),
        Legacy("lineart_coarse", 0, 524, ["Lineart"]),
        Legacy("lineart_realistic", 0, 540, ["Lineart"]),
        Legacy("lineart_standard (from white bg & black line)", 100, 556, ["Lineart"]),
        Legacy("mediapipe_face", 0, 572, []),
        Legacy("mlsd", 100, 603, ["MLSD"]),
        Legacy("normal_midas", 0, 653, ["NormalMap"]),
        Legacy("openpose", 0, 680, ["OpenPose"]),
        Legacy("openpose_face", 0, 701, ["OpenPose"]),
        Legacy("openpose_faceonly", 0, 717, ["OpenPose"]),
        Legacy("openpose_full", 100, 733, ["OpenPose"]),
        Legacy("openpose_hand", 0, 754, ["OpenPose"]),
        Legacy("scribble_hed", 0, 922, ["Scribble", "Sketch"]),
        Legacy("scribble_pidinet", 100, 943, ["Scribble", "Sketch"]),
        Legacy("scribble_xdog", 0, 959, ["Scribble", "Sketch"]),
        Legacy("seg_anime_face", 0, 985, ["Segmentation"]),
        Legacy("seg_ofade20k", 100, 1006, ["Segmentation"]),
        Legacy("seg_ofcoco", 0, 1022, ["Segmentation"]),
        Legacy("seg_ufade20k", 0, 1038, ["Segmentation"]),
        Legacy("shuffle", 100, 1059, ["Shuffle"]),
        Legacy("softedge_hed", 0, 1075, ["SoftEdge"]),
        Legacy("softedge_hedsafe", 0, 1096, ["SoftEdge"]),
        Legacy("softedge_pidinet", 100, 1117, ["SoftEdge"]),
        Legacy("softedge_pidisafe", 0, 1133, ["SoftEdge"]),
        Legacy("softedge_teed", 0, 1149, ["SoftEdge"]),
        Legacy("t2ia_color_grid", 0, 1176, ["T2I-Adapter"]),
        Legacy("t2ia_sketch_pidi", 0, 1197, ["T2I-Adapter"]),
        Legacy("threshold", 0, 1229, []),
    ];

    /// <summary>
    /// reForge 3b56b26: Forge's set without normal_midas, plus its *_variant legacy entries, instant_id_face_embedding,
    /// normalmap_midas, inpaint_noobai_xl and the PhotoMaker preprocessor.
    /// </summary>
    public static readonly ForgePreprocessor[] ReForge =
    [
        .. Forge.Where(p => p.Name != "normal_midas"),
        // reforge@3b56b26:extensions-builtin/forge_preprocessor_inpaint/scripts/preprocessor_inpaint.py:170-175,219
        new("inpaint_noobai_xl", 0, ["Inpaint"], ["inpaint", "noobai"]),
        // reforge@3b56b26:extensions-builtin/sd_forge_photomaker/scripts/forge_photomaker.py:11-25
        new("ClipVision (Photomaker)", 20, ["PhotoMaker"], ["PhotoMaker", "Photo_Maker", "Photo-Maker"]),
        // reforge@3b56b26 legacy: preprocessor_compiled.py:LINE
        Legacy("inpaint_global_harmonious_variant", 0, 332, ["Inpaint"]),
        Legacy("inpaint_only_variant", 100, 348, ["Inpaint"]),
        Legacy("inpaint_only+lama_variant", 0, 364, ["Inpaint"]),
        Legacy("instant_id_face_embedding", 0, 380, ["Instant-ID"]),
        Legacy("ip-adapter_clip_sd15_variant", 100, 493, ["IP-Adapter"], image: false),
        Legacy("ip-adapter_clip_sdxl_variant", 0, 511, ["IP-Adapter"], image: false),
        Legacy("ip-adapter_clip_sdxl_plus_vith_variant", 0, 529, ["IP-Adapter"], image: false),
        Legacy("ip-adapter_face_id_variant", 0, 547, ["IP-Adapter"], image: false),
        Legacy("ip-adapter_face_id_plus_variant", 0, 564, ["IP-Adapter"], image: false),
        Legacy("normal_bae_variant", 100, 726, ["NormalMap"]),
        Legacy("normalmap_midas", 0, 742, ["NormalMap"]),
        Legacy("recolor_intensity_variant", 0, 859, ["Recolor"]),
        Legacy("recolor_luminance_variant", 100, 881, ["Recolor"]),
        Legacy("reference_adain_variant", 0, 903, ["Reference"], modelFree: true),
        Legacy("reference_adain+attn_variant", 0, 925, ["Reference"], modelFree: true),
        Legacy("reference_only_variant", 100, 947, ["Reference"], modelFree: true),
        Legacy("revision_clipvision_variant", 100, 969, ["Revision"], modelFree: true, image: false),
        Legacy("revision_ignore_prompt_variant", 0, 991, ["Revision"], modelFree: true, image: false),
        Legacy("t2ia_style_clipvision_variant", 0, 1304, ["T2I-Adapter"], image: false),
        Legacy("tile_colorfix_variant", 0, 1344, ["Tile", "Blur"]),
        Legacy("tile_colorfix+sharp_variant", 0, 1366, ["Tile", "Blur"]),
        Legacy("tile_resample_variant", 100, 1394, ["Tile", "Blur"]),
    ];

    /// <summary>The preprocessors of <paramref name="dialect"/>'s ControlNet (Forge's or reForge's).</summary>
    public static ForgePreprocessor[] Of(UnitDialect dialect) => dialect == UnitDialect.ReForge ? ReForge : Forge;

    private static ForgePreprocessor Legacy(string name, int priority, int line, string[] tags, bool modelFree = false, bool image = true)
    {
        _ = line; // the source line, kept beside the entry
        var filters = name.Contains("invert", StringComparison.Ordinal)
            ? []
            : tags.SelectMany(t => new[] { t.ToLowerInvariant() }.Concat(FilterAliases.GetValueOrDefault(t.ToLowerInvariant(), []))).ToArray();
        return new ForgePreprocessor(name, priority, tags, filters, modelFree, image);
    }
}
