using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Miaoya.FaceSwap;

/// <summary>
/// An expected model input or output, matched by position. <see cref="Dims"/> uses −1 for "any"; a model dimension
/// that is dynamic (−1 in ONNX Runtime's metadata) matches any expected value.
/// </summary>
public sealed record TensorSpec(string Role, IReadOnlyList<long> Dims)
{
    /// <summary>The shape as text, "?" for any.</summary>
    public string Shape => FormatDims(Dims);

    internal static string FormatDims(IEnumerable<long> dims) =>
        "[" + string.Join(",", dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>
    /// True when <paramref name="actual"/> fits. With <paramref name="allowBatch"/>, an extra leading dimension of 1
    /// (or dynamic) is accepted (SCRFD "batched" exports, deepinsight/insightface v0.7
    /// python-package/insightface/model_zoo/scrfd.py:100-101).
    /// </summary>
    internal bool Matches(IReadOnlyList<long> actual, bool allowBatch)
    {
        var offset = 0;
        if (allowBatch && actual.Count == Dims.Count + 1 && actual[0] is 1 or -1)
        {
            offset = 1;
        }

        if (actual.Count - offset != Dims.Count)
        {
            return false;
        }

        for (var i = 0; i < Dims.Count; i++)
        {
            var a = actual[i + offset];
            if (Dims[i] >= 0 && a >= 0 && a != Dims[i])
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A model file the face swap needs: what it is, its signature, where it comes from, its licence.</summary>
public sealed record ModelSpec(
    string FileName,
    string Task,
    IReadOnlyList<TensorSpec> Inputs,
    IReadOnlyList<TensorSpec> Outputs,
    string Source,
    string Sha256,
    string Licence,
    bool BatchedOutputsAllowed = false)
{
    /// <summary>"inputs [..], [..] and outputs [..]" for error messages.</summary>
    public string Signature =>
        $"inputs {string.Join(", ", Inputs.Select(i => $"{i.Role} {i.Shape}"))} and outputs {string.Join(", ", Outputs.Select(o => $"{o.Role} {o.Shape}"))} (float32)";
}

/// <summary>
/// The three insightface models of the inswapper face swap: buffalo_l's det_10g and w600k_r50, and
/// inswapper_128 (deepinsight/insightface v0.7 python-package/insightface/model_zoo/model_zoo.py:47-56 tells them apart
/// by their inputs and outputs).
/// </summary>
public static class ModelRegistry
{
    private const string Buffalo = "https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip";
    private const string NonCommercial = "insightface model: non-commercial research purposes only (insightface python-package README)";

    /// <summary>Printed once, the first time an insightface model is loaded.</summary>
    public const string LicenceNotice =
        "Note: det_10g.onnx, w600k_r50.onnx and inswapper_128.onnx are insightface models, \"available for non-commercial " +
        "research purposes only\" (insightface README). Make sure your use is allowed.";

    /// <summary>
    /// SCRFD-10GF detector (buffalo_l). Input [1,3,H,W] (used at 640×640); 9 outputs by position (scrfd.py:118-122,
    /// 160-174).
    /// </summary>
    public static readonly ModelSpec Det10g = new(
        "det_10g.onnx",
        "face detection (SCRFD-10GF)",
        [new("image", [1, 3, -1, -1])],
        [
            new("score stride 8", [-1, 1]), new("score stride 16", [-1, 1]), new("score stride 32", [-1, 1]),
            new("bbox stride 8", [-1, 4]), new("bbox stride 16", [-1, 4]), new("bbox stride 32", [-1, 4]),
            new("kps stride 8", [-1, 10]), new("kps stride 16", [-1, 10]), new("kps stride 32", [-1, 10]),
        ],
        Buffalo,
        "5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91",
        NonCommercial,
        BatchedOutputsAllowed: true);

    /// <summary>
    /// ArcFace ResNet50 @ WebFace600K (buffalo_l): [1,3,112,112] → [1,512] (insightface's arcface_onnx.py,
    /// ArcFaceONNX).
    /// </summary>
    public static readonly ModelSpec ArcFace = new(
        "w600k_r50.onnx",
        "face recognition (ArcFace w600k_r50)",
        [new("aligned face", [1, 3, 112, 112])],
        [new("embedding", [1, 512])],
        Buffalo,
        "4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43",
        NonCommercial);

    /// <summary>
    /// inswapper_128: target [1,3,128,128], source [1,512] → output [1,3,128,128] (model_zoo.py:53; inswapper.py:33,
    /// 53).
    /// </summary>
    public static readonly ModelSpec Inswapper = new(
        "inswapper_128.onnx",
        "face swap (inswapper_128)",
        [new("target", [1, 3, 128, 128]), new("source", [1, 512])],
        [new("output", [1, 3, 128, 128])],
        "insightface inswapper_128.onnx (no longer distributed by insightface; sha256 as listed by sd-webui-reactor)",
        "e4a3f08c753cb72d04e10aa0f7dbe3deebbf39567d4ead6dce08e98aa49e16af",
        NonCommercial);

    /// <summary>All entries.</summary>
    public static IReadOnlyList<ModelSpec> All { get; } = [Det10g, ArcFace, Inswapper];

    /// <summary>The ONNX <c>producer_name</c> of the repository's tiny stand-in models, set by their generator scripts.</summary>
    public const string StandInProducer = "miaoya-stand-in";

    /// <summary>
    /// True when the ONNX file at <paramref name="path"/> is one of the repository's tiny stand-ins (its
    /// <c>producer_name</c> is <see cref="StandInProducer"/>), read from the file without an ONNX Runtime session; false
    /// for any other file, and for one that is missing or not ONNX (loading it says why).
    /// </summary>
    public static bool IsStandIn(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return string.Equals(OnnxInitializerReader.ReadProducerName(path), StandInProducer, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// What a stand-in <c>det_10g.onnx</c> in <paramref name="modelsFolder"/> means for the swap: it finds only white
    /// squares on black (tests/Miaoya.FaceSwap.Tests/StandInModels/README.md), no face in a photo, so the built-in BlazeFace
    /// detects instead. Null when the folder's det_10g.onnx is not a stand-in (or is missing).
    /// </summary>
    public static string? StandInDetectorNote(string modelsFolder)
    {
        ArgumentNullException.ThrowIfNull(modelsFolder);
        var path = Path.Combine(modelsFolder, Det10g.FileName);
        return File.Exists(path) && IsStandIn(path)
            ? $"{path} is the repository's stand-in for SCRFD, which finds only white squares on black and no face in a photo: detecting with the built-in BlazeFace instead (a real swap needs insightface's det_10g.onnx)."
            : null;
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> naming <paramref name="path"/> and the expected shapes when the session's
    /// inputs and outputs (by position) are not those of <paramref name="spec"/>.
    /// </summary>
    public static void CheckSignature(InferenceSession session, ModelSpec spec, string path)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(spec);
        var ok = Fits(session.InputNames, session.InputMetadata, spec.Inputs, false)
            && Fits(session.OutputNames, session.OutputMetadata, spec.Outputs, spec.BatchedOutputsAllowed);
        if (ok)
        {
            return;
        }

        static string Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> meta) =>
            string.Join(", ", names.Select(n => $"'{n}' {TensorSpec.FormatDims(meta[n].Dimensions.Select(d => (long)d))} {meta[n].ElementDataType}"));

        throw new InvalidDataException(
            $"{Path.GetFileName(path)} is not {spec.FileName} ({spec.Task}): expected {spec.Signature}; " +
            $"the file has inputs {Describe(session.InputNames, session.InputMetadata)} and outputs {Describe(session.OutputNames, session.OutputMetadata)}.");
    }

    private static bool Fits(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> meta, IReadOnlyList<TensorSpec> expected, bool allowBatch)
    {
        if (names.Count != expected.Count)
        {
            return false;
        }

        for (var i = 0; i < names.Count; i++)
        {
            var m = meta[names[i]];
            if (!m.IsTensor || m.ElementDataType != TensorElementType.Float || !expected[i].Matches([.. m.Dimensions.Select(d => (long)d)], allowBatch))
            {
                return false;
            }
        }

        return true;
    }
}
