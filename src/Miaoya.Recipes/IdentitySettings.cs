namespace Miaoya.Recipes;

/// <summary>The Stable Diffusion family a recipe's checkpoint and ControlNet models belong to. YAML: <c>sd15</c> | <c>sdxl</c>.</summary>
public enum ModelFamily
{
    /// <summary><c>sd15</c>: Stable Diffusion 1.5 (chilloutmix and the control_v11 models).</summary>
    Sd15,

    /// <summary><c>sdxl</c>: Stable Diffusion XL (1024-pixel buckets, the *_xl ControlNet models).</summary>
    Sdxl,
}

/// <summary>
/// How the person's identity reaches the image without a trained LoRA. YAML: <c>faceid</c> | <c>faceid_plus</c> |
/// <c>faceid_portrait</c> | <c>instantid</c> | <c>pulid</c>. Each maps to one sd-webui-controlnet preprocessor
/// (Mikubill/sd-webui-controlnet@56cec5b scripts/ipadapter/presets.py:25-28 and preprocessor_compiled.py:380-500).
/// </summary>
public enum IdentityMethod
{
    /// <summary><c>faceid</c>: IP-Adapter FaceID, module <c>ip-adapter_face_id</c> (insightface embedding only).</summary>
    FaceId,

    /// <summary><c>faceid_plus</c>: IP-Adapter FaceID Plus (v2), module <c>ip-adapter_face_id_plus</c> (embedding + CLIP-H of the whole unit image).</summary>
    FaceIdPlus,

    /// <summary><c>faceid_portrait</c>: IP-Adapter FaceID Portrait, module <c>ip-adapter_face_id</c>, several photos, no companion LoRA.</summary>
    FaceIdPortrait,

    /// <summary><c>instantid</c>: InstantID, SDXL only: an embedding unit immediately followed by a keypoints unit.</summary>
    InstantId,

    /// <summary><c>pulid</c>: PuLID, SDXL only, module <c>ip-adapter_pulid</c>; needs the EVA-CLIP preprocessor extension.</summary>
    PuLid,
}

/// <summary>PuLID's <c>pulid_mode</c>. YAML: <c>fidelity</c> | <c>extremely_style</c> (sd-webui-controlnet scripts/enums.py:242-244).</summary>
public enum PulidMode
{
    /// <summary><c>fidelity</c>: sent as <c>Fidelity</c>.</summary>
    Fidelity,

    /// <summary><c>extremely_style</c>: sent as <c>Extremely style</c>.</summary>
    ExtremelyStyle,
}

/// <summary>
/// The <c>identity</c> section: one identity unit (two for InstantID) put first on the listed generation steps, with the
/// person's face photos (<c>--face</c>, one or several) as its image, so a run needs no trained LoRA (and can layer one
/// on top of the person's LoRA when <c>--lora</c> is given too).
/// </summary>
public sealed record IdentitySettings
{
    /// <summary><c>method</c>.</summary>
    public required IdentityMethod Method { get; init; }

    /// <summary><c>steps</c>: the generation steps that carry the unit(s), <c>inpaint</c> and/or <c>img2img</c>.</summary>
    public required IReadOnlyList<string> Steps { get; init; }

    /// <summary><c>module</c>: the preprocessor, e.g. <c>ip-adapter_face_id_plus</c>.</summary>
    public required string Module { get; init; }

    /// <summary><c>model</c>: the IP-Adapter (or InstantID embedding) model, as the box lists it without its hash.</summary>
    public required string Model { get; init; }

    /// <summary><c>weight</c>, 0..2.</summary>
    public required double Weight { get; init; }

    /// <summary><c>guidance_start</c>, 0..1.</summary>
    public double GuidanceStart { get; init; }

    /// <summary><c>guidance_end</c>, 0..1.</summary>
    public double GuidanceEnd { get; init; } = 1;

    /// <summary><c>control_mode</c> (ignored by IP-Adapter units, read by InstantID's).</summary>
    public ControlModeKind ControlMode { get; init; } = ControlModeKind.Balanced;

    /// <summary><c>lora</c>: the companion LoRA the method needs in the prompt (the extension never adds it); null = none.</summary>
    public string? Lora { get; init; }

    /// <summary><c>lora_weight</c>, 0..2.</summary>
    public double LoraWeight { get; init; } = 0.6;

    /// <summary><c>crop_padding</c>: margin around the face in the unit image, as a fraction of the face size (0..1).</summary>
    public double CropPadding { get; init; } = 0.25;

    /// <summary><c>crop_size</c>: side of the square face crop sent as the unit image, pixels (64..1024).</summary>
    public int CropSize { get; init; } = 512;

    /// <summary><c>pulid_mode</c>; PuLID only, null otherwise.</summary>
    public PulidMode? PulidMode { get; init; }

    /// <summary><c>keypoints</c>: InstantID's second unit; null for the other methods.</summary>
    public IdentityKeypointsSettings? Keypoints { get; init; }

    /// <summary>The number of ControlNet units the method adds to each of its steps.</summary>
    public int UnitCount => Keypoints is null ? 1 : 2;

    /// <inheritdoc />
    public bool Equals(IdentitySettings? other) =>
        other is not null
        && Method == other.Method
        && Steps.SequenceEqual(other.Steps, StringComparer.Ordinal)
        && Module == other.Module
        && Model == other.Model
        && Weight.Equals(other.Weight)
        && GuidanceStart.Equals(other.GuidanceStart)
        && GuidanceEnd.Equals(other.GuidanceEnd)
        && ControlMode == other.ControlMode
        && Lora == other.Lora
        && LoraWeight.Equals(other.LoraWeight)
        && CropPadding.Equals(other.CropPadding)
        && CropSize == other.CropSize
        && PulidMode == other.PulidMode
        && Equals(Keypoints, other.Keypoints);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Method, Module, Model, Weight, Lora, CropSize);
}

/// <summary>InstantID's keypoints unit (<c>identity.keypoints</c>): the face's five points drawn from <see cref="Image"/>.</summary>
/// <param name="Module">Preprocessor, <c>instant_id_face_keypoints</c>.</param>
/// <param name="Model">ControlNet model, e.g. <c>control_instant_id_sdxl</c>.</param>
/// <param name="Weight">0..2.</param>
/// <param name="GuidanceStart">0..1.</param>
/// <param name="GuidanceEnd">0..1.</param>
/// <param name="ControlMode">balanced, prompt or controlnet.</param>
/// <param name="Image">The pose source: the template (default) or the step's previous image.</param>
public sealed record IdentityKeypointsSettings(
    string Module, string Model, double Weight, double GuidanceStart, double GuidanceEnd, ControlModeKind ControlMode, UnitImageSource Image);

/// <summary>The face-recognition model that scores candidates. YAML: <c>sface</c> | <c>arcface</c>.</summary>
public enum ScorerChoice
{
    /// <summary><c>sface</c>: OpenCV Zoo's SFace (Apache-2.0), independent of the ArcFace models that condition FaceID and V3.</summary>
    SFace,

    /// <summary><c>arcface</c>: insightface's w600k_r50 (non-commercial; the same family FaceID and inswapper use).</summary>
    ArcFace,
}

/// <summary>
/// The <c>candidates</c> section: render <see cref="Count"/> candidates (seed, seed+1, …), score each one's face against
/// the person's face photos, and keep the best that passes both gates as <c>final.png</c>.
/// </summary>
/// <param name="Count">Candidates per run, 1..16 (1 = no selection, but still scored when face photos are given).</param>
/// <param name="Scorer">The face-recognition model.</param>
/// <param name="MinSimilarity">Gate: the least cosine similarity to the centroid of the person's photos (0..1).</param>
/// <param name="MinRatio">Gate: the least similarity / the person's own leave-one-out baseline (0..2); needs two or more photos.</param>
public sealed record CandidatesSettings(int Count, ScorerChoice Scorer, double MinSimilarity, double MinRatio)
{
    /// <summary>What a recipe without the section gets: one candidate, SFace, the gates of an ArcFace-family scorer.</summary>
    public static CandidatesSettings Default { get; } = new(1, ScorerChoice.SFace, 0.40, 0.8);
}
