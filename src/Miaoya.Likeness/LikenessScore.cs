using SixLabors.ImageSharp;

namespace Miaoya.Likeness;

/// <summary>How much an image's face looks like the person.</summary>
/// <param name="Similarity">Cosine of the face's embedding to the reference centroid, in [−1, 1]; null when no face was scored.</param>
/// <param name="Baseline">The reference's <see cref="LikenessReference.Baseline"/>; null with one photo.</param>
/// <param name="Ratio"><paramref name="Similarity"/> / <paramref name="Baseline"/>; null without either, or when the baseline is not positive.</param>
/// <param name="FacesFound">Faces the detector found in the image.</param>
/// <param name="Face">The scored face's box in image pixels; null when none was scored.</param>
/// <param name="LocalWork">Wall time of the scoring outside ONNX Runtime: detector pre/post-processing, face selection, alignment warp, tensor fill, normalisation, cosine.</param>
/// <param name="Inference">Wall time inside ONNX Runtime runs (the detector's, as far as it reports them, and the scorer's).</param>
public sealed record LikenessScore(double? Similarity, double? Baseline, double? Ratio, int FacesFound, RectangleF? Face, TimeSpan LocalWork, TimeSpan Inference);
