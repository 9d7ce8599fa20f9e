using System.Globalization;

namespace Miaoya.Likeness;

/// <summary>
/// Whether a score is good enough: cosine to the centroid ≥ <paramref name="MinSimilarity"/> and similarity / baseline ≥
/// <paramref name="MinRatio"/> (identity-units.md §6.4: "≥ 0.40 absolute (ArcFace family) and ≥ 0.8 × baseline"; OpenCV
/// Zoo's own same-person threshold for SFace is 0.363, opencv/opencv_zoo@966be4cb6eefc2a4f586ed0581bf4bbaa2533070:
/// models/face_recognition_sface/sface.py:24).
/// </summary>
/// <param name="MinSimilarity">Least cosine to the centroid, in [−1, 1].</param>
/// <param name="MinRatio">Least similarity / baseline; 0 turns the ratio check off.</param>
public sealed record LikenessGate(double MinSimilarity, double MinRatio)
{
    /// <summary>0.40: the ArcFace-family "same identity" level (identity-units.md §6.2).</summary>
    public const double DefaultMinSimilarity = 0.40;

    /// <summary>0.8 × the person's own baseline (identity-units.md §6.4).</summary>
    public const double DefaultMinRatio = 0.8;

    /// <summary>The gate with the defaults.</summary>
    public static LikenessGate Default { get; } = new(DefaultMinSimilarity, DefaultMinRatio);

    /// <summary>
    /// Checks <paramref name="score"/>. Fails with "no face found" when nothing was scored; otherwise lists each failed
    /// threshold ("similarity 0.31 &lt; min_similarity 0.40", "ratio 0.62 &lt; min_ratio 0.8"). When there is no ratio
    /// (one reference photo, or a baseline ≤ 0) the ratio check is skipped and a reason beginning "ratio not checked"
    /// says so without failing the verdict.
    /// </summary>
    public LikenessVerdict Check(LikenessScore score)
    {
        ArgumentNullException.ThrowIfNull(score);
        if (score.Similarity is not { } similarity)
        {
            var why = score.FacesFound == 0
                ? "no face found"
                : string.Create(CultureInfo.InvariantCulture, $"no face at the asked-for face index ({score.FacesFound} {(score.FacesFound == 1 ? "face" : "faces")} found)");
            return new LikenessVerdict(false, [why]);
        }

        var reasons = new List<string>();
        var passed = true;
        if (similarity < MinSimilarity)
        {
            passed = false;
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"similarity {similarity:0.00} < min_similarity {MinSimilarity:0.00}"));
        }

        if (MinRatio > 0)
        {
            if (score.Ratio is { } ratio)
            {
                if (ratio < MinRatio)
                {
                    passed = false;
                    reasons.Add(string.Create(CultureInfo.InvariantCulture, $"ratio {ratio:0.00} < min_ratio {MinRatio:0.0#}"));
                }
            }
            else
            {
                reasons.Add(score.Baseline is null
                    ? "ratio not checked: no baseline (one reference photo; give two or more)"
                    : string.Create(CultureInfo.InvariantCulture, $"ratio not checked: baseline {score.Baseline:0.00} is not positive"));
            }
        }

        return new LikenessVerdict(passed, reasons);
    }
}

/// <summary>The outcome of <see cref="LikenessGate.Check"/>.</summary>
/// <param name="Passed">True when every check that ran passed.</param>
/// <param name="Reasons">Each failed check, and each check that was skipped ("ratio not checked: …"); empty for a clean pass.</param>
public sealed record LikenessVerdict(bool Passed, IReadOnlyList<string> Reasons);
