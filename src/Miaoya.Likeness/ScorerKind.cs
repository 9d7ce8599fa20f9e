namespace Miaoya.Likeness;

/// <summary>Which face-recognition model scores likeness.</summary>
public enum ScorerKind
{
    /// <summary>
    /// OpenCV Zoo SFace (MobileFaceNet trained with the SFace loss), <c>face_recognition_sface_2021dec.onnx</c>: 112×112
    /// aligned face → 128-d. Apache-2.0; the default, because it did not condition any image the pipeline makes.
    /// </summary>
    SFace,

    /// <summary>
    /// insightface ArcFace w600k_r50 (buffalo_l), <c>w600k_r50.onnx</c>: 112×112 → 512-d. Non-commercial research only,
    /// refused when <c>MIAOYA_DISABLE_INSIGHTFACE</c> is set; it is also the model that conditions V3's face swap, so it
    /// flatters V3 results.
    /// </summary>
    ArcFace,
}
