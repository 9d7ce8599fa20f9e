namespace Miaoya.Faces;

/// <summary>A detection: coordinates normalised to the square model input (0..1) after decoding, source pixels after <see cref="Letterbox.ToSource"/>.</summary>
internal readonly record struct NormalizedDetection(float XMin, float YMin, float XMax, float YMax, float Score, float[] Keypoints)
{
    public float Area => MathF.Max(0, XMax - XMin) * MathF.Max(0, YMax - YMin);
}

/// <summary>
/// Anchors, decoding and weighted NMS of MediaPipe BlazeFace: the SsdAnchorsCalculator, TensorsToDetectionsCalculator
/// and NonMaxSuppressionCalculator options of google/mediapipe 9d880778
/// mediapipe/modules/face_detection/face_detection.pbtxt:93-155.
/// </summary>
internal static class BlazeFaceDecoder
{
    public const int AnchorCount = 896;
    public const int CoordsPerAnchor = 16;
    public const int KeypointCount = 6;

    /// <summary>
    /// (grid, anchors per cell) per output layer: 16×16×2 = 512 then 8×8×6 = 384 (strides 8, 16, 16, 16 with
    /// interpolated_scale_aspect_ratio 1, face_detection_short_range.pbtxt:41-46; equal strides share one grid,
    /// mediapipe/calculators/tflite/ssd_anchors_calculator.cc:298-332).
    /// </summary>
    internal static readonly (int Grid, int PerCell)[] Layers = [(16, 2), (8, 6)];

    /// <summary>
    /// Anchor centres, x then y, normalised. Fixed anchor size ⇒ w = h = 1; order y outer, x inner, anchor innermost,
    /// first layer first (ssd_anchors_calculator.cc:353-376, GenerateAnchors).
    /// </summary>
    internal static readonly float[] Anchors = BuildAnchors();

    private static float[] BuildAnchors()
    {
        var anchors = new float[AnchorCount * 2];
        var i = 0;
        foreach (var (grid, perCell) in Layers)
        {
            for (var y = 0; y < grid; y++)
            {
                for (var x = 0; x < grid; x++)
                {
                    for (var n = 0; n < perCell; n++)
                    {
                        anchors[i++] = (x + 0.5f) / grid;
                        anchors[i++] = (y + 0.5f) / grid;
                    }
                }
            }
        }

        return anchors;
    }

    /// <summary>
    /// sigmoid(clamp(raw, −100, 100)) (score_clipping_thresh 100, face_detection.pbtxt:130-131;
    /// mediapipe/calculators/tensor/tensors_to_detections_calculator.cc:433-441).
    /// </summary>
    internal static float Score(float raw) => 1f / (1f + MathF.Exp(-Math.Clamp(raw, -100f, 100f)));

    /// <summary>
    /// Decodes one output layer. <paramref name="firstAnchor"/> is the index of the layer's first anchor.
    /// Box and keypoints are input pixels relative to the anchor centre, XYWH (reverse_output_order,
    /// face_detection.pbtxt:132), no exp on sizes (apply_exponential_on_box_size unset;
    /// tensors_to_detections_calculator.cc, DecodeBoxes).
    /// </summary>
    internal static void DecodeLayer(
        ReadOnlySpan<float> scores,
        ReadOnlySpan<float> regressors,
        int firstAnchor,
        int inputSize,
        float minScore,
        List<NormalizedDetection> into)
    {
        if (regressors.Length != scores.Length * CoordsPerAnchor)
        {
            throw new ArgumentException($"{scores.Length} scores but {regressors.Length} regressor values.", nameof(regressors));
        }

        var s = (float)inputSize;
        for (var i = 0; i < scores.Length; i++)
        {
            var score = Score(scores[i]);
            if (score < minScore)
            {
                continue;
            }

            var anchor = firstAnchor + i;
            var ax = Anchors[anchor * 2];
            var ay = Anchors[(anchor * 2) + 1];
            var r = regressors.Slice(i * CoordsPerAnchor, CoordsPerAnchor);
            var cx = (r[0] / s) + ax;
            var cy = (r[1] / s) + ay;
            var w = r[2] / s;
            var h = r[3] / s;
            if (!(w > 0 && h > 0))
            {
                continue;
            }

            var kp = new float[KeypointCount * 2];
            for (var k = 0; k < KeypointCount; k++)
            {
                kp[2 * k] = (r[4 + (2 * k)] / s) + ax;
                kp[(2 * k) + 1] = (r[5 + (2 * k)] / s) + ay;
            }

            into.Add(new NormalizedDetection(cx - (w / 2), cy - (h / 2), cx + (w / 2), cy + (h / 2), score, kp));
        }
    }

    internal static float IoU(in NormalizedDetection a, in NormalizedDetection b)
    {
        var iw = MathF.Min(a.XMax, b.XMax) - MathF.Max(a.XMin, b.XMin);
        var ih = MathF.Min(a.YMax, b.YMax) - MathF.Max(a.YMin, b.YMin);
        if (iw <= 0 || ih <= 0)
        {
            return 0;
        }

        var inter = iw * ih;
        var union = a.Area + b.Area - inter;
        return union <= 0 ? 0 : inter / union;
    }

    /// <summary>
    /// MediaPipe's WEIGHTED non-maximum suppression (face_detection.pbtxt:144-155; mediapipe/calculators/util/
    /// non_max_suppression_calculator.cc, WeightedNonMaxSuppression): sorted by score, the top detection and every
    /// remaining one with IoU above the threshold form a group; the output is the score-weighted mean of box corners and
    /// keypoints, with the top detection's score.
    /// </summary>
    internal static List<NormalizedDetection> WeightedNms(List<NormalizedDetection> detections, float iouThreshold)
    {
        var remaining = detections.OrderByDescending(d => d.Score).ToList();
        var result = new List<NormalizedDetection>();
        var group = new List<NormalizedDetection>();
        while (remaining.Count > 0)
        {
            var top = remaining[0];
            group.Clear();
            for (var i = remaining.Count - 1; i >= 0; i--)
            {
                if (i == 0 || IoU(top, remaining[i]) > iouThreshold)
                {
                    group.Add(remaining[i]);
                    remaining.RemoveAt(i);
                }
            }

            float total = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
            var kp = new float[KeypointCount * 2];
            foreach (var d in group)
            {
                total += d.Score;
                x0 += d.XMin * d.Score;
                y0 += d.YMin * d.Score;
                x1 += d.XMax * d.Score;
                y1 += d.YMax * d.Score;
                for (var k = 0; k < kp.Length; k++)
                {
                    kp[k] += d.Keypoints[k] * d.Score;
                }
            }

            for (var k = 0; k < kp.Length; k++)
            {
                kp[k] /= total;
            }

            result.Add(new NormalizedDetection(x0 / total, y0 / total, x1 / total, y1 / total, top.Score, kp));
        }

        return result;
    }

    /// <summary>
    /// True when the keypoints are laid out like a human face: relative to the eye line, nose and mouth lie on the same
    /// side, the mouth farther than the nose and 0.45–1.6 eye distances away; the eye distance is 0.2–0.7 of the box;
    /// nose and mouth lie between the eyes across the face. Works for any in-plane rotation.
    /// </summary>
    internal static bool HasPlausibleLandmarks(in NormalizedDetection d)
    {
        var kp = d.Keypoints;
        float ex0 = kp[0], ey0 = kp[1], ex1 = kp[2], ey1 = kp[3], nx = kp[4], ny = kp[5], mx = kp[6], my = kp[7];
        var eyeDx = ex1 - ex0;
        var eyeDy = ey1 - ey0;
        var eyeDistance = MathF.Sqrt((eyeDx * eyeDx) + (eyeDy * eyeDy));
        var size = MathF.Max(d.XMax - d.XMin, d.YMax - d.YMin);
        if (eyeDistance < 0.2f * size || eyeDistance > 0.7f * size)
        {
            return false;
        }

        // Face frame: u along the eye line, v perpendicular (pointing to the side the mouth is on).
        var ux = eyeDx / eyeDistance;
        var uy = eyeDy / eyeDistance;
        var cx = (ex0 + ex1) / 2;
        var cy = (ey0 + ey1) / 2;
        var mouthV = ((mx - cx) * -uy) + ((my - cy) * ux);
        var noseV = ((nx - cx) * -uy) + ((ny - cy) * ux);
        var noseU = ((nx - cx) * ux) + ((ny - cy) * uy);
        var mouthU = ((mx - cx) * ux) + ((my - cy) * uy);

        // Eyes-to-mouth distance of a human face is about 0.7–1.3 eye distances; nose between eyes and mouth.
        var mouthRatio = MathF.Abs(mouthV) / eyeDistance;
        return mouthRatio is > 0.45f and < 1.6f
            && MathF.Sign(noseV) == MathF.Sign(mouthV)
            && MathF.Abs(noseV) < MathF.Abs(mouthV)
            && MathF.Abs(noseU) < 0.6f * eyeDistance
            && MathF.Abs(mouthU) < 0.6f * eyeDistance;
    }
}
