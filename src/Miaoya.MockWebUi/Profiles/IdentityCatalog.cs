using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// The Stable Diffusion family ControlNet's version check sees (sd-webui-controlnet@56cec5b scripts/enums.py:39-61); the names
/// are Python's, as its messages print them ("StableDiffusionVersion.SDXL").
/// </summary>
internal enum SdVersion
{
    /// <summary>Not guessed from the name: compatible with everything.</summary>
    UNKNOWN,

    /// <summary>SD 1.4/1.5/1.6.</summary>
    SD1x,

    /// <summary>SD 2.x.</summary>
    SD2x,

    /// <summary>SDXL.</summary>
    SDXL,
}

/// <summary>
/// What the tuning-free identity units (FaceID, InstantID, PuLID; issue 17) need from sd-webui-controlnet on the A1111 profiles:
/// their preprocessor names, the EVA-CLIP extension PuLID calls, and the model-name rules ControlNet keys its behaviour on.
/// Both pinned ControlNet commits have them: FaceID came in a8463765 (#2434), InstantID in 9473a777 (#2580) and PuLID in
/// 784b6d01 (#2838), all ancestors of the webui-1.8 profile's 3d75bd08 (v1.1.447) and the webui-1.10 profile's 56cec5b.
/// </summary>
internal static class IdentityCatalog
{
    /// <summary>What <see cref="MockWebUiOptions.Without"/> names for a box without the EVA-CLIP extension.</summary>
    public const string EvaClipLacking = "evaclip";

    /// <summary>What <see cref="MockWebUiOptions.Without"/> names for a box whose Python lacks the insightface package.</summary>
    public const string InsightFaceLacking = "insightface";

    /// <summary>The extension's folder name, as <c>/sdapi/v1/extensions</c> lists it.</summary>
    public const string EvaClipExtension = "sd-webui-controlnet-evaclip";

    /// <summary>huchenlei/sd-webui-controlnet-evaclip HEAD (2024-05-06), what an install of it checks out.</summary>
    public const string EvaClipCommit = "39966e79a5291b9fef8b42de69057dd3b19f4c23";

    /// <summary>The EVA-CLIP preprocessor's name and label (sd-webui-controlnet-evaclip@39966e7 scripts/preprocessor_evaclip.py:23).</summary>
    public const string EvaClipModuleName = "EVA02-CLIP-L-14-336";

    /// <summary>Its sorting_priority (preprocessor_evaclip.py:29): it sorts among the priority-100 preprocessors.</summary>
    public const int EvaClipPriority = 100;

    /// <summary>
    /// The EVA-CLIP preprocessor as module_list shows it: no tags, not model-free, no visible slider, returns an embedding
    /// (preprocessor_evaclip.py:21-31; registered at :101).
    /// </summary>
    public static CnModule EvaClipModule { get; } =
        new(EvaClipModuleName, EvaClipModuleName, ModelFree: false, Tag: "", RequiresMask: false, ReturnsTensor: true, Tags: [], Sliders: new JsonArray());

    /// <summary>The FaceID preprocessors (insightface buffalo_l; preprocessor_compiled.py:467-500 at 56cec5b).</summary>
    public const string FaceId = "ip-adapter_face_id";

    /// <summary>FaceID Plus: buffalo_l embedding plus CLIP-H on the whole image (processor.py:766-770).</summary>
    public const string FaceIdPlus = "ip-adapter_face_id_plus";

    /// <summary>InstantID's embedding unit (antelopev2, preprocessor_compiled.py:380-396).</summary>
    public const string InstantIdEmbedding = "instant_id_face_embedding";

    /// <summary>InstantID's keypoints unit, which draws antelopev2's five points (preprocessor_compiled.py:397-412).</summary>
    public const string InstantIdKeypoints = "instant_id_face_keypoints";

    /// <summary>PuLID: antelopev2 embedding, facexlib alignment, then EVA-CLIP (scripts/preprocessor/pulid.py:106-172).</summary>
    public const string PuLid = "ip-adapter_pulid";

    /// <summary>Preprocessors that run insightface on their input and fail when it finds no face (processor.py:652-657).</summary>
    public static bool UsesInsightFace(string module) =>
        module is FaceId or FaceIdPlus or InstantIdEmbedding or InstantIdKeypoints or PuLid;

    /// <summary>Preprocessors whose input is the person's face: the mock blends it into the render (see IdentityRender).</summary>
    public static bool CarriesIdentity(string module) => module is FaceId or FaceIdPlus or InstantIdEmbedding or PuLid;

    /// <summary>
    /// StableDiffusionVersion.detect_from_model_name (enums.py:47-61): "sd14/15/16" → SD1x, "sd21"/"2.1" → SD2x, "xl" → SDXL,
    /// else UNKNOWN; read from the model name as the unit sends it, before any lookup.
    /// </summary>
    public static SdVersion GuessFromModelName(string modelName)
    {
        var lower = modelName.ToLowerInvariant();
        if (lower.Contains("sd14", StringComparison.Ordinal) || lower.Contains("sd15", StringComparison.Ordinal) || lower.Contains("sd16", StringComparison.Ordinal))
        {
            return SdVersion.SD1x;
        }

        if (modelName.Contains("sd21", StringComparison.Ordinal) || modelName.Contains("2.1", StringComparison.Ordinal))
        {
            return SdVersion.SD2x;
        }

        return lower.Contains("xl", StringComparison.Ordinal) ? SdVersion.SDXL : SdVersion.UNKNOWN;
    }

    /// <summary>is_compatible_with (enums.py:149-154): incompatible only when exactly one of the two is SDXL.</summary>
    public static bool Compatible(SdVersion a, SdVersion b) =>
        a == SdVersion.UNKNOWN || b == SdVersion.UNKNOWN || (a == SdVersion.SDXL) == (b == SdVersion.SDXL);

    /// <summary>
    /// Whether a unit may take several images (<c>[{"image":…},…]</c>): ≥1.1.448 any IP-Adapter-tagged preprocessor
    /// (internal_controlnet/args.py:239-268 at 56cec5b), so not InstantID's; ≤1.1.447 a fixed list that has InstantID's
    /// embedding but not PuLID, which d702830f (#2843) added after the webui-1.8 pin (external_code.py:226-235 at 3d75bd08).
    /// </summary>
    public static bool AcceptsMultipleInputs(CnModule module, UnitDialect dialect) => dialect == UnitDialect.Dataclass
        ? module.Name is "ip-adapter_clip_sdxl" or "ip-adapter_clip_sdxl_plus_vith" or "ip-adapter_clip_sd15" or FaceId or FaceIdPlus or InstantIdEmbedding
        : module.Tags.Contains("IP-Adapter");

    /// <summary>
    /// The control model type ControlNet loads a file as, from its name where the mock has no state dict: "instant_id" in a
    /// ControlNet file → InstantID (controlnet_model_guess.py:233-234), an IP-Adapter file → IPAdapter (:283-285).
    /// </summary>
    public static bool IsInstantIdControlNet(string model) =>
        model.Contains("instant_id", StringComparison.OrdinalIgnoreCase) && !IsIpAdapterModel(model);

    /// <summary>True for an IP-Adapter model file (its state dict has "ip_adapter"); by name here.</summary>
    public static bool IsIpAdapterModel(string model) => model.StartsWith("ip-adapter", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// What the box's sd-webui-controlnet has beyond its pinned preprocessors: its unit slots (fixed at start, as the option needs a
/// restart) and, read at each request from <see cref="Lacking"/>, the EVA-CLIP extension and the insightface package.
/// </summary>
internal sealed class ControlNetBox(int unitCount, Lacking lacking)
{
    /// <summary>A box with the default 3 slots that lacks nothing.</summary>
    public static ControlNetBox Default { get; } = new(Catalog.DefaultControlNetUnitCount, new Lacking(new HashSet<string>()));

    /// <summary>control_net_unit_count at start: units past it are never read (A1111 api.py:335-361, args_to).</summary>
    public int UnitCount { get; } = unitCount;

    /// <summary>sd-webui-controlnet-evaclip is installed (not <c>--without evaclip</c>).</summary>
    public bool HasEvaClip => !lacking.Name(IdentityCatalog.EvaClipLacking);

    /// <summary>insightface imports (not <c>--without insightface</c>).</summary>
    public bool HasInsightFace => !lacking.Name(IdentityCatalog.InsightFaceLacking);
}
