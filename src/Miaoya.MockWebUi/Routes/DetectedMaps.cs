using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.MockWebUi;

/// <summary>ControlNet preprocessor output: detected maps (an openpose skeleton from the located face) and openpose's JSON.</summary>
internal static class DetectedMaps
{
    /// <summary>The map <paramref name="module"/> detects in <paramref name="input"/>, at <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static Image<Rgba32> Render(CnModule module, Image<Rgba32> input, int width, int height)
    {
        if (module.Name.Contains("openpose", StringComparison.Ordinal))
        {
            var (body, face) = PoseKeypoints(input);
            float sx = (float)width / input.Width, sy = (float)height / input.Height;
            return Painter.PoseMap(width, height, body.Where(p => p.HasValue).Select(p => (new PointF(p!.Value.X * sx, p.Value.Y * sy), new Rgba32(255, 0, 85, 255)))
                .Concat(face.Select(p => (new PointF(p.X * sx, p.Y * sy), new Rgba32(255, 255, 255, 255)))));
        }

        return Painter.DetectedMap(input, module.Tag, width, height);
    }

    /// <summary>18 COCO body points (null = not visible) and 70 face points in input pixels.</summary>
    private static (PointF?[] Body, List<PointF> Face) PoseKeypoints(Image<Rgba32> input)
    {
        var box = FaceLocator.Locate(input);
        var face = FaceLocator.FaceLandmarks(box);
        float cx = box.X + (box.Width / 2), fw = box.Width, top = box.Y, bottom = box.Y + box.Height;
        PointF? Inside(float x, float y) => x >= 0 && y >= 0 && x < input.Width && y < input.Height ? new PointF(x, y) : null;
        var body = new PointF?[]
        {
            Inside(cx, top + (box.Height * 0.62f)),          // 0 nose
            Inside(cx, bottom + (fw * 0.45f)),                // 1 neck
            Inside(cx - (fw * 1.1f), bottom + (fw * 0.6f)),   // 2 right shoulder
            Inside(cx - (fw * 1.4f), bottom + (fw * 1.7f)),   // 3 right elbow
            Inside(cx - (fw * 1.3f), bottom + (fw * 2.7f)),   // 4 right wrist
            Inside(cx + (fw * 1.1f), bottom + (fw * 0.6f)),   // 5 left shoulder
            Inside(cx + (fw * 1.4f), bottom + (fw * 1.7f)),   // 6 left elbow
            Inside(cx + (fw * 1.3f), bottom + (fw * 2.7f)),   // 7 left wrist
            Inside(cx - (fw * 0.6f), bottom + (fw * 3.2f)),   // 8 right hip
            null, null,                                        // 9, 10 right knee/ankle
            Inside(cx + (fw * 0.6f), bottom + (fw * 3.2f)),   // 11 left hip
            null, null,                                        // 12, 13 left knee/ankle
            Inside(face[68].X, face[68].Y),                   // 14 right eye
            Inside(face[69].X, face[69].Y),                   // 15 left eye
            Inside(box.X + (fw * 0.05f), face[68].Y),         // 16 right ear
            Inside(box.X + (fw * 0.95f), face[69].Y),         // 17 left ear
        };
        return (body, face);
    }

    /// <summary>encode_poses_as_json shape: flat normalised triplets on the padded canvas (CN annotator/openpose/__init__.py:136-175).</summary>
    public static JsonObject PoseJson(Image<Rgba32> input, double k, int canvasW, int canvasH)
    {
        var (body, face) = PoseKeypoints(input);
        JsonArray Flat(IEnumerable<PointF?> pts)
        {
            var arr = new JsonArray();
            foreach (var p in pts)
            {
                if (p is { } v)
                {
                    arr.Add(Math.Round(v.X * k / canvasW, 6));
                    arr.Add(Math.Round(v.Y * k / canvasH, 6));
                    arr.Add(1.0);
                }
                else
                {
                    arr.Add(0.0);
                    arr.Add(0.0);
                    arr.Add(0.0);
                }
            }

            return arr;
        }

        return new JsonObject
        {
            ["people"] = new JsonArray(new JsonObject
            {
                ["pose_keypoints_2d"] = Flat(body),
                ["face_keypoints_2d"] = Flat(face.Select(p => (PointF?)p)),
                ["hand_left_keypoints_2d"] = null,
                ["hand_right_keypoints_2d"] = null,
            }),
            ["animals"] = new JsonArray(),
            ["canvas_width"] = canvasW,
            ["canvas_height"] = canvasH,
        };
    }
}
