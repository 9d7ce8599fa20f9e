using Miaoya.FaceSwap;

namespace Miaoya.Likeness;

/// <summary>The scoring models: signature, source and licence (the <see cref="ModelRegistry"/> entries' shape).</summary>
internal static class ScorerModels
{
    /// <summary>The environment variable that refuses insightface's models (PortraitPipeline.DisableInsightfaceVariable).</summary>
    public const string DisableInsightfaceVariable = "MIAOYA_DISABLE_INSIGHTFACE";

    /// <summary>
    /// OpenCV Zoo SFace. Input: one aligned 112×112 face, NCHW, RGB, raw 0–255 (OpenCV's FaceRecognizerSF::feature calls
    /// <c>blobFromImage(img, 1, Size(112, 112), Scalar(0, 0, 0), swapRB=true, crop=false)</c> on a BGR crop,
    /// opencv/opencv@0692bb41f5afd79dd8c0d943ddf42a0b87397ab8:modules/objdetect/src/face_recognize.cpp:56-61). Output:
    /// [1,128] (opencv/opencv_zoo issue #114 shows "rows=1 cols=128"). The tensor names in the file are "data" and "fc1"
    /// (a third-party model table; this check goes by position and shape, like <see cref="ModelRegistry"/>). Source and
    /// sha256: the Git LFS pointer at opencv/opencv_zoo@966be4cb6eefc2a4f586ed0581bf4bbaa2533070:
    /// models/face_recognition_sface/face_recognition_sface_2021dec.onnx (38,696,353 bytes); licence: Apache-2.0,
    /// models/face_recognition_sface/README.md:61-63 and LICENSE in the same folder.
    /// </summary>
    public static readonly ModelSpec SFace = new(
        "face_recognition_sface_2021dec.onnx",
        "face recognition (OpenCV Zoo SFace, 128-d)",
        [new("aligned face", [1, 3, 112, 112])],
        [new("embedding", [1, 128])],
        "https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface",
        "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
        "Apache-2.0 (OpenCV Zoo, models/face_recognition_sface/LICENSE)");

    /// <summary>insightface w600k_r50 (<see cref="ModelRegistry.ArcFace"/>).</summary>
    public static ModelSpec ArcFace => ModelRegistry.ArcFace;

    public static ModelSpec For(ScorerKind kind) => kind switch
    {
        ScorerKind.SFace => SFace,
        ScorerKind.ArcFace => ArcFace,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown scorer."),
    };

    /// <summary>True when the deployment refuses insightface's models (<c>MIAOYA_DISABLE_INSIGHTFACE</c> is <c>1</c> or <c>true</c>, as the face swap reads it).</summary>
    public static bool InsightfaceDisabled =>
        Environment.GetEnvironmentVariable(DisableInsightfaceVariable) is "1" or "true";
}
